"""Training: the loop, losses, EMA and snapshots. Plain functions with callbacks; no Qt."""
from faceforge.training.lifecycle import dump_event, resume_run, start_run
from faceforge.training.loop import TrainResult, Trainer

__all__ = ["TrainResult", "Trainer", "dump_event", "resume_run", "start_run"]
