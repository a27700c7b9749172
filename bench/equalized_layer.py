"""Does the equalised learning rate cost anything? EqualizedConv2d / EqualizedLinear against nn.Conv2d / nn.Linear
of the same shape, forward + backward, batch 64, 2 threads, shapes typical of MSG-GAN and ProGAN at 32-64 px.

The equalised layers multiply the weight (not the activations) by a constant, so they should run the same kernel
as the plain ones plus one small elementwise op: the target is within 5%. fp32 always; bf16 autocast too where the
CPU has native bf16 (faceforge.device.cpu_has_native_bf16). Takes well under a minute:

    PYTHONPATH=. python bench/equalized_layer.py
"""
from __future__ import annotations

import time

import torch
from torch import nn

from faceforge.device import cpu_has_native_bf16, cpu_name
from faceforge.models.layers import EqualizedConv2d, EqualizedLinear

BATCH = 64
# (in channels, out channels, kernel, resolution)
CONVS = [(32, 64, 3, 32), (64, 128, 3, 16), (128, 256, 3, 8), (256, 256, 3, 4), (16, 3, 1, 64)]
LINEARS = [(116, 4096), (256, 1)]


def _time(layer: nn.Module, x: torch.Tensor, dtype: torch.dtype | None, reps: int) -> float:
    """Best of ``reps`` forward + backward passes (the best is the least disturbed by other programs)."""
    best = float("inf")
    for i in range(reps + 1):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
            out = layer(x)
        out.float().sum().backward()
        if i:  # the first pass warms up the kernels
            best = min(best, time.perf_counter() - start)
        layer.zero_grad(set_to_none=True)
    return best


def _pair(plain: nn.Module, equalised: nn.Module, x: torch.Tensor, dtype, reps: int) -> tuple[float, float]:
    """Alternate the two so a change in the machine's load hits both alike."""
    a, b = float("inf"), float("inf")
    for _ in range(2):
        a = min(a, _time(plain, x, dtype, reps))
        b = min(b, _time(equalised, x, dtype, reps))
    return a, b


def main() -> None:
    torch.set_num_threads(2)
    torch.manual_seed(0)
    dtypes = [("fp32", None)] + ([("bf16", torch.bfloat16)] if cpu_has_native_bf16() else [])
    print(f"CPU: {cpu_name()}; torch {torch.__version__}; 2 threads; batch {BATCH}; forward+backward, best of runs")
    for label, dtype in dtypes:
        print(f"-- {label}")
        for cin, cout, k, res in CONVS:
            x = torch.randn(BATCH, cin, res, res, requires_grad=True)
            plain = nn.Conv2d(cin, cout, k, padding=k // 2)
            eq = EqualizedConv2d(cin, cout, k, padding=k // 2)
            a, b = _pair(plain, eq, x, dtype, reps=2)
            print(f"conv {cin:>3}->{cout:<3} {k}x{k} at {res:>2} px: nn {a * 1e3:7.2f} ms  equalised {b * 1e3:7.2f} ms"
                  f"  ratio {b / a:.3f}")
        for fin, fout in LINEARS:
            x = torch.randn(BATCH, fin, requires_grad=True)
            a, b = _pair(nn.Linear(fin, fout), EqualizedLinear(fin, fout), x, dtype, reps=20)
            print(f"linear {fin:>4}->{fout:<4}         : nn {a * 1e3:7.3f} ms  equalised {b * 1e3:7.3f} ms"
                  f"  ratio {b / a:.3f}")


if __name__ == "__main__":
    main()
