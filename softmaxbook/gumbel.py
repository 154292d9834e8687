"""The Gumbel-max trick: LogSumExp and softmax by adding noise and taking a maximum (chapter 4).

With ``G_1, ..., G_n`` independent standard Gumbel variables (density
``exp(-g - exp(-g))``, mean Euler's ``gamma = 0.5772...``, variance ``pi^2/6``)::

    max_i (x_i + G_i) ~ Gumbel(location LSE(x)),  so  E[max_i (x_i + G_i)] = LSE(x) + gamma,
    argmax_i (x_i + G_i) ~ softmax(x).

A fourth witness, after chapter 2's three, that LSE is the log-partition and softmax its
distribution. The functions here draw seeded Monte Carlo samples (``numpy``'s
``default_rng(seed).gumbel``, ``n`` rows of ``len(x)`` draws) and return estimates with
their standard errors, which shrink like ``1/sqrt(N)``.
"""

from __future__ import annotations

import math

import numpy as np

from softmaxbook import checks
from softmaxbook.expfamily import softmax
from softmaxbook.lse import logsumexp

__all__ = [
    "EULER_GAMMA", "MAX_STD", "gumbel_max_draws", "expected_max", "max_estimate",
    "argmax_frequencies", "running_errors",
]

#: Euler's constant, the mean of a standard Gumbel variable.
EULER_GAMMA = float(np.euler_gamma)

#: Standard deviation of any Gumbel variable of scale 1, ``pi / sqrt(6)``; in particular of
#: ``max_i (x_i + G_i)``, whatever ``x``.
MAX_STD = math.pi / math.sqrt(6)

#: Rows drawn per chunk (bounds the memory; the seeded stream does not depend on it).
CHUNK = 1 << 17


def gumbel_max_draws(x, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` seeded draws of ``(max_i (x_i + G_i), argmax_i (x_i + G_i))`` (chapter 4).

    The noise is ``np.random.default_rng(seed).gumbel(size=(n, len(x)))``, drawn in chunks
    of rows (the same numbers as one call). Returns the maxima (float array) and the
    arg-maxima (int array), each of length ``n``.
    """
    x, n = checks.vector(x), checks.positive_int(n, "the number of draws n")
    rng = np.random.default_rng(seed)
    maxima = np.empty(n)
    winners = np.empty(n, dtype=np.intp)
    for start in range(0, n, CHUNK):
        z = x + rng.gumbel(size=(min(CHUNK, n - start), x.size))
        k = np.argmax(z, axis=1)
        winners[start: start + k.size] = k
        maxima[start: start + k.size] = z[np.arange(k.size), k]
    return maxima, winners


def expected_max(x) -> float:
    """The exact ``E[max_i (x_i + G_i)] = LSE(x) + gamma`` (chapter 4); 1.98483 for ``x = (1, 0, -1)``."""
    return float(logsumexp(checks.vector(x))) + EULER_GAMMA


def max_estimate(x, n: int = 10**6, seed: int = 0) -> tuple[float, float]:
    """Monte Carlo estimate of ``E[max_i (x_i + G_i)]`` and its standard error (chapter 4).

    Returns ``(mean, sample standard deviation / sqrt(n))``. With ``n = 10**6``, seed 0
    and ``x = (1, 0, -1)``: 1.98294 with standard error 0.00128, against the exact 1.98483.
    """
    maxima, _ = gumbel_max_draws(x, n, seed)
    sd = float(maxima.std(ddof=1)) if maxima.size > 1 else math.nan
    return float(maxima.mean()), sd / math.sqrt(maxima.size)


def argmax_frequencies(x, n: int = 10**6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """How often each index wins ``argmax_i (x_i + G_i)``, and the standard errors (chapter 4).

    Returns ``(freq, se)`` with ``se_i = sqrt(p_i (1 - p_i) / n)`` for ``p = softmax(x)``,
    the binomial standard error of a frequency; ``freq`` estimates ``softmax(x)``.
    """
    x = checks.vector(x)
    _, winners = gumbel_max_draws(x, n, seed)
    freq = np.bincount(winners, minlength=x.size) / winners.size
    p = softmax(x)
    return freq, np.sqrt(p * (1 - p) / winners.size)


def running_errors(x, sizes, seed: int = 0) -> dict[str, np.ndarray]:
    """Errors of the estimates from the first ``N`` draws of ONE seeded stream, for each ``N`` in ``sizes``.

    Chapter 4. Returns a dict of arrays (one entry per ``N``): ``"N"``; ``"max_error"``,
    ``|mean of the maxima - (LSE(x) + gamma)|``; ``"max_se"``, the predicted standard error
    ``(pi/sqrt 6)/sqrt(N)``; ``"softmax_error"``, the largest ``|frequency - softmax(x)_i|``;
    and ``"softmax_se"``, the largest ``sqrt(p_i (1 - p_i)/N)``. The errors wander around
    the standard errors, which fall like ``1/sqrt(N)``.
    """
    x = checks.vector(x)
    sizes = np.atleast_1d(np.asarray(sizes))
    if sizes.ndim != 1 or sizes.size == 0 or not np.all(np.isfinite(sizes)) \
            or not np.all(sizes == np.round(sizes)) or sizes.min() < 1:
        raise ValueError(f"sizes must be positive integers, got {sizes!r}")
    sizes = sizes.astype(np.int64)
    maxima, winners = gumbel_max_draws(x, int(sizes.max()), seed)
    mean = np.cumsum(maxima)[sizes - 1] / sizes
    counts = np.array([np.bincount(winners[:N], minlength=x.size) for N in sizes.tolist()])
    p = softmax(x)
    return {
        "N": sizes,
        "max_error": np.abs(mean - expected_max(x)),
        "max_se": MAX_STD / np.sqrt(sizes),
        "softmax_error": np.abs(counts / sizes[:, None] - p).max(axis=1),
        "softmax_se": np.sqrt((p * (1 - p)).max() / sizes),
    }
