"""``faceforge classifier train``: FaceForge's own attribute classifier for a run, trained on the run's labelled
data (all its attributes), saved in the run folder with its held-out accuracy (or error, in the column's units)
per attribute. It measures how well a conditional model obeys its conditions and judges edits."""
from __future__ import annotations

import argparse
import time

from faceforge.cli.interrupts import stop_on_ctrl_c
from faceforge.tasks import format_duration


def cmd_classifier_train(args: argparse.Namespace) -> int:
    from faceforge.training import dump_event
    from faceforge.training.classifier import train_for_run

    should_stop = stop_on_ctrl_c("stopping (nothing is saved)")
    last = [0.0]

    def progress(event: dict) -> None:
        if args.json:
            print(dump_event(event), flush=True)
            return
        kind = event.get("kind")
        now = time.monotonic()
        if kind == "message":
            print(f"  {event['text']}", flush=True)
        elif kind == "data" and (now - last[0] >= 2.0 or event["done"] == event["total"]):
            last[0] = now
            print(f"  preparing data: {event['done']}/{event['total']}", flush=True)
        elif kind in ("estimate", "stats") and (now - last[0] >= 2.0 or event["step"] == event["total_steps"]):
            last[0] = now
            print(f"  step {event['step']}/{event['total_steps']}  ETA {format_duration(event['eta_s'])}", flush=True)

    _, metrics = train_for_run(args.run, epochs=args.epochs, progress=progress, should_stop=should_stop)
    if not args.json:
        print(f"held-out results ({metrics.get('n_holdout', '?')} images the classifier never saw):")
        for name, m in metrics.get("attributes", {}).items():
            if "accuracy" in m:
                print(f"  {name:24s} accuracy {m['accuracy']:.1%}  balanced {m.get('balanced_accuracy', float('nan')):.1%}")
            elif "mae" in m:
                print(f"  {name:24s} mean error {m['mae']:.3g} (its own units)")
    return 0
