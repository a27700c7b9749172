"""``faceforge directions fit | list | sefa | ganspace``: attribute directions for any run's generator, fitted with
the run's attribute classifier (``faceforge classifier train`` first), and unsupervised components (SeFa, GANSpace),
used by ``faceforge generate --set dir:NAME=amount``."""
from __future__ import annotations

import argparse
import time

from faceforge.cli.interrupts import stop_on_ctrl_c
from faceforge.tasks import format_duration


def cmd_directions(args: argparse.Namespace) -> int:
    return {"fit": cmd_directions_fit, "list": cmd_directions_list,
            "sefa": cmd_directions_sefa, "ganspace": cmd_directions_ganspace}[args.directions_command](args)


def cmd_directions_sefa(args: argparse.Namespace) -> int:
    from faceforge.directions.sefa import sefa_directions
    from faceforge.editing import LoadedGenerator
    from faceforge.runs import find_run

    run = find_run(args.run)
    gen = LoadedGenerator.from_run(run, device=args.device)
    dirs = sefa_directions(gen, components=args.components, seed=run.config().seed)
    return _save_components(run, dirs, args.name, method="SeFa", detail=f"{len(dirs.names)} components")


def _save_components(run, dirs, name: str, *, method: str, detail: str) -> int:
    """Write unsupervised components as RUN/directions/NAME.json, log it, and print where and how to try one."""
    from faceforge.directions.store import directions_dir

    path = dirs.save(directions_dir(run.path), name)
    run.log_event(f"{len(dirs.names)} {method} directions -> {path.relative_to(run.path)}")
    print(f"wrote {path} ({dirs.space} space, {detail}; try generate --set dir:{dirs.names[0]}=2 --directions {name})")
    _print_table(dirs)
    return 0


def cmd_directions_ganspace(args: argparse.Namespace) -> int:
    from faceforge.directions.ganspace import ganspace_directions
    from faceforge.editing import LoadedGenerator
    from faceforge.runs import find_run

    run = find_run(args.run)
    gen = LoadedGenerator.from_run(run, device=args.device)
    should_stop = stop_on_ctrl_c("stopping (nothing is saved)")
    last = [0.0]

    def progress(event: dict) -> None:
        now = time.monotonic()
        if now - last[0] >= 2.0 or event["done"] == event["total"]:
            last[0] = now
            eta = event.get("eta_s")
            print(f"  sampled {event['done']}/{event['total']} latents" + (f"  ETA {format_duration(eta)}" if eta
                  is not None else ""), flush=True)

    dirs = ganspace_directions(gen, components=args.components, samples=args.samples,
                               seed=run.config().seed if args.seed is None else args.seed, progress=progress,
                               should_stop=should_stop)
    return _save_components(run, dirs, args.name, method="GANSpace", detail=f"PCA of {dirs.meta['pca_of']}, "
                            f"{len(dirs.names)} components, {dirs.meta['seconds']:.1f} s")


def cmd_directions_fit(args: argparse.Namespace) -> int:
    from faceforge.directions import FitOptions, fit_for_run
    from faceforge.runs import find_run

    run = find_run(args.run)
    should_stop = stop_on_ctrl_c("stopping (nothing is saved)")
    last = [0.0]

    def progress(event: dict) -> None:
        now = time.monotonic()
        if event.get("kind") == "message":
            print(f"  {event['text']}", flush=True)
        elif event.get("stage") == "sampling" and (now - last[0] >= 2.0 or event["done"] == event["total"]):
            last[0] = now
            eta = event.get("eta_s")
            print(f"  scored {event['done']}/{event['total']} faces" + (f"  ETA {format_duration(eta)}" if eta is not
                  None else ""), flush=True)
        elif event.get("stage") == "relevance" and (now - last[0] >= 2.0 or event["done"] == event["total"]):
            last[0] = now
            eta = event.get("eta_s")
            print(f"  ranking layers for {event['attribute']}: {event['done']}/{event['total']} edits scored"
                  + (f"  ETA {format_duration(eta)}" if eta is not None else ""), flush=True)
        elif event.get("stage") == "fit":
            print(f"  fitted {event['attribute']} ({event['done']}/{event['total']})", flush=True)

    options = FitOptions(samples=args.samples, seed=run.config().seed if args.seed is None else args.seed,
                         share=args.share, relevance=args.relevance)
    attributes = [a for a in (args.attributes or "").split(",") if a.strip()] or None
    dirs, path = fit_for_run(run.path, classifier=args.classifier, attributes=attributes, options=options,
                             name=args.name, device=args.device, progress=progress, should_stop=should_stop)
    print(f"wrote {path} ({dirs.space} space, {len(dirs.names)} directions, {dirs.meta['seconds']:.0f} s)")
    _print_table(dirs)
    return 0


def cmd_directions_list(args: argparse.Namespace) -> int:
    from faceforge.directions import list_directions, load_directions
    from faceforge.runs import find_run

    run = find_run(args.run)
    files = list_directions(run.path)
    if not files:
        print(f"{run.name} has no directions yet: faceforge directions fit --run {run.path}")
        return 0
    for path in files:
        dirs = load_directions(path)
        opts = dirs.meta.get("options", {})
        method = dirs.meta.get("method")
        if method == "named":  # components a person named (the Edit pane's Components tab)
            print(f"{path.stem}: {dirs.space} space, named components")
        elif method in ("sefa", "ganspace"):
            print(f"{path.stem}: {dirs.space} space, step {dirs.meta.get('checkpoint_step', '?')}, "
                  f"{'SeFa' if method == 'sefa' else 'GANSpace'} components")
        else:
            print(f"{path.stem}: {dirs.space} space, step {dirs.meta.get('checkpoint_step', '?')}, "
                  f"{opts.get('samples', '?')} samples, share {opts.get('share', '?')}")
        _print_table(dirs)
    return 0


def _print_table(dirs) -> None:
    print(f"  {'direction':24s} {'validation':>10s} {'remainder':>10s} {'classifier':>10s}  spread")
    for name in dirs.names:
        fit = dirs.fits[name]
        if "explained_variance" in fit and "val_accuracy" not in fit:  # a GANSpace component
            print(f"  {name:24s} {'variance':>10s} {fit['explained_variance']:10.1%} {'':>10s}  {fit['spread']:.3g}")
            continue
        if "val_accuracy" not in fit:  # an unsupervised component: no classifier, no accuracy
            print(f"  {name:24s} {'eigenvalue':>10s} {fit.get('eigenvalue', float('nan')):10.4g} {'':>10s}  "
                  f"{fit['spread']:.3g}")
            continue
        held = fit.get("classifier_held_out", {})
        judge = f"{held['accuracy']:.1%}" if "accuracy" in held else \
            (f"r {held['corr']:.2f}" if "corr" in held else "?")
        print(f"  {name:24s} {fit['val_accuracy']:10.1%} {fit['remainder_accuracy']:10.1%} {judge:>10s}  "
              f"{fit['spread']:.3g}")
        if fit.get("layers"):
            rel = fit["layers"]
            bars = "  ".join(f"{i}:{rel['gains'][i]:+.3f}" for i in rel["ranking"])
            print(f"    layers by gain at {rel['amount']:+g} spreads: {bars}; kept {rel['kept']} "
                  f"({rel['kept_gain']:+.3f} of {rel['all_gain']:+.3f} with all)")
