"""The auxiliary-classifier loss (``ModelConfig.conditioning = "acgan"``, Odena et al. 2017) and how the training
loop gets D's prediction of y.

The other placements need nothing from the loop: y reaches D's logit through its input maps or its projection
term, so the ordinary GAN loss already conditions. With ``acgan`` D's logit ignores y and its extra head predicts
y; D minimises that head's loss on *real* images (it learns what the attributes look like from the data only:
classifying fakes too would let D and G agree on features real faces do not have), and G minimises it on its
fakes (the fakes must look like the y they were made for).

Per column the loss follows the column's kind (data/label_scales.py): binary columns are -1/+1 and use BCE on
(y + 1) / 2; continuous columns are standardised and use squared error. The model sees only numbers, so the
caller passes the kinds (:func:`label_kinds` reads them from the run's config).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import torch
import torch.nn.functional as F


def discriminate(D, x: torch.Tensor, y: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """D's logits (N,) and its prediction of y (N, A), or None when D does not predict y (``D.predicts_y``)."""
    if getattr(getattr(D, "module", D), "predicts_y", False):  # a DDP-wrapped D keeps the flag on its module
        return D(x, y, with_aux=True)
    return D(x, y), None


def label_kinds(attributes: Sequence[str], label_scales: Mapping[str, Mapping] | None) -> tuple[str, ...]:
    """Each attribute's kind from ``DataConfig.label_scales``; "binary" where none is recorded (older runs,
    whose labels were all -1/+1)."""
    scales = label_scales or {}
    return tuple(str(scales.get(name, {}).get("kind", "binary")) for name in attributes)


def auxiliary_loss(pred: torch.Tensor, y: torch.Tensor, kinds: Sequence[str] | None = None) -> torch.Tensor:
    """Mean over images and columns of BCE (binary columns, ``pred`` as logits) or squared error (continuous).

    ``kinds`` has one "binary" or "continuous" per column; None means all binary. Computed in fp32, like the GAN
    losses (losses.py).
    """
    pred, y = pred.float(), y.float()
    if kinds is None:
        kinds = ("binary",) * y.shape[1]
    if len(kinds) != y.shape[1]:
        raise ValueError(f"{len(kinds)} label kinds for {y.shape[1]} attribute columns")
    binary = torch.tensor([k == "binary" for k in kinds], device=y.device)
    bce = F.binary_cross_entropy_with_logits(pred, ((y + 1) / 2).clamp(0, 1), reduction="none")
    squared = (pred - y) ** 2
    return torch.where(binary, bce, squared).mean()
