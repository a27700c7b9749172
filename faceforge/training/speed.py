"""How a run goes fast on this machine: precision, memory format, each convolution's kernel, the optimiser's form.

Nothing here is chosen by hand. Where the config leaves a choice open it is measured on the run's own models (and
the timings remembered per machine, see faceforge/timings.py); the Trainer writes what was chosen back into the
run's config, so a resumed run computes exactly what it computed before.
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import torch

from faceforge.config import TrainConfig
from faceforge.frozen import is_frozen
from faceforge.device import PerfChoice, choose_perf
from faceforge.models import capabilities
from faceforge.models.gemm_conv import set_gemm_layers, tune_gemm_layers
from faceforge.timings import remembered


class Measuring:
    """What the measurements at set-up share: Stop cancels between them, the pause they cause is explained once,
    and whether any answer came from an earlier run is noted."""

    def __init__(self, *, should_stop: Callable[[], bool], say: Callable[[str], None]):
        self.should_stop = should_stop
        self.say = say
        self._said = False
        self.from_memory = False

    def check(self) -> None:
        if self.should_stop():
            from faceforge.tasks import Cancelled

            raise Cancelled("stopped while measuring this machine's kernels, before training started")

    def remember(self, kind: str, key: dict[str, Any], measure: Callable[[], Any]) -> Any:
        def announced() -> Any:
            if not self._said:  # most of a minute at 128 px the first time: say why nothing happens
                self._said = True
                self.say("Timing this machine's kernels for this model size (once; remembered for later runs)…")
            return measure()

        result, again = remembered(kind, key, announced)
        self.from_memory |= again
        return result

    def note(self) -> str:
        return " (timings remembered from an earlier measurement on this machine)" if self.from_memory else ""


def shape_key(cfg: TrainConfig) -> dict[str, Any]:
    """What the kernels' speed depends on besides the machine: layer shapes (model and batch) and the loss."""
    return {"model": cfg.model.to_dict(), "batch": cfg.schedule.batch_size, "loss": cfg.loss.kind}


def probe_step(G: torch.nn.Module, D: torch.nn.Module, cfg: TrainConfig, precision: str, channels_last: bool,
               reps: int = 2) -> float:
    """Seconds for one forward+backward of G and D with this precision and memory format, on throwaway copies
    (the real models' weights and RNG streams are untouched, so choosing costs nothing in reproducibility)."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    G2, D2 = copy.deepcopy(G).to(memory_format=fmt), copy.deepcopy(D).to(memory_format=fmt)
    if capabilities(cfg.model.name).progressive:  # time the full-size network the run grows into, not its 4x4 start
        for m in (G2, D2):
            m.grow(1 << 62)
    gen = torch.Generator().manual_seed(0)
    B = cfg.schedule.batch_size
    z = torch.randn(B, cfg.model.z_dim, generator=gen)
    y = torch.randn(B, cfg.model.n_attributes, generator=gen) if cfg.model.n_attributes else None
    dtype = torch.bfloat16 if precision == "bf16" else None
    best = float("inf")
    for i in range(reps + 1):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            out = D2(G2(z, y), y)
        out.float().mean().backward()
        if i:  # the first pass picks kernels and allocates; not counted
            best = min(best, time.perf_counter() - t0)
    return best


def choose_precision(G: torch.nn.Module, D: torch.nn.Module, cfg: TrainConfig, measuring: Measuring) -> PerfChoice:
    """Device, precision and memory format (device.choose_perf), timed on these models where left open."""
    def probe(precision: str, channels_last: bool) -> float:
        measuring.check()
        return measuring.remember("step", {**shape_key(cfg), "precision": precision, "channels_last": channels_last},
                                  lambda: probe_step(G, D, cfg, precision, channels_last))

    return choose_perf(device=cfg.perf.device, precision=cfg.perf.precision, channels_last=cfg.perf.channels_last,
                       probe=probe)


def choose_gemm_layers(G: torch.nn.Module, D: torch.nn.Module, cfg: TrainConfig, perf: PerfChoice,
                       measuring: Measuring, *, dist=None) -> tuple[list[str], str]:
    """Which 4x4 stride-2 layers of G and D (already on their device and in their memory format) run as one GEMM:
    as the config says, or timed now (CPU, fp32); switches them and returns (names, reason). In a multi-process
    run (``dist``) rank 0 times them and every process switches the layers rank 0 chose."""
    if dist is not None and dist.active:
        names, reason = dist.decide(lambda: choose_gemm_layers(G, D, cfg, perf, measuring))
        set_gemm_layers(torch.nn.ModuleDict({"G": G, "D": D}), names)
        return list(names), reason
    both = torch.nn.ModuleDict({"G": G, "D": D})
    names = cfg.perf.gemm_layers
    reason = ""
    if not capabilities(cfg.model.name).gemm_conv:
        names = []
    elif cfg.loss.kind == "wgan-gp" or cfg.loss.r1_gamma:  # a penalty differentiates D's backward; GEMM form cannot
        names = []
    if names is None:
        names = []
        if perf.device == "cpu" and perf.precision == "fp32":
            gen = torch.Generator().manual_seed(0)
            B = cfg.schedule.batch_size
            z = torch.randn(B, cfg.model.z_dim, generator=gen)
            y = torch.randn(B, cfg.model.n_attributes, generator=gen) if cfg.model.n_attributes else None

            def measure() -> dict[str, Any]:
                chosen, times = tune_gemm_layers(both, lambda: D(G(z, y), y), check=measuring.check)
                return {"chosen": chosen, "times": times}

            result = measuring.remember("gemm-layers", {**shape_key(cfg), "channels_last": perf.channels_last},
                                        measure)
            names = list(result["chosen"])
            reason = "; per-layer GEMM vs oneDNN " + ", ".join(
                f"{n} {a * 1e3:.0f}/{b * 1e3:.0f} ms" for n, (a, b) in result["times"].items()) + (
                f" -> GEMM for {', '.join(names)}" if names else " -> oneDNN everywhere")
    set_gemm_layers(both, names)
    return list(names), reason


def accelerate(G: torch.nn.Module, D: torch.nn.Module, cfg: TrainConfig, perf: PerfChoice, dist) -> tuple:
    """The networks the training step calls and the loss scalers: (G_fwd, D_fwd, scaler_g, scaler_d).

    Several processes: each network in its own DistributedDataParallel (the step trains one at a time and runs the
    other inside ``no_sync``). CUDA (UNTESTED here, no GPU): ``cudnn.benchmark`` picks each convolution's fastest
    kernel for the run's fixed shapes; fp16 needs a GradScaler per optimiser (bf16 has fp32's range and does
    not); ``perf.compile`` runs both through ``torch.compile`` (its first steps are slow while it compiles)."""
    device = torch.device(perf.device)
    if device.type == "cuda":  # UNTESTED here
        torch.backends.cudnn.benchmark = True
    partial = capabilities(cfg.model.name).progressive  # blocks not grown yet take no part in a step
    G_fwd, D_fwd = dist.wrap(G, device, partial=partial), dist.wrap(D, device, partial=partial)
    if cfg.perf.compile and not is_frozen():  # UNTESTED on a GPU; off by default; a bundle has no compiler
        G_fwd, D_fwd = torch.compile(G_fwd), torch.compile(D_fwd)
    fp16 = perf.precision == "fp16" and device.type == "cuda"
    scalers = [torch.amp.GradScaler(device.type if fp16 else "cpu", enabled=fp16) for _ in range(2)]
    return G_fwd, D_fwd, scalers[0], scalers[1]


def optimizer_kwargs(device: torch.device, foreach_optim: bool) -> dict[str, Any]:
    """Fused Adam where this torch has it for the device (CPU and CUDA in recent versions), else foreach."""
    if not foreach_optim:
        return {"foreach": False}
    probe = torch.nn.Parameter(torch.zeros(1, device=device))
    try:
        torch.optim.Adam([probe], fused=True)
        return {"fused": True}
    except (RuntimeError, TypeError, ValueError):
        return {"foreach": True}
