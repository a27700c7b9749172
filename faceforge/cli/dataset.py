"""``faceforge dataset check``: what a folder, zip or the built-in faces hold, and what is wrong with them."""
from __future__ import annotations

import argparse
import json
import sys
import time


def cmd_dataset_check(args: argparse.Namespace) -> int:
    from faceforge.data import check_dataset

    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if not args.json and (now - last[0] > 1.0 or done == total):
            last[0] = now
            print(f"  checked {done}/{total}", file=sys.stderr, flush=True)

    report = check_dataset(args.path, args.labels, progress=progress)
    print(json.dumps(report.to_dict(), indent=1) if args.json else report.summary())
    return 0
