"""Where the training step's time goes at 64 px: each DCGAN convolution, forward + backward (both gradients) at
batch 64, with oneDNN and with the GEMM form (faceforge/models/gemm_conv.py), as GFLOP/s and as a share of the fp32
matmul ceiling measured right before that layer (a shared VM drifts; each layer is compared with its own moment).

Says how far a whole step can get towards the ceiling: a layer whose best kernel reaches 70% of it caps the step.

    python bench/conv_kernels.py [--batch 64] [--channels 64]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from faceforge.device import cpu_name  # noqa: E402
from faceforge.models.gemm_conv import _time_pair, conv_gemm, conv_transpose_gemm  # noqa: E402


def matmul_gflops(n: int = 2048, reps: int = 3) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(reps))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--channels", type=int, default=64)
    args = ap.parse_args()
    n, c = args.batch, args.channels
    print(f"cpu: {cpu_name()}  threads: {torch.get_num_threads()}  torch {torch.__version__}")
    # (in, out, input size) of D's strided convolutions; G's transposed ones mirror them
    layers = [(3, c, 64), (c, 2 * c, 32), (2 * c, 4 * c, 16), (4 * c, 8 * c, 8)]
    print(f"{'layer':28s} {'GFLOP':>6s} {'oneDNN ms':>9s} {'GEMM ms':>8s} {'best GFLOP/s':>12s} {'% ceiling':>9s}")
    shares = []
    for c_in, c_out, size in layers:
        for transposed in (False, True):
            ceiling = matmul_gflops()
            w = torch.randn(c_out, c_in, 4, 4).requires_grad_(True)
            if transposed:
                x = torch.randn(n, c_out, size // 2, size // 2)
                lib = lambda a, b: F.conv_transpose2d(a, b, stride=2, padding=1)  # noqa: E731
                gemm = conv_transpose_gemm
                name = f"G convT {c_out}->{c_in} @{size // 2}->{size}"
            else:
                x = torch.randn(n, c_in, size, size)
                lib = lambda a, b: F.conv2d(a, b, stride=2, padding=1)  # noqa: E731
                gemm = conv_gemm
                name = f"D conv {c_in}->{c_out} @{size}->{size // 2}"
            x = x.contiguous(memory_format=torch.channels_last).requires_grad_(True)
            flops = 3 * 2 * n * (size // 2) ** 2 * c_in * c_out * 16  # forward + two backward products

            def step(fn):
                out = fn(x, w)
                out.backward(torch.ones_like(out))

            t_lib, t_gemm = _time_pair(lambda: step(lib), lambda: step(gemm), 3)
            best = flops / min(t_lib, t_gemm) / 1e9
            shares.append((flops, min(t_lib, t_gemm), ceiling))
            print(f"{name:28s} {flops / 1e9:6.2f} {t_lib * 1e3:9.1f} {t_gemm * 1e3:8.1f} {best:12.0f} "
                  f"{100 * best / ceiling:8.0f}%")
    total_flops = sum(f for f, _, _ in shares)
    total_time = sum(t for _, t, _ in shares)
    ceiling = sorted(c for _, _, c in shares)[len(shares) // 2]
    print(f"all layers with their best kernel: {total_flops / total_time / 1e9:.0f} GFLOP/s = "
          f"{100 * total_flops / total_time / 1e9 / ceiling:.0f}% of the median ceiling {ceiling:.0f} GFLOP/s")
    print(f"convs_best_gflops={total_flops / total_time / 1e9:.0f} ceiling_gflops={ceiling:.0f} "
          f"share={total_flops / total_time / 1e9 / ceiling:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
