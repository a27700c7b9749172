"""What the Data faces pane runs on its task pool: the core only, no widget, plain results back."""
from __future__ import annotations

from pathlib import Path


def build_in_background(recipe, table, loaded, *, state):
    """Runs on the pool: the core's build with the task's progress and cancel."""
    from faceforge.chernoff import build

    def progress(event: dict) -> None:
        state.set_progress(int(event["done"]), int(event["total"]))

    return build(recipe, table=table, loaded=loaded, progress=progress, should_stop=state.should_stop)


def load_in_background(run_dir: str):
    from faceforge.chernoff import load_for_run

    return load_for_run(Path(run_dir))


def export_in_background(built, path: str):
    from faceforge.chernoff import export

    return [str(p) for p in export(built, Path(path))]
