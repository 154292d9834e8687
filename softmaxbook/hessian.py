"""The Hessian of the softmax cross-entropy loss is a covariance (chapter 2)."""

from __future__ import annotations

import numpy as np


def categorical_covariance(p):
    """``Cov[Y] = diag(p) - p p^T`` for a one-hot ``Y ~ Categorical(p)`` (chapter 2)."""
    p = np.asarray(p, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p must be a vector, got shape {p.shape}")
    return np.diag(p) - np.outer(p, p)
