"""One attribute's direction in a latent space: keep the samples the classifier is surest about, fit a linear SVM
between them, and keep its unit normal, intercept and accuracies.

Why an SVM on the extremes (the "Deep Chernoff Faces" seed and InterFaceGAN): the middle of the score range is
where the classifier is least reliable, so training on the top and bottom ``share`` gives clean labels; the middle
("remainder") then measures how far the boundary generalises to faces it never saw.

scikit-learn's ``LinearSVC`` (liblinear) does the fit. scikit-learn is the one dependency this package adds: with
its own dependencies (SciPy, joblib, threadpoolctl, narwhals) it is about 200 MB installed on Linux x86-64 (SciPy
143 MB, scikit-learn 51 MB), roughly 45 MB of wheels to download; it is imported only when a direction is fitted.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

# the top and the bottom 5% of the samples by score. Measured on CelebA at 32 px (bench/directions_celeba.py,
# 4,000 samples, a held-out judge's on-off rate at +-2 spreads): a StyleGAN's W directions went from Smiling +0.27
# and Male +0.35 with 30% to +0.73 and +0.61 with 5% (+0.61 and +0.59 with 10%); DCGAN's z directions moved less
# (+0.92/+0.89 to +0.89/+0.84). The middle of the score range is ambiguous faces that tilt W's plane.
DEFAULT_SHARE = 0.05
MIN_SIDE = 100  # ... but at least this many samples on each side (a quarter of them when there are fewer)
DEFAULT_VALIDATION = 0.2  # of the kept samples, held out of the fit


@dataclass
class FittedDirection:
    """A hyperplane n.x + intercept = 0 with |n| = 1 (positive side: more of the attribute), and how good it is.

    ``spread`` is the standard deviation of n.x over all the samples: amounts are in units of it, so +1 moves a
    face as far as one typical face differs from the average along this direction, for any model."""

    normal: np.ndarray  # (D,) float32, unit length
    intercept: float
    spread: float
    val_accuracy: float  # on the held-out share of the kept (confident) samples
    remainder_accuracy: float  # on the samples not kept, "on" when their score is above the median of all scores
    threshold: float  # that median: equal top and bottom shares put the plane there, not at p = 0.5
    n_train: int
    n_val: int
    n_remainder: int

    def summary(self) -> dict:
        """Everything but the vector, as JSON data."""
        out = asdict(self)
        out.pop("normal")
        return {k: (float(v) if isinstance(v, (float, np.floating)) else int(v)) for k, v in out.items()}


def confident_split(scores: np.ndarray, share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices of the bottom ``share``, the top ``share`` and the rest of ``scores`` (ties broken by index);
    each side keeps at least ``MIN_SIDE`` rows (or a quarter of them), so a small fit still has an SVM's worth."""
    if not 0.0 < share <= 0.5:
        raise ValueError(f"share must be in (0, 0.5], not {share}")
    n = len(scores)
    k = max(int(n * share), min(MIN_SIDE, n // 4))
    if k < 4:
        raise ValueError(f"{n} samples with share {share} keep only {k} on each side; use more samples")
    order = np.argsort(np.asarray(scores, np.float64), kind="stable")
    return order[:k], order[n - k:], order[k:n - k]


def fit_direction(latents: np.ndarray, scores: np.ndarray, *, share: float = DEFAULT_SHARE,
                  validation: float = DEFAULT_VALIDATION, seed: int = 0, C: float = 1.0) -> FittedDirection:
    """The SVM normal separating the most and least ``scores`` (one attribute's classifier output per latent row).

    Latents are centred before the fit (liblinear penalises the intercept, which would tilt the plane for a space
    whose mean is far from 0, such as W) and the intercept is moved back to the raw coordinates afterwards."""
    from sklearn.svm import LinearSVC

    x = np.asarray(latents, np.float64).reshape(len(latents), -1)
    scores = np.asarray(scores, np.float64).reshape(-1)
    if len(x) != len(scores):
        raise ValueError(f"{len(x)} latents but {len(scores)} scores")
    low, high, rest = confident_split(scores, share)
    kept = np.concatenate([low, high])
    labels = np.concatenate([np.zeros(len(low), int), np.ones(len(high), int)])
    perm = np.random.default_rng([int(seed), 0x5F3]).permutation(len(kept))
    n_val = int(round(len(kept) * validation)) if validation > 0 else 0
    val, train = perm[:n_val], perm[n_val:]
    mu = x.mean(0)
    svm = LinearSVC(C=C, dual="auto", max_iter=20000, random_state=int(seed))
    svm.fit(x[kept[train]] - mu, labels[train])
    coef = svm.coef_.reshape(-1)
    norm = float(np.linalg.norm(coef))
    if not np.isfinite(norm) or norm == 0.0:
        raise ValueError("the SVM found no direction (every kept sample scored the same?)")
    normal = coef / norm
    intercept = float(svm.intercept_[0]) / norm - float(normal @ mu)

    def accuracy(rows: np.ndarray, truth: np.ndarray) -> float:
        return float(((x[rows] @ normal + intercept > 0) == truth).mean()) if len(rows) else float("nan")

    threshold = float(np.median(scores))  # equal shares put the plane at the median, whatever the kind
    return FittedDirection(normal=normal.astype(np.float32), intercept=intercept,
                           spread=float((x @ normal).std()), val_accuracy=accuracy(kept[val], labels[val] == 1),
                           remainder_accuracy=accuracy(rest, scores[rest] > threshold), threshold=threshold,
                           n_train=len(train), n_val=len(val), n_remainder=len(rest))
