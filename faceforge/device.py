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

import torch


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


def _time_conv(dtype: torch.dtype | None, channels_last: bool, reps: int = 4) -> float:
    """Seconds for a DCGAN-sized conv forward+backward, the shape of work training does."""
    conv = torch.nn.Sequential(
        torch.nn.Conv2d(64, 128, 4, 2, 1), torch.nn.LeakyReLU(0.2), torch.nn.Conv2d(128, 256, 4, 2, 1)
    )
    x = torch.randn(32, 64, 32, 32)
    if channels_last:
        conv = conv.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            conv(x).float().sum().backward()
        best = min(best, time.perf_counter() - t0)
    return best


@functools.lru_cache(maxsize=None)
def _measured_cpu_bf16_speedup() -> float:
    _time_conv(None, True, reps=1)
    fp32 = _time_conv(None, True)
    bf16 = _time_conv(torch.bfloat16, True)
    return fp32 / bf16


def choose_perf(*, device: str = "auto", precision: str = "auto", channels_last: bool | None = None) -> PerfChoice:
    dev = pick_device(device)
    if precision != "auto":
        reason = f"{precision} as configured"
        chosen = precision
    elif dev == "cuda":
        chosen = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        reason = f"CUDA autocast {chosen}"
    elif dev == "mps":
        chosen, reason = "fp32", "MPS: fp32 (autocast support varies by macOS release)"
    elif cpu_has_native_bf16():
        speedup = _measured_cpu_bf16_speedup()
        chosen = "bf16" if speedup > 1.15 else "fp32"
        reason = f"CPU has native bf16; measured bf16/fp32 speed-up {speedup:.2f}x -> {chosen}"
    else:
        chosen, reason = "fp32", "CPU has no native bf16 (no AMX / AVX512-BF16): fp32"
    if chosen == "fp16" and dev == "cpu":
        chosen, reason = "fp32", "fp16 is not useful on CPU: fp32"
    cl = True if channels_last is None else channels_last  # channels_last helps on every CPU measured and on CUDA
    return PerfChoice(device=dev, precision=chosen, channels_last=cl, reason=f"{reason} on {cpu_name() if dev == 'cpu' else dev}")
