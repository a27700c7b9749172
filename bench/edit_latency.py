"""Edit latency: from a moved attribute slider to a new face on screen, on the CPU.

The Edit pane's work per slider move is one generator forward at batch 1 for the same z and a changed y, in eval
mode without autograd, then the conversion to (H,W,3) uint8. This times exactly that for a 64x64 and a 128x128
conditional DCGAN (default widths 64, z 100, 8 attributes, random weights: latency does not depend on them),
200 repetitions after a warm-up, and compares the speed-ups that are available without compiled custom ops:

- ``no_grad``          ``torch.no_grad()`` (what ``faceforge.models.sampling.generate`` uses)
- ``inference_mode``   ``torch.inference_mode()`` (no version counters / view tracking)
- ``threads=N``        ``torch.set_num_threads(N)`` for the forward
- ``channels_last``    NHWC weights and activations
- ``jit_freeze``       ``torch.jit.freeze(torch.jit.script(G))`` + ``optimize_for_inference`` (folds BatchNorm
                       into the convolutions)
- ``fast``             :class:`faceforge.editing.edits.FastRenderer`: BatchNorm folded into the transposed
                       convolutions and each transposed convolution run as one matmul + col2im (eager, no
                       TorchScript), under inference_mode

Prints the CPU model first; the last line is ``median_ms_64=.. p95_ms_64=.. median_ms_128=.. p95_ms_128=..`` for
the path recommended for the Edit pane: ``faceforge.editing.edits.FastRenderer`` with one intra-op thread. At batch
1 a second thread buys little even on an idle machine and costs several times over as soon as anything else (a
training run, another process) competes for the cores, because OpenMP threads spin at every barrier.

    python bench/edit_latency.py [--reps 200] [--variants] [--threads 1]
"""
from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faceforge.device import cpu_name  # noqa: E402  (the "Model name" lscpu prints)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from faceforge.config import ModelConfig  # noqa: E402
from faceforge.models import build_generator  # noqa: E402
from faceforge.imaging import to_uint8  # noqa: E402




def make_generator(resolution: int, n_attr: int = 8) -> torch.nn.Module:
    cfg = ModelConfig(name="cdcgan", resolution=resolution, z_dim=100, n_attributes=n_attr, g_channels=64)
    torch.manual_seed(0)
    G = build_generator(cfg)
    G.train()  # give BatchNorm non-trivial running statistics, as a trained model has
    with torch.no_grad():
        for _ in range(3):
            G(torch.randn(16, 100), torch.randn(16, n_attr))
    return G.eval().requires_grad_(False)


def time_path(render, n_attr: int, reps: int, warmup: int = 20) -> list[float]:
    """ms per slider move: y changes every call (a slider sweeping -2..2), z stays."""
    z = torch.randn(1, 100, generator=torch.Generator().manual_seed(1))
    ys = torch.zeros(reps + warmup, n_attr)
    ys[:, 0] = torch.linspace(-2, 2, reps + warmup)
    times = []
    for i in range(reps + warmup):
        y = ys[i : i + 1]
        t0 = time.perf_counter()
        img = render(z, y)
        assert img.shape[-1] == 3 and img.dtype == np.uint8
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    return times


def summary(times: list[float]) -> tuple[float, float]:
    s = sorted(times)
    return statistics.median(s), s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]


def variants(G: torch.nn.Module, n_attr: int) -> dict[str, object]:
    out: dict[str, object] = {}

    def no_grad(z, y):
        with torch.no_grad():
            return to_uint8(G(z, y))[0]

    def inference(z, y):
        with torch.inference_mode():
            return to_uint8(G(z, y))[0]

    out["no_grad"] = no_grad
    out["inference_mode"] = inference

    Gcl = copy.deepcopy(G).to(memory_format=torch.channels_last)

    def channels_last(z, y):
        with torch.inference_mode():
            return to_uint8(Gcl(z, y))[0]

    out["channels_last"] = channels_last

    try:
        scripted = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.script(copy.deepcopy(G).eval())))

        def jit_frozen(z, y):
            with torch.inference_mode():
                return to_uint8(scripted(z, y))[0]

        out["jit_freeze"] = jit_frozen
    except Exception as exc:  # noqa: BLE001 - TorchScript is deprecated in recent torch; report and go on
        print(f"  jit_freeze unavailable: {type(exc).__name__}: {str(exc).splitlines()[0][:100]}")

    from faceforge.editing.edits import FastRenderer

    fast = FastRenderer(G)
    out["fast"] = lambda z, y: fast(z, y)[0]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--variants", action="store_true", help="also time every alternative listed above")
    ap.add_argument("--threads", type=int, default=1, help="torch threads for the final line (0 = torch's default)")
    args = ap.parse_args()
    print(f"cpu: {cpu_name()}")
    print(f"torch {torch.__version__}, default threads {torch.get_num_threads()}, "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    n_attr = 8
    default_threads = torch.get_num_threads()
    final: dict[int, tuple[float, float]] = {}
    for res in (64, 128):
        G = make_generator(res, n_attr)
        if args.variants:
            paths = variants(G, n_attr)
            for threads in sorted({1, default_threads}):
                torch.set_num_threads(threads)
                for name, fn in paths.items():
                    med, p95 = summary(time_path(fn, n_attr, args.reps))
                    print(f"  {res:>3}px threads={threads} {name:15s} median {med:7.2f} ms   p95 {p95:7.2f} ms")
            torch.set_num_threads(default_threads)
        from faceforge.editing.edits import FastRenderer

        fast = FastRenderer(G, threads=args.threads or None)
        med, p95 = summary(time_path(lambda z, y: fast(z, y)[0], n_attr, args.reps))
        print(f"  {res:>3}px Edit pane path (FastRenderer, threads={fast.threads}): median {med:.2f} ms  "
              f"p95 {p95:.2f} ms")
        final[res] = (med, p95)
        torch.set_num_threads(default_threads)
    print(f"median_ms_64={final[64][0]:.2f} p95_ms_64={final[64][1]:.2f} "
          f"median_ms_128={final[128][0]:.2f} p95_ms_128={final[128][1]:.2f}")


if __name__ == "__main__":
    main()
