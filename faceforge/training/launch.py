"""What a multi-process run needs before any process starts, without torch (the New-run dialog reads it):
whether N processes can compute the run as one would, and the torchrun command line that starts it.

The app does not launch clusters; it writes the command a person runs on each machine (training/distributed.py
is what runs there).
"""
from __future__ import annotations

import shlex
from pathlib import Path

from faceforge.config import ConfigError, TrainConfig

DEFAULT_RDZV_PORT = 29400  # torchrun's own default for c10d rendezvous


def check_distributable(config: TrainConfig, *, world: int, device: str) -> None:
    """Refuse, in words, a run N processes cannot compute as one would: a batch that does not split evenly,
    minibatch-stddev groups that would straddle two processes, BatchNorm in D on a CPU (SyncBatchNorm needs CUDA),
    or Apple's MPS (no multi-process backend). ``device``: cpu, cuda, mps or auto (checked as a CPU: the strictest)."""
    if world <= 1:
        return
    from faceforge.models import capabilities, couples_batch
    from faceforge.models.registry import resolve_d_norm

    caps = capabilities(config.model.name)
    B = config.schedule.batch_size
    # a progressive model trains its low resolutions in updates of growth_batch images: those must split too
    growth = config.model.growth_batch if caps.progressive and 0 < config.model.growth_batch < B else 0
    for n, what in ((B, "batch"), (growth, "growth batch (the updates at 16 px and below)")):
        if not n:
            continue
        if n % world:
            raise ConfigError(f"the {what} of {n} does not split evenly over {world} processes: choose one that is "
                              f"a multiple of {world}")
        b, group = n // world, config.model.mbstd_group
        if caps.minibatch_stddev and (group > b or b % group):
            raise ConfigError(f"{config.model.name}'s minibatch-stddev groups of {group} must lie within one "
                              f"process's share of the {what} ({n} / {world} = {b}): choose one that is a multiple "
                              f"of {group * world}, or fewer processes")
    if device == "mps":
        raise ConfigError("multi-process training runs on CPUs (gloo) or CUDA GPUs (NCCL), not on Apple's MPS: "
                          "train with one process there")
    norm_batch = resolve_d_norm(config.model, config.loss.kind) == "batch"
    if couples_batch(config.model, loss_kind=config.loss.kind) and norm_batch and device != "cuda":
        raise ConfigError(f"{config.model.name}'s discriminator uses BatchNorm, which couples the whole batch; "
                          "across processes that needs SyncBatchNorm, which runs on CUDA only. On CPUs train it "
                          "with one process, or choose a model without BatchNorm (msggan, progan, stylegan)")


def train_arguments(config: TrainConfig, *, out: Path | None = None) -> list[str]:
    """``faceforge train`` options that rebuild ``config`` (every field the command line has; the others are the
    model's defaults, which the dialog also starts from)."""
    c, d, m, s, o = config, config.data, config.model, config.schedule, config.optim
    args = ["--data", d.source]
    if d.labels:
        args += ["--labels", d.labels]
    args += ["--attributes", ",".join(d.attributes)]
    if d.source.startswith("builtin:"):
        args += ["--builtin-count", str(d.builtin_count)]
    args += ["--model", m.name, "--resolution", str(m.resolution), "--channels", str(m.g_channels),
             "--z-dim", str(m.z_dim), "--loss", c.loss.kind, "--n-critic", str(c.loss.n_critic),
             "--steps", str(s.steps), "--batch-size", str(s.batch_size), "--lr-g", f"{o.lr_g:g}",
             "--lr-d", f"{o.lr_d:g}", "--seed", str(c.seed), "--device", c.perf.device,
             "--precision", c.perf.precision, "--log-every", str(s.log_every), "--sample-every", str(s.sample_every),
             "--checkpoint-every", str(s.checkpoint_every), "--metrics-every", str(s.metrics_every)]
    if m.name and m.conditioning:
        args += ["--conditioning", m.conditioning]
    if c.name:
        args += ["--name", c.name]
    if c.perf.threads:
        args += ["--threads", str(c.perf.threads)]
    if out is not None:
        args += ["--out", str(out)]
    return args


def torchrun_command(config: TrainConfig, *, processes: int, nodes: int = 1, endpoint: str = "",
                     out: Path | None = None) -> str:
    """The command line that trains ``config`` with ``processes`` per machine on ``nodes`` machines (the same line
    on each; ``endpoint`` HOST[:PORT] is the first machine's address for the c10d rendezvous)."""
    if processes < 1 or nodes < 1:
        raise ValueError("processes per machine and machines must be at least 1")
    cmd = ["torchrun", f"--nproc-per-node={processes}"]
    if nodes > 1:
        if not endpoint.strip():
            raise ValueError("several machines need a rendezvous endpoint: the first machine's HOST:PORT")
        host = endpoint.strip()
        if ":" not in host:
            host = f"{host}:{DEFAULT_RDZV_PORT}"
        cmd += [f"--nnodes={nodes}", "--rdzv-backend=c10d", f"--rdzv-endpoint={host}", "--rdzv-id=faceforge"]
    cmd += ["-m", "faceforge", "train", *train_arguments(config, out=out)]
    return shlex.join(cmd)
