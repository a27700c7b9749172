"""The long version of tests/test_faults.py: SIGKILL `faceforge train` 20 times at random moments, resume each
time, and check that nothing is ever corrupt and at most one checkpoint interval of work is lost.

    python bench/faults.py [--kills 20] [--seed 7]
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_faults import kill_and_resume  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--steps", type=int, default=2000)
    args = ap.parse_args()
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        run, done = kill_and_resume(Path(tmp), kills=args.kills, seed=args.seed, steps=args.steps, max_delay=1.5)
        events = [l for l in run.events() if "resumed" in l]
        print(f"kills={done} resumes={len(events)} final_state={run.status()['state']} seconds={time.time() - t0:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
