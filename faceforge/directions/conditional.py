"""Conditional editing: "change A but keep B" by removing from A's direction its components along B, C, ...

With one condition this is InterFaceGAN's n_A - (n_A.n_B) n_B; with several the conditions are first made
orthonormal by a QR decomposition, so a pair of correlated conditions (Male and Beard) is projected out exactly once
rather than twice.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def project_out(direction: np.ndarray, conditions: Sequence[np.ndarray], *, tol: float = 1e-6) -> np.ndarray:
    """``direction`` with every component in the span of ``conditions`` removed, back to unit length.

    Raises ValueError when nothing is left (the direction lies in the conditions' span): such an edit cannot
    change the attribute while keeping them."""
    n = np.asarray(direction, np.float64).reshape(-1)
    if not len(conditions):
        return (n / np.linalg.norm(n)).astype(np.float32)
    basis = np.stack([np.asarray(c, np.float64).reshape(-1) for c in conditions], axis=1)  # (D, k)
    if basis.shape[0] != n.shape[0]:
        raise ValueError(f"the conditions have {basis.shape[0]} dimensions, the direction {n.shape[0]}")
    q, r = np.linalg.qr(basis)
    q = q[:, np.abs(np.diag(r)) > tol * max(1.0, float(np.abs(r).max()))]  # drop conditions that repeat others
    left = n - q @ (q.T @ n)
    norm = float(np.linalg.norm(left))
    if norm < tol * max(1.0, float(np.linalg.norm(n))):
        raise ValueError("the direction lies in the span of the conditions: nothing is left to move")
    return (left / norm).astype(np.float32)
