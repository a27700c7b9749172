"""Device and precision choice at run time.

The CPU changes from machine to machine: bf16 autocast is 2.5x faster than fp32 on a CPU with AMX, and 25x *slower*
on one with only AVX2. So precision is never hard-coded: ``auto`` takes bf16 only where the CPU reports native bf16
(AMX tiles or AVX512-BF16) *and* a short measurement confirms it beats fp32; the choice and the reason are recorded
in the run's config.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass

from typing import Callable

import torch

Probe = Callable[[str, bool], float]  # (precision, channels_last) -> seconds per step


@dataclass(frozen=True)
class PerfChoice:
    device: str
    precision: str  # fp32 | bf16 | fp16
    channels_last: bool
    reason: str

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision)


def pick_device(preference: str = "auto") -> str:
    if preference != "auto":
        if preference == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("CUDA was asked for but this PyTorch has no usable CUDA device")
        if preference == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise RuntimeError("MPS (Apple GPU) was asked for but is not available here")
        return preference
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def cpu_has_native_bf16() -> bool:
    cpu = getattr(torch, "cpu", None)
    for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        fn = getattr(cpu, probe, None)
        try:
            if fn is not None and fn():
                return True
        except Exception:  # noqa: BLE001 - a probe that fails means "no"
            pass
    return False


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def _time_step(dtype: torch.dtype | None, channels_last: bool, reps: int = 3) -> float:
    """Seconds for forward+backward through a transposed conv and a strided conv of DCGAN size: the two kinds of
    layer training spends its time in. Which memory format and precision win differs between CPUs (channels_last
    was 2x *slower* for transposed convs on an AVX-512 Xeon without AMX, 1.37x faster on an AVX2 EPYC)."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.ConvTranspose2d(128, 64, 4, 2, 1), torch.nn.ReLU(),
        torch.nn.Conv2d(64, 128, 4, 2, 1), torch.nn.LeakyReLU(0.2),
    )
    x = torch.randn(12, 128, 16, 16)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            out = net(x)
        out.float().sum().backward()
        best = min(best, time.perf_counter() - t0)
    return best


@functools.lru_cache(maxsize=None)
def _generic_probe_times(native_bf16: bool) -> dict[tuple[str, bool], float]:
    return measure_cpu_paths(native_bf16, None)


def measure_cpu_paths(native_bf16: bool, probe: Probe | None) -> dict[tuple[str, bool], float]:
    """Seconds per step for each (precision, channels_last) candidate. ``probe`` times the real model's step
    (the trainer passes one); without it a generic conv pair is timed."""
    candidates = [("fp32", False), ("fp32", True)] + ([("bf16", False), ("bf16", True)] if native_bf16 else [])
    if probe is None:
        _time_step(None, False, reps=1)  # warm-up
        return {(p, cl): _time_step(torch.bfloat16 if p == "bf16" else None, cl) for p, cl in candidates}
    return {(p, cl): probe(p, cl) for p, cl in candidates}


def choose_perf(*, device: str = "auto", precision: str = "auto", channels_last: bool | None = None,
                probe: Probe | None = None) -> PerfChoice:
    dev = pick_device(device)
    if precision != "auto":
        reason = f"{precision} as configured"
        chosen = precision
    elif dev == "cuda":
        chosen = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        reason = f"CUDA autocast {chosen}"
    elif dev == "mps":
        chosen, reason = "fp32", "MPS: fp32 (autocast support varies by macOS release)"
    else:
        chosen, reason = "", ""
    if dev == "cpu" and (precision == "auto" or channels_last is None):
        native = cpu_has_native_bf16()
        times = measure_cpu_paths(native, probe) if probe is not None else _generic_probe_times(native)
        if precision != "auto":
            times = {k: v for k, v in times.items() if k[0] == precision} or times
        best = min(times, key=times.get)
        if best[0] == "bf16" and precision == "auto" and min(
                v for (p, _), v in times.items() if p == "fp32") / times[best] < 1.15:  # bf16 must clearly pay for its rounding
            best = min((k for k in times if k[0] == "fp32"), key=times.get)
        if channels_last is not None:
            best = (best[0], channels_last)
        chosen = best[0] if precision == "auto" else precision
        cl = best[1]
        summary = ", ".join(f"{p}{'/NHWC' if c else '/NCHW'} {t * 1e3:.0f} ms" for (p, c), t in sorted(times.items()))
        reason = (("CPU has native bf16; " if native else "CPU has no native bf16 (no AMX / AVX512-BF16); ")
                  + f"measured {summary} -> {chosen}{' channels_last' if cl else ''}")
        return PerfChoice(device=dev, precision=chosen, channels_last=cl, reason=f"{reason} on {cpu_name()}")
    if chosen == "fp16" and dev == "cpu":
        chosen, reason = "fp32", "fp16 is not useful on CPU: fp32"
    cl = True if channels_last is None else channels_last
    return PerfChoice(device=dev, precision=chosen, channels_last=cl, reason=f"{reason} on {cpu_name() if dev == 'cpu' else dev}")
