"""``faceforge train``: a new run from the options (over an optional --config), or ``--resume RUN``; progress as
terminal lines or JSON lines; the first Ctrl-C stops cleanly at a step boundary. ``--dry-run`` measures a few steps
on the device the run would use and prints the time and memory it would take, writing nothing.

Under ``torchrun`` every process runs this command; they train one run together (training/distributed.py) and only
rank 0 prints progress and the result (the others print warnings and errors)."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

from faceforge.config import ConfigError
from faceforge.tasks import Eta, format_duration


def _config_from_args(args: argparse.Namespace):
    from faceforge.config import TrainConfig
    from faceforge.training.plans import (DEFAULT_MODEL, apply_loss, apply_model_defaults, default_attributes,
                                          default_channels, fit_model)

    cfg = TrainConfig.load(Path(args.config), stored=False) if args.config else TrainConfig()
    config_model = cfg.model.name if args.config else None  # --model naming the config's own model keeps its loss
    d, m, s, o = cfg.data, cfg.model, cfg.schedule, cfg.optim
    if args.data is not None:
        d.source = args.data
    if args.labels is not None:
        d.labels = args.labels
    if args.attributes is not None:
        d.attributes = [a.strip() for a in args.attributes.split(",") if a.strip()]
    elif not args.config:
        d.attributes = default_attributes(d.source)
    if args.crop is not None:
        d.crop = args.crop
    if args.builtin_count is not None:
        d.builtin_count = args.builtin_count
    if args.resolution is not None:
        m.resolution = d.resolution = args.resolution
    if args.model is not None:
        m.name = args.model
        if args.model != config_model:
            apply_model_defaults(cfg)  # its loss and learning rates; --loss, --lr-g... below still win
    elif not args.config:
        fit_model(cfg, requested=DEFAULT_MODEL)
    if args.channels is not None:
        m.g_channels = m.d_channels = args.channels
    elif not args.config:
        m.g_channels = m.d_channels = default_channels(m.resolution)
    if args.loss is not None:
        apply_loss(cfg, args.loss)  # with the settings measured for this model and loss; --n-critic, --lr-g... win
    overrides = (("z_dim", m, "z_dim"), ("conditioning", m, "conditioning"), ("n_critic", cfg.loss, "n_critic"),
                 ("steps", s, "steps"), ("batch_size", s, "batch_size"), ("lr_g", o, "lr_g"), ("lr_d", o, "lr_d"),
                 ("log_every", s, "log_every"), ("sample_every", s, "sample_every"),
                 ("checkpoint_every", s, "checkpoint_every"), ("metrics_every", s, "metrics_every"),
                 ("seed", cfg, "seed"), ("device", cfg.perf, "device"), ("precision", cfg.perf, "precision"),
                 ("name", cfg, "name"))
    for option, target, attr in overrides:  # an option given on the command line wins over --config
        if getattr(args, option) is not None:
            setattr(target, attr, getattr(args, option))
    if args.threads is not None:
        cfg.perf.threads = max(0, args.threads)
    if args.fixed_threads:
        cfg.perf.adapt_threads = False
    for item in args.label_kind or []:
        name, sep, kind = item.partition("=")
        if not sep or kind.strip() not in ("binary", "continuous"):
            raise ConfigError(f"--label-kind {item!r}: write ATTR=binary or ATTR=continuous")
        d.label_kinds[name.strip()] = kind.strip()
    return cfg.validate()


def _warnings_only(event: dict) -> None:
    """Progress of a process other than rank 0: its warnings and errors, prefixed with its rank."""
    if event["kind"] == "message" and event.get("level") in ("warning", "error"):
        print(f"  [rank {os.environ.get('RANK', '?')}] [{event['level']}] {event['text']}", file=sys.stderr,
              flush=True)


class _Printer:
    """Turns progress events into terminal lines (or JSON lines)."""

    def __init__(self, *, quiet: bool, as_json: bool):
        self.quiet, self.as_json = quiet, as_json
        self.total = 0
        self._last_data = 0.0
        self.eta = Eta()
        self.cpu_note = ""

    def __call__(self, event: dict) -> None:
        from faceforge.training import dump_event

        if self.as_json:
            print(dump_event(event), flush=True)
            return
        if self.quiet:
            return
        kind = event["kind"]
        if kind == "started":
            self.total = event["total_steps"]
            print(f"run: {event['run_dir']}\n  {event['perf']}", flush=True)
            if event.get("attributes"):
                print(f"  conditioned on: {', '.join(event['attributes'])}", flush=True)
        elif kind == "data":
            now = time.monotonic()
            if now - self._last_data > 1.0 or event["done"] == event["total"]:
                self._last_data = now
                print(f"  preparing data: {event['done']}/{event['total']}", flush=True)
        elif kind == "stats" and "loss_g" not in event:
            print(f"  quality at step {event['step']}: SWD {event['swd']:.1f} (lower is better), "
                  f"diversity {event['diversity']:.2f} (MS-SSIM, lower is more varied)", flush=True)
        elif kind == "stats":
            eta = self.eta.update(event["step"], self.total, event["wall"])
            print(f"step {event['step']:>6}/{self.total}  loss_g {event['loss_g']:.3f}  loss_d {event['loss_d']:.3f}  "
                  f"D(x) {event['d_real']:.2f}  D(G(z)) {event['d_fake']:.2f}  {event['img_s']:.0f} img/s  "
                  + (f"ETA {format_duration(eta)}" if eta is not None else "ETA …")
                  + (f"  SWD {event['swd']:.1f}" if "swd" in event else "") + self.cpu_note, flush=True)
        elif kind == "cpu":
            self.cpu_note = f"  [CPU busy: {event['threads']} thread{'s' * (event['threads'] != 1)}]" \
                if event["busy"] else ""
            print(f"  [cpu] {event['text']}", flush=True)
        elif kind == "health":
            print(f"  [health] {event['text']}", flush=True)
        elif kind == "message":
            print(f"  [{event['level']}] {event['text']}", flush=True)
        elif kind == "checkpoint":
            print(f"  checkpoint {Path(event['path']).name}", flush=True)


def _dry_run(args: argparse.Namespace, world: int) -> int:
    from faceforge.runs import Run
    from faceforge.training.estimate import estimate_run, format_estimate

    cfg = Run(Path(args.resume)).config() if args.resume else _config_from_args(args)
    if args.resume and args.steps is not None:
        cfg.schedule.steps = args.steps
    result = estimate_run(cfg)
    steps = cfg.schedule.steps
    print(f"dry run ({result['device']}, {result['precision']}, batch {cfg.schedule.batch_size}): "
          f"{format_estimate(result)}")
    print(f"  {steps:,} steps would take about {format_duration(result['seconds_per_step'] * steps)} "
          f"({result['img_per_s']:.0f} img/s); nothing was written")
    if world > 1:
        print(f"  measured in one process of {world}: each process holds the memory above for its share of the "
              "batch; the time with all of them is what the first stats rows will show")
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "stage"}))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from faceforge.training import distributed, resume_run, start_run

    world = distributed.launched_world()
    if args.dry_run:
        if world > 1 and int(os.environ.get("RANK", "0")) != 0:
            return 0  # one estimate is enough
        return _dry_run(args, world)
    dist = distributed.from_env()  # torchrun's process group, or one process
    try:
        code = _train(args, dist, resume_run, start_run)
    except BaseException:
        distributed.close_current(together=False)
        raise
    distributed.close_current(together=True)
    return code


def _train(args: argparse.Namespace, dist, resume_run, start_run) -> int:

    stop = {"requested": False}

    def on_signal(signum, frame):  # first Ctrl-C: stop cleanly at a step boundary; second: abort
        if stop["requested"]:
            raise KeyboardInterrupt
        stop["requested"] = True
        if dist.writes:  # torchrun passes the signal to every process; one says so
            print("\nstopping at the next step (a checkpoint will be written; Ctrl-C again to abort)…",
                  file=sys.stderr)

    signal.signal(signal.SIGINT, on_signal)
    try:
        signal.signal(signal.SIGTERM, on_signal)
    except (ValueError, OSError):
        pass
    printer = _Printer(quiet=args.quiet, as_json=args.json)
    progress = printer if dist.writes else _warnings_only
    if args.resume:
        result = resume_run(Path(args.resume), steps=args.steps, progress=progress,
                            should_stop=lambda: stop["requested"], dist=dist)
    else:
        cfg = _config_from_args(args)
        from faceforge.paths import default_runs_dir

        root = Path(args.out) if args.out else default_runs_dir()
        result = start_run(cfg, runs_root=root, progress=progress, should_stop=lambda: stop["requested"], dist=dist)
    if not dist.writes:
        return 0 if result.state in ("stopped", "finished") else 1
    print(f"{result.state} at step {result.step}: {result.run_dir}")
    if result.message:
        print(result.message, file=sys.stderr)
    if result.state in ("stopped", "finished"):
        print(f"resume with: faceforge train --resume {result.run_dir}" if result.state == "stopped" else
              f"generate with: faceforge generate --run {result.run_dir} --n 16 --out grid.png")
        return 0
    return 1
