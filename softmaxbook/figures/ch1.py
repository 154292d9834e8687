"""Figures of chapter 1 (softmax as an exponential family)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from softmaxbook import expfamily as ef

__all__ = ["bernoulli_data", "bernoulli"]


def bernoulli_data(draws: int = 20_000, seed: int = 0) -> dict:
    """The curves and dots of :func:`bernoulli`, without drawing them.

    ``theta`` (fine grid), ``mean`` = A'(θ) = σ(θ), ``curvature`` = A''(θ) = σ(θ)(1 − σ(θ));
    ``theta_mc`` (nine points), ``var_mc`` = sample variance of ``draws`` seeded Bernoulli
    labels at each, and ``max_err``, the largest gap between dots and curve.
    """
    if not isinstance(draws, int) or draws < 2:
        raise ValueError(f"draws must be an integer >= 2, got {draws!r}")
    t = np.linspace(-6, 6, 241)
    t_mc = np.linspace(-4, 4, 9)
    rng = np.random.default_rng(seed)
    var_mc = np.array([np.var(rng.random(draws) < ef.sigmoid(ti)) for ti in t_mc])
    s, s_mc = ef.sigmoid(t), ef.sigmoid(t_mc)
    return {"theta": t, "mean": s, "curvature": s * (1 - s), "theta_mc": t_mc, "var_mc": var_mc,
            "draws": draws, "max_err": float(np.max(np.abs(var_mc - s_mc * (1 - s_mc))))}


def bernoulli(draws: int = 20_000, seed: int = 0):
    """Two classes: A' = σ (the mean of Y₁), A'' = σ(1 − σ) and the sample variance of Y₁ (dots).

    Returns ``(fig, data)`` with ``data`` from :func:`bernoulli_data`.
    """
    d = bernoulli_data(draws, seed)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    ax.plot(d["theta"], d["mean"], label="A′(θ) = σ(θ)  (mean of Y₁)", color="#0072B2")
    ax.plot(d["theta"], d["curvature"], label="A″(θ) = σ(θ)(1 − σ(θ))", color="#D55E00")
    ax.plot(d["theta_mc"], d["var_mc"], "o", color="#000000",
            label=f"sample variance of Y₁, {d['draws']:,} draws per dot")
    ax.set_xlabel("natural parameter θ = o₁ − o₂")
    ax.set_ylabel("value")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig, d
