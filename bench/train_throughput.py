"""Training throughput: our training step vs a plain reference loop written the way the PyTorch DCGAN example
writes it (same architecture, batch and optimiser; fp32, NCHW, BCE with a sigmoid in D, `.item()` every step), on
the same images, alternating in ONE process so both see the same machine state.

Also measures the fp32 and bf16 matmul ceilings of this CPU, and reports the model FLOP rate of each loop.
Last line: ``ours_img_s=.. reference_img_s=.. ratio=..`` (ratio: the median of the per-round ratios).

    python bench/train_throughput.py [--resolution 64] [--batch 64] [--rounds 5] [--steps 6] [--ablate]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faceforge.device import cpu_name  # noqa: E402  (the "Model name" lscpu prints)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402




def matmul_gflops(dtype: torch.dtype, n: int = 2048, reps: int = 5) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


# ---------------------------------------------------------------- the reference, as the DCGAN example writes it
class RefG(nn.Module):
    def __init__(self, nz=100, ngf=64, nc=3, res=64):
        super().__init__()
        n = int(np.log2(res)) - 2
        w = [ngf * 2 ** (n - 1 - i) for i in range(n)]
        layers = [nn.ConvTranspose2d(nz, w[0], 4, 1, 0, bias=False), nn.BatchNorm2d(w[0]), nn.ReLU(True)]
        for a, b in zip(w[:-1], w[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(w[-1], nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x)


class RefD(nn.Module):
    def __init__(self, ndf=64, nc=3, res=64):
        super().__init__()
        n = int(np.log2(res)) - 2
        w = [ndf * 2**i for i in range(n)]
        layers = [nn.Conv2d(nc, w[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        for a, b in zip(w[:-1], w[1:]):
            layers += [nn.Conv2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.LeakyReLU(0.2, inplace=True)]
        layers += [nn.Conv2d(w[-1], 1, 4, 1, 0, bias=False), nn.Sigmoid()]
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x).view(-1, 1).squeeze(1)


def weights_init(m):
    name = m.__class__.__name__
    if name.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif name.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


class Reference:
    def __init__(self, data: torch.Tensor, batch: int, res: int):
        torch.manual_seed(0)
        self.netG, self.netD = RefG(res=res), RefD(res=res)
        self.netG.apply(weights_init)
        self.netD.apply(weights_init)
        self.criterion = nn.BCELoss()
        self.optD = torch.optim.Adam(self.netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.optG = torch.optim.Adam(self.netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.data, self.batch, self.i = data, batch, 0

    def step(self):
        n = self.data.shape[0] // self.batch
        real = self.data[(self.i % n) * self.batch:(self.i % n + 1) * self.batch]
        self.i += 1
        b = real.size(0)
        self.netD.zero_grad()
        label = torch.full((b,), 1.0)
        output = self.netD(real)
        errD_real = self.criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        noise = torch.randn(b, 100, 1, 1)
        fake = self.netG(noise)
        label.fill_(0.0)
        output = self.netD(fake.detach())
        errD_fake = self.criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        self.optD.step()
        self.netG.zero_grad()
        label.fill_(1.0)
        output = self.netD(fake)
        errG = self.criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        self.optG.step()
        return errD.item(), errG.item(), D_x, D_G_z1, D_G_z2


def model_flops_per_step(res: int, batch: int) -> float:
    """Forward FLOPs of G and D x the passes a DCGAN step makes (G fwd+bwd, D 3 fwd + 3 bwd), bwd = 2x fwd."""
    from torch.utils.flop_counter import FlopCounterMode

    g, d = RefG(res=res), RefD(res=res)
    z = torch.randn(batch, 100, 1, 1)
    with FlopCounterMode(display=False) as fc:
        x = g(z)
    g_f = fc.get_total_flops()
    with FlopCounterMode(display=False) as fc:
        d(x)
    d_f = fc.get_total_flops()
    return 3 * g_f + 3 * 3 * d_f


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolution", type=int, default=64)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=6, help="steps per loop per round")
    ap.add_argument("--ablate", action="store_true", help="also time ours with each fast path switched off")
    args = ap.parse_args()
    res, batch = args.resolution, args.batch

    from faceforge.config import TrainConfig
    from faceforge.data.synthetic import make_builtin
    from faceforge.runs import Run
    from faceforge.training.loop import Trainer

    import tempfile

    os.environ["FACEFORGE_CACHE_DIR"] = tempfile.mkdtemp()  # measure the kernels afresh, not from timings.json
    print(f"cpu: {cpu_name()}  threads: {torch.get_num_threads()}  torch {torch.__version__}")
    # a shared VM's speed drifts by 30% from minute to minute: the ceiling is measured between the rounds too,
    # and the median of all its measurements is the one the loops are compared with
    ceilings = {torch.float32: [matmul_gflops(torch.float32)], torch.bfloat16: [matmul_gflops(torch.bfloat16)]}

    images, _, _ = make_builtin(1024, res, 0)
    data = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1).contiguous()

    class DS:
        def __init__(self):
            self.images, self.labels, self.attributes, self.name = images, None, [], "bench"

        def __len__(self):
            return len(self.images)

    def config(**perf):
        cfg = TrainConfig()
        cfg.model.name, cfg.model.resolution, cfg.data.resolution = "dcgan", res, res
        cfg.model.g_channels = cfg.model.d_channels = 64
        cfg.schedule.batch_size, cfg.schedule.metrics_every = batch, 0
        for key, value in perf.items():
            setattr(cfg.perf, key, value)
        return cfg

    ours = Trainer(Run(tempfile.mkdtemp()), config(), dataset=DS())
    print(f"ours: {ours.perf_reason}; optimiser {ours.optimizer_kwargs}")
    chosen = ours.config.perf
    steppers = {"ours": lambda: ours.train_step(acc)}
    if args.ablate:  # ours with one fast path switched off at a time: what each one buys
        variants = {
            "without GEMM layers": dict(gemm_layers=[]),
            "NCHW instead of channels_last": dict(channels_last=not chosen.channels_last),
            "foreach instead of fused Adam": dict(foreach_optim=False),
        }
        for name, change in variants.items():
            perf = dict(precision=chosen.precision, channels_last=chosen.channels_last,
                        gemm_layers=chosen.gemm_layers)
            trainer = Trainer(Run(tempfile.mkdtemp()), config(**{**perf, **change}), dataset=DS())
            steppers[name] = (lambda t: lambda: t.train_step(acc))(trainer)
    ref = Reference(data, batch, res)
    steppers["reference"] = ref.step
    acc = torch.zeros(5)
    for step in steppers.values():  # warm-up
        step()
        step()
    times: dict[str, list[float]] = {name: [] for name in steppers}
    for r in range(args.rounds):
        for name, step in steppers.items():
            t0 = time.perf_counter()
            for _ in range(args.steps):
                step()
            acc.tolist()
            times[name].append((time.perf_counter() - t0) / args.steps)
        ceilings[torch.float32].append(matmul_gflops(torch.float32))
        print(f"round {r}: " + ", ".join(f"{n} {batch / t[-1]:.1f} img/s" for n, t in times.items())
              + f"; fp32 matmul {ceilings[torch.float32][-1]:.0f} GFLOP/s")
    t_ours, t_ref = times["ours"], times["reference"]
    for name in steppers:
        if name not in ("ours", "reference"):
            gain = float(np.median([v / o for v, o in zip(times[name], t_ours)]))  # within a round: same machine state
            print(f"ablation: {name}: {batch / float(np.median(times[name])):.1f} img/s; the fast path buys "
                  f"{gain:.2f}x (median of per-round ratios)")
    ceilings[torch.bfloat16].append(matmul_gflops(torch.bfloat16))
    fp32, bf16 = (float(np.median(ceilings[d])) for d in (torch.float32, torch.bfloat16))
    print(f"matmul ceiling (median): fp32 {fp32:.0f} GFLOP/s (range {min(ceilings[torch.float32]):.0f}-"
          f"{max(ceilings[torch.float32]):.0f}), bf16 {bf16:.0f} GFLOP/s")
    ours_s, ref_s = float(np.median(t_ours)), float(np.median(t_ref))
    flops = model_flops_per_step(res, batch)
    print(f"model: {flops / 1e9:.1f} GFLOP per step; ours {flops / ours_s / 1e9:.0f} GFLOP/s "
          f"({100 * flops / ours_s / 1e9 / (bf16 if ours.perf.precision == 'bf16' else fp32):.0f}% of the "
          f"{ours.perf.precision} matmul ceiling), reference {flops / ref_s / 1e9:.0f} GFLOP/s "
          f"({100 * flops / ref_s / 1e9 / fp32:.0f}% of fp32)")
    ratio = float(np.median([r / o for r, o in zip(t_ref, t_ours)]))  # per round, then the median: drift cancels
    print(f"ours_img_s={batch / ours_s:.1f} reference_img_s={batch / ref_s:.1f} ratio={ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
