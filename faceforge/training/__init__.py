"""Training: the loop, losses, EMA and snapshots. Plain functions with callbacks; no Qt."""
from faceforge.training.loop import TrainResult, Trainer, train

__all__ = ["TrainResult", "Trainer", "train"]
