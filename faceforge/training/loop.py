"""The training loop: a plain object with progress and stop callbacks, no Qt.

:class:`Trainer` trains one run folder; :mod:`faceforge.training.lifecycle` (``start_run``, ``resume_run``) is how
the CLI, the GUI's worker thread and ``torchrun ... -m faceforge train`` (one Trainer per process,
training/distributed.py) call it. It writes everything to the run folder
and resumes exactly from the latest checkpoint: the step count, both optimisers' moments, G_ema, and every RNG that
decides batches and noise.
"""
from __future__ import annotations

import copy
import dataclasses
import errno
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from faceforge.checkpoints import load_checkpoint, save_checkpoint
from faceforge.config import TrainConfig, is_builtin
from faceforge.data.label_scales import apply_scales, scales_for
from faceforge.imaging import make_grid, write_png
from faceforge.models import attributes_used, available_models, build_models, capabilities, config_problem
from faceforge.models.figures import snapshot_figures
from faceforge.models.sampling import fixed_grid_inputs, generate
from faceforge.runs import Run
from faceforge.tasks import ProgressFn, StopFn
from faceforge.training.batches import DeviceData, load_training_data
from faceforge.training.conditioning_loss import label_kinds
from faceforge.training.distributed import Single, check_distributable
from faceforge.training.ema import make_ema
from faceforge.training.health import HealthMonitor
from faceforge.training.path_length import PathLength
from faceforge.training.sharing import CpuSharing, NoSharing
from faceforge.training.speed import Measuring, accelerate, choose_gemm_layers, choose_precision, optimizer_kwargs
from faceforge.training.step import TrainStep
from faceforge.training.step_undo import StepAbandoned


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    state: str  # finished | stopped | disk-full | failed
    config: TrainConfig  # the run's resolved config, as config.json holds it
    message: str = ""


class Trainer(TrainStep):
    """Holds the models, optimisers and data of one run; ``run()`` trains until done or told to stop.

    ``config`` is copied: set-up resolves it (attributes used, the fast paths measured) into ``self.config``, which
    is what config.json and the checkpoints record, and the caller's object stays as it was. ``dist`` is this
    process's place in a multi-process run (training/distributed.py); only the process whose ``dist.writes``
    writes the run folder (``run`` is a read-only view on the others)."""

    def __init__(self, run: Run, config: TrainConfig, *, dataset=None, progress: ProgressFn | None = None,
                 should_stop: StopFn | None = None, dist: Single | None = None):
        self.dist = dist or Single()
        self.run_folder = run
        self.config = copy.deepcopy(config)
        self.progress = progress or (lambda event: None)
        self.should_stop = should_stop or (lambda: False)
        self.dataset = dataset if dataset is not None else self._load_data()
        self._setup()

    # ---------------------------------------------------------------- setup
    def _emit(self, kind: str, **fields: Any) -> None:
        self.progress({"kind": kind, **fields})

    def _load_data(self):
        return load_training_data(self.config, progress=self.progress, should_stop=self.should_stop)

    def _setup(self) -> None:
        cfg = self.config
        ds = self.dataset
        if len(ds) == 0:
            raise ValueError("the dataset has no usable images")
        offered = 0 if ds.labels is None else ds.labels.shape[1]
        conditionings = capabilities(cfg.model.name).conditionings if cfg.model.name in available_models() else ()
        if len(conditionings) == 1:  # a model with one way of taking attributes takes them its way
            cfg.model.conditioning = conditionings[0]
        problem = config_problem(cfg.model, loss_kind=cfg.loss.kind, n_attributes=offered,
                                 path_length=cfg.loss.pl_weight > 0)
        if problem:
            raise ValueError(problem)
        # a model that takes no attributes never sees the labels (nor records them in its checkpoints)
        n_attr = cfg.model.n_attributes = attributes_used(cfg.model.name, offered)
        if cfg.perf.threads > 0:
            torch.set_num_threads(cfg.perf.threads)
        torch.manual_seed(cfg.seed)
        G, D = build_models(cfg.model, loss_kind=cfg.loss.kind)
        self.caps = capabilities(cfg.model.name)
        self._grow(G, D, images_seen=0)
        measuring = Measuring(should_stop=self.should_stop,
                              say=lambda text: self._emit("message", level="info", text=text))
        # measured by rank 0 alone and shared, so every process computes the same way
        perf = self.dist.decide(lambda: choose_precision(G, D, cfg, measuring))
        check_distributable(cfg, world=self.dist.world, device=perf.device)
        self.perf, self.device = perf, torch.device(perf.device)
        memory_format = torch.channels_last if perf.channels_last else torch.contiguous_format
        self.G, self.D = G.to(self.device, memory_format=memory_format), D.to(self.device, memory_format=memory_format)
        self.G_ema = make_ema(self.G)  # before the GEMM switch: sampling keeps the library kernels
        gemm_layers, gemm_reason = choose_gemm_layers(self.G, self.D, cfg, perf, measuring, dist=self.dist)
        # the networks the step calls: DDP-wrapped with several processes, compiled if asked; fp16's loss scalers
        self.G_fwd, self.D_fwd, self.scaler_g, self.scaler_d = accelerate(self.G, self.D, cfg, perf, self.dist)
        opt_kwargs = optimizer_kwargs(self.device, cfg.perf.foreach_optim)
        o = cfg.optim
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=o.lr_g, betas=(o.beta1, o.beta2), **opt_kwargs)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=o.lr_d, betas=(o.beta1, o.beta2), **opt_kwargs)
        self.noise = torch.Generator(device=self.device).manual_seed(cfg.seed + 1)

        labels = self._network_labels() if n_attr else None
        self.data = DeviceData(ds, labels=labels, batch_size=cfg.schedule.batch_size, seed=cfg.seed,
                               device=self.device, memory_format=memory_format)
        self.labels = self.data.labels
        self.label_kinds = label_kinds(ds.attributes, cfg.data.label_scales) if n_attr else ()
        self.grid_z, self.grid_y = fixed_grid_inputs(n=cfg.schedule.grid_size, z_dim=cfg.model.z_dim, labels=labels,
                                                     seed=cfg.seed)
        self.health = HealthMonitor()
        self._metric_real = self._metric_z = self._metric_y = None
        if cfg.schedule.metrics_every > 0:
            rng = np.random.default_rng([cfg.seed, 2024])
            n = min(cfg.schedule.metrics_samples, len(ds))
            pick = np.sort(rng.choice(len(ds), n, replace=False))
            self._metric_real = np.asarray(ds.images[pick])
            gen = torch.Generator().manual_seed(cfg.seed + 4242)
            self._metric_z = torch.randn(n, cfg.model.z_dim, generator=gen)
            if n_attr:
                y_pick = rng.choice(len(ds), n, replace=True)
                self._metric_y = torch.from_numpy(labels[y_pick])
        self.path_length = PathLength(weight=cfg.loss.pl_weight, every=cfg.loss.pl_every)
        self.step, self.images_seen, self.wall_time, self.lr_scale = 0, 0, 0.0, 1.0
        self.step_losses: list[torch.Tensor] = []  # (loss_g, loss_d) of each step since the last logging tick

        # record what was really used, so the run says which fast paths it took
        cfg.perf = dataclasses.replace(cfg.perf, device=perf.device, precision=perf.precision,
                                       channels_last=perf.channels_last, gemm_layers=gemm_layers)
        self.perf_reason = perf.reason + gemm_reason + measuring.note()
        self.optimizer_kwargs = opt_kwargs

    def _grow(self, *models, images_seen: int) -> None:
        """A model's form for the images seen so far (a progressive model's resolution and fade-in alpha, a
        conditional StyleGAN's attribute strength); kept in the models' buffers, so checkpoints, G_ema and a resume
        carry it."""
        if self.caps.follows_images:
            for m in models:
                m.grow(images_seen)

    def stage(self) -> dict[str, float]:
        """The resolution being trained and its fade-in alpha, for the stats (progressive models only)."""
        return self.G.stage() if self.caps.progressive else {}

    def _close_sharing(self) -> None:
        sharing, self._sharing = getattr(self, "_sharing", None), None
        if sharing is not None:
            sharing.close()

    def _network_labels(self) -> np.ndarray:
        """The data's labels on the network's scale: binary -1/+1, continuous columns standardised with the scales
        the run recorded (a resume), or fitted now and recorded in the config (data/label_scales.py)."""
        cfg, ds = self.config, self.dataset
        raw = np.asarray(ds.labels, np.float32)
        scales = scales_for(ds.attributes, raw, builtin=is_builtin(cfg.data.source), recorded=cfg.data.label_scales,
                            kinds=cfg.data.label_kinds)
        cfg.data.label_scales = {name: scale.to_dict() for name, scale in scales.items()}
        return apply_scales(ds.attributes, raw, scales)

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.to_json(),
            "step": self.step,
            "images_seen": self.images_seen,
            "wall_time": self.wall_time,
            "lr_scale": self.lr_scale,
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "G_ema": self.G_ema.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "rng": {"torch": torch.get_rng_state(), "noise": self.noise.get_state()},
            **({"scalers": {"g": self.scaler_g.state_dict(), "d": self.scaler_d.state_dict()}}
               if self.scaler_g.is_enabled() else {}),  # fp16 on CUDA only
            "path_length": self.path_length.state_dict(),
            "attributes": list(self.dataset.attributes) if self.labels is not None else [],
            # the data's mean attribute vector (the "neutral" y) and up to 1,024 of its rows (varied default faces
            # drawn from the data's own mix of attributes), both on the network's scale
            "attribute_means": self.labels.mean(0).cpu() if self.labels is not None else torch.zeros(0),
            "attribute_sample": self.labels[:: max(1, len(self.labels) // 1024)][:1024].cpu()
            if self.labels is not None else torch.zeros(0),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.G_ema.load_state_dict(state["G_ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        torch.set_rng_state(state["rng"]["torch"])
        self.noise.set_state(state["rng"]["noise"])
        self.path_length.load_state_dict(state.get("path_length"))
        if self.scaler_g.is_enabled() and "scalers" in state:
            self.scaler_g.load_state_dict(state["scalers"]["g"])
            self.scaler_d.load_state_dict(state["scalers"]["d"])
        self.step = int(state["step"])
        self.images_seen = int(state["images_seen"])
        self.wall_time = float(state["wall_time"])
        self.lr_scale = float(state.get("lr_scale", 1.0))

    def save(self) -> Path:
        path = self.run_folder.checkpoint_path(self.step)
        if not self.dist.writes:  # every process holds the same weights; one writes them
            return path
        save_checkpoint(path, self.state_dict())
        self.run_folder.prune_checkpoints(self.config.schedule.keep_checkpoints)
        self._emit("checkpoint", step=self.step, path=str(path))
        return path

    def resume_from_latest(self) -> bool:
        """Continue from the newest readable checkpoint; a damaged newest one falls back to the one before.

        Several processes: rank 0 reads it and every rank loads what rank 0 read (the other machines need not see
        the run folder), whatever number of processes wrote it."""
        found = self.dist.decide(self._read_latest)
        if found is None:
            return False
        path, state = found
        self.load_state_dict(state)  # weights copy to their device; optimiser state follows its parameters
        self.run_folder.truncate_stats(after_step=self.step)
        self.run_folder.log_event(f"resumed from {path.name} at step {self.step}")
        self._emit("message", level="info", text=f"Resumed at step {self.step}")
        return True

    def _read_latest(self) -> tuple[Path, dict[str, Any]] | None:
        for path in reversed(self.run_folder.checkpoints()):
            try:
                return path, load_checkpoint(path, map_location="cpu")
            except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint: say so, try the previous one
                self.run_folder.log_event(f"checkpoint {path.name} unreadable ({exc}); trying the previous one",
                                          level="warning")
        return None

    # ---------------------------------------------------------------- snapshots
    def snapshot(self) -> Path:
        path = self.run_folder.sample_path(self.step)
        if not self.dist.writes:
            return path
        images = generate(self.G_ema, self.grid_z, self.grid_y)
        grid = make_grid(images)
        write_png(path, grid, compress_level=1)  # zlib level 1: a quarter of the encoding time, about the same size
        extra = snapshot_figures(self.G_ema, self.caps, grid_z=self.grid_z, grid_y=self.grid_y,
                                 z_dim=self.config.model.z_dim, seed=self.config.seed)
        paths = {"scales": self.run_folder.scales_path, "mixing": self.run_folder.mixing_path}
        for name, figure in extra.items():
            write_png(paths[name](self.step), figure, compress_level=1)
        self._emit("sample", step=self.step, path=str(path), grid=grid, **extra)
        return path

    def evaluate(self) -> dict[str, float]:
        """Quality scores of G_ema's samples against a fixed real subset (same z, y and patches every time)."""
        from faceforge.training.metrics import quality_scores

        t0 = time.perf_counter()
        fakes = generate(self.G_ema, self._metric_z, self._metric_y)
        scores = {k: round(v, 4) for k, v in quality_scores(self._metric_real, fakes, seed=self.config.seed).items()}
        return {**scores, "eval_s": round(time.perf_counter() - t0, 2)}  # the time left includes the final one

    def _observe(self, row: dict[str, Any]) -> None:
        for warning in self.health.update(row):
            self.run_folder.log_event(warning.text, level="warning")
            self._emit("health", code=warning.code, step=warning.step, text=warning.text)

    def _set_lr_scale(self, scale: float) -> None:
        self.lr_scale = scale
        for opt, lr in ((self.opt_g, self.config.optim.lr_g), (self.opt_d, self.config.optim.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr * scale

    def _rollback(self, reason: str) -> bool:
        """Losses went NaN/inf: reload the last good checkpoint and halve the learning rates."""
        scale = self.lr_scale * 0.5
        if not self.resume_from_latest():
            return False
        self._set_lr_scale(scale)
        text = (f"{reason} — rolled back to the last good checkpoint (step {self.step}) and halved the learning "
                f"rates (now x{scale:g}).")
        self.run_folder.log_event(text, level="warning")
        self._emit("message", level="warning", text=text)
        return True

    # ---------------------------------------------------------------- loop
    def run(self, *, resume: bool = False) -> TrainResult:
        cfg, sched, run = self.config, self.config.schedule, self.run_folder
        total = sched.steps
        state, message = "finished", ""
        try:
            if resume:
                self.resume_from_latest()
            run.write_config(cfg)
            self._emit("started", step=self.step, total_steps=total, run_dir=str(run.path), perf=self.perf_reason,
                       attributes=list(self.dataset.attributes) if self.labels is not None else [])
            run.write_status("running", step=self.step, total_steps=total)
            if self.step == 0:
                procs = f"; {self.dist.world} processes (torchrun)" if self.dist.active else ""
                run.log_event(f"started: {self.perf_reason}; optimiser {self.optimizer_kwargs}; "
                              f"{len(self.dataset)} images{procs}")
                self.snapshot()
                if self._metric_real is not None and self.dist.writes:
                    row = {"step": 0, "images": 0, **self.evaluate()}
                    run.append_stats(row)
                    self._emit("stats", **row)
            acc = torch.zeros(5, device=self.device)
            tick_t0, tick_images = time.perf_counter(), self.images_seen
            # several processes: torchrun gave each its threads, and the others would read as a foreign load
            sharing = self._sharing = CpuSharing(run.path, emit=self._emit, enabled=cfg.perf.adapt_threads and (
                self.device.type == "cpu" and not self.dist.active)) if self.dist.writes else NoSharing()
            threads = {"threads": sharing.threads}  # in the first row, then whenever it changes
            while self.step < total:
                if self.dist.any(self.should_stop()):  # every process stops at the same step
                    state = "stopped"
                    break
                t0 = time.perf_counter()
                try:
                    self.train_step(acc)
                except StepAbandoned:
                    state = "stopped"
                    break
                self.wall_time += time.perf_counter() - t0
                threads = sharing.tick() or threads
                scores = (self.evaluate() if self._metric_real is not None and self.dist.writes
                          and (self.step % sched.metrics_every == 0 or self.step == total) else {})
                if self.step % sched.log_every == 0 or self.step == total:
                    g, d, dx, dgz, count = self.dist.mean(acc).tolist()  # every process's slice: the whole batch
                    acc.zero_()
                    per_step = (self.dist.mean(torch.stack(self.step_losses)).T.tolist() if self.step_losses
                                else [[], []])
                    self.step_losses.clear()
                    now = time.perf_counter()
                    row = {"step": self.step, "images": self.images_seen,
                           "loss_g": g / count, "loss_d": d / count, "d_real": dx / count, "d_fake": dgz / count,
                           "img_s": (self.images_seen - tick_images) / max(now - tick_t0, 1e-9),
                           "wall": round(self.wall_time, 3), "time": time.time(), **scores, **threads,
                           **self.stage(),
                           # every step's losses, for plots that show the oscillation a 20-step mean hides
                           "loss_g_steps": [round(v, 5) for v in per_step[0]],
                           "loss_d_steps": [round(v, 5) for v in per_step[1]]}
                    scores, threads = {}, {}
                    tick_t0, tick_images = now, self.images_seen
                    if not all(math.isfinite(row[k]) for k in ("loss_g", "loss_d")):
                        if self._rollback(f"losses became {row['loss_g']}/{row['loss_d']} at step {self.step}"):
                            continue
                        state, message = "failed", "losses became NaN/inf before the first checkpoint"
                        break
                    run.append_stats(row)
                    self._emit("stats", **row)
                    self._observe(row)
                if scores:  # a quality score off the logging grid gets a row of its own
                    row = {"step": self.step, "images": self.images_seen, **scores}
                    run.append_stats(row)
                    self._emit("stats", **row)
                    self._observe(row)
                if self.step % sched.sample_every == 0 or self.step == total:
                    self.snapshot()
                if self.step % sched.checkpoint_every == 0 or self.step == total:
                    self.save()
                    run.write_status("running", step=self.step, total_steps=total)
            if state == "stopped":
                self.save()  # what a resume needs comes first; the grid of the stop's step follows
                self.snapshot()
        except Exception as exc:
            if not (isinstance(exc, OSError) and exc.errno == errno.ENOSPC):
                # anything else: say so in the run folder (not "running" forever), then let the caller see it
                try:
                    run.log_event(f"failed at step {self.step}: {type(exc).__name__}: {exc}", level="error")
                    run.write_status("failed", step=self.step, total_steps=total, message=str(exc))
                except OSError:
                    pass
                self._close_sharing()
                raise
            state, message = "disk-full", (f"The disk is full ({exc.strerror or exc}). Training is paused at step "
                                           f"{self.step}; the last checkpoint is intact. Free some space and resume.")
            self._emit("message", level="error", text=message)
        self._close_sharing()
        try:  # on a full disk these may fail too; the message still reaches the caller
            run.log_event(f"{state} at step {self.step}" + (f": {message}" if message else ""),
                          level="warning" if state not in ("finished", "stopped") else "info")
            run.write_status(state, step=self.step, total_steps=total, message=message)
        except OSError:
            pass
        self._emit("finished", state=state, step=self.step, message=message)
        return TrainResult(run.path, self.step, state, self.config, message)

