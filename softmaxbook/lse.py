"""LogSumExp, the real soft maximum (chapter 4).

``LSE(x) = log sum_i exp(x_i)`` is the smooth maximum that gives softmax its name.
This module holds what chapter 4 computes with:

* :func:`logsumexp` -- a fast, numerically stable LSE (shift by the maximum, ``log1p``
  of the remaining terms, no avoidable temporaries), with an ``axis`` argument; on long
  spread-out vectors it skips the exponentials of entries so far below the maximum that
  together they move the exact LSE by at most 1/16 of an ulp of the answer
  (:func:`pruned_logsumexp`, :func:`pruning_margin`);
* :func:`smooth_max` and :func:`soft_min` -- ``lambda^-1 LSE(lambda x)`` and
  ``-lambda^-1 LSE(-lambda x)``, and :func:`lse_gap`, the gap ``LSE(a, b) - max(a, b)``;
* :func:`exp_overflow_threshold` -- where the naive formula overflows (``log`` of the
  largest float of a dtype);
* :func:`logsumexp_mp` and :func:`ulp_error` -- an mpmath reference and the error in
  units in the last place, used by the tests, the chapter and ``bench/bench_lse.py``.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from softmaxbook import checks

#: Elements processed per step by the whole-array path of :func:`logsumexp`
#: (a 2 MiB float64 buffer: fewer Python steps, still cache-friendly;
#: the size was chosen by timing bench/bench_lse.py).
CHUNK = 1 << 18

#: Flat arrays shorter than this are never pruned (the test for pruning cannot pay).
PRUNE_MIN_SIZE = 4096
#: About this many evenly spaced entries are looked at to guess whether pruning pays.
PRUNE_SAMPLE = 1024


def logsumexp(x, axis=None, keepdims=False, prune=True):
    """Numerically stable ``log(sum(exp(x)))`` (chapter 4).

    Computed as ``m + log1p(sum_{i != k} exp(x_i - m))`` with ``m = x_k = max(x)``:
    no term of the sum exceeds 1, so nothing overflows, and ``log1p`` keeps the
    digits of the small terms when one entry dominates.

    Parameters
    ----------
    x : array_like of real numbers. float16/float32/float64/longdouble keep their
        dtype; integers are computed in float64; booleans, strings and complex numbers
        are a ``TypeError`` (:func:`softmaxbook.checks.real_array`).
    axis : None (all entries), an int, or a tuple of ints -- the axes summed over.
    keepdims : keep the summed axes with length 1 (as numpy reductions do).
    prune : when the whole array (or a 1-D vector) is reduced, skip the exponentials of
        entries so far below the maximum that together they move the exact LSE by at most
        1/16 of an ulp of the answer (:func:`pruned_logsumexp`); that can still tip a
        rounding, so the result may differ from ``prune=False`` in the last bit.
        ``False`` exponentiates every entry.

    Edge cases: any NaN gives NaN; otherwise any ``+inf`` gives ``+inf``; all entries
    ``-inf`` give ``-inf``. An empty reduction raises ``ValueError`` (the sum of no
    exponentials is 0 and ``log 0`` has no finite answer; numpy's own ``max`` of an
    empty array is an error for the same reason).
    """
    a = checks.real_array(x, "x", keep_float_dtype=True)
    if not isinstance(prune, (bool, np.bool_)):
        raise TypeError(f"prune must be True or False, got {prune!r}")
    if axis is None:
        if a.size == 0:
            raise ValueError("logsumexp of an empty array is undefined: there is no maximum to shift by "
                             "(and log 0 = -inf); pass at least one number")
        out = _lse_flat(np.ravel(a), prune)
        if keepdims:
            return np.full((1,) * a.ndim, out, dtype=a.dtype)
        return out
    axes = _normalize_axes(axis, a.ndim)
    if any(a.shape[ax] == 0 for ax in axes):
        raise ValueError(f"logsumexp over an empty axis (shape {a.shape}, axis={axis}) is undefined: "
                         "there is no maximum to shift by")
    if len(axes) != 1:  # several axes: move them to the end and merge them into one
        keep = [d for d in range(a.ndim) if d not in axes]
        b = np.transpose(a, keep + list(axes)).reshape([a.shape[d] for d in keep] + [-1])
        out = _lse_axis(b, -1)
        if keepdims:
            out = np.expand_dims(out, tuple(sorted(axes)))
        return out
    out = _lse_flat(a, prune) if a.ndim == 1 else _lse_axis(a, axes[0])
    return np.expand_dims(out, axes[0]) if keepdims else out


def _normalize_axes(axis, ndim: int) -> tuple[int, ...]:
    items = axis if isinstance(axis, tuple) else (axis,)
    axes = []
    for ax in items:
        if isinstance(ax, bool) or not isinstance(ax, (int, np.integer)):
            raise TypeError(f"axis must be None, an int or a tuple of ints, got {axis!r}")
        if not -ndim <= ax < ndim:
            raise ValueError(f"axis {ax} is out of range for an array with {ndim} dimension(s)")
        axes.append(int(ax) % ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(axes)


def _direct_range(dtype, n: int):
    """Maxima ``m`` for which ``sum exp(x_i)`` can be formed without shifting, or None.

    The shift ``x - m`` costs a pass over the data. It can be skipped when no
    ``exp(x_i)`` overflows and the sum stays finite (``m <= log(max) - log(n) - 1``),
    and when every term that underflows into subnormals is negligible next to
    ``exp(m)`` (``m >= log(tiny) - log(eps) + 5``). Then
    ``sum_{i != k} exp(x_i - m) = (sum_{i != k} exp(x_i)) / exp(m)`` with one more rounding.
    """
    if dtype not in (np.float32, np.float64):
        return None
    info = np.finfo(dtype)
    hi = math.log(float(info.max)) - math.log(n) - 1.0
    lo = math.log(float(info.tiny)) - math.log(float(info.eps)) + 5.0
    return lo, hi


def pruning_margin(n: int, m: float, dtype=np.float64) -> float:
    """A margin ``delta`` such that the terms below ``m - delta`` hardly move the LSE (chapter 4).

    By the chapter's bound ``max(x) < LSE(x) <= max(x) + log n`` read the other way, ``n`` terms below ``m - delta``
    add at most ``n e^-delta`` to ``S = sum_i e^(x_i - m) >= 1``, so they move
    ``LSE = m + log S`` by at most ``n e^-delta``. An ulp of the answer is at least
    ``|LSE| eps/2``, and ``|LSE| >= |m|`` when ``m > 0``. Choosing
    ``delta = log n + log(32/eps) - log max(|m|, 1)`` makes the change at most ``eps/32``
    of ``max(|m|, 1)``: a 16th of an ulp whenever ``|LSE| >= max(|m|, 1)``
    (:func:`pruned_logsumexp` checks the bound again with the answer in hand). A 16th of
    an ulp of the exact value can still move it across the midpoint between two floats,
    so "hardly" is not "never": the rounded result may change in its last bit.
    """
    eps = float(np.finfo(dtype).eps)
    return math.log(max(int(n), 1)) + math.log(32 / eps) - math.log(max(abs(float(m)), 1.0))


def pruned_logsumexp(x):
    """``(LSE of every entry of x, number of entries exponentiated)`` (chapter 4).

    What :func:`logsumexp` does on a whole array: with ``m = max(x)``, entries below
    ``m - pruning_margin(n, m)`` are skipped and the LSE of the rest is computed. Then the
    bound is checked with the computed answer ``r``: the skipped terms change the exact LSE
    by at most ``n_skipped * exp(threshold - r)``, which must be below 1/16 of an ulp of
    ``r``; if it is not (an answer close to 0, say), every entry is used. So the result
    is the computed LSE of the kept entries, whose exact value is within 1/16 ulp of the
    exact LSE of all of them: its error is that of the kept entries' LSE plus at most
    1/16 ulp. On spread-out data
    (10**6 normal values with sigma = 50) about a hundred exponentials remain, and the cost
    is a pass for the maximum, a comparison pass and a copy of the few kept entries. Arrays shorter than
    ``PRUNE_MIN_SIZE``, dtypes other than float32/float64, NaN or infinite maxima, and data
    where a strided sample of ``PRUNE_SAMPLE`` entries shows that most would be kept (no
    spread) take the ordinary path, which exponentiates every entry.
    """
    a = np.ravel(checks.real_array(x, "x", keep_float_dtype=True))
    if a.size == 0:
        raise ValueError("logsumexp of an empty array is undefined: there is no maximum to shift by "
                         "(and log 0 = -inf); pass at least one number")
    got = _lse_pruned(a)
    return got if got is not None else (_lse_flat(a, prune=False), a.size)


def pruning_tip_example(n: int = 5000, seed: int = 0, tries: int = 5000) -> np.ndarray:
    """A vector on which pruning changes the float64 result in its last bit (chapter 4).

    ``x = (a, b, c, c, ..., c)`` with ``n - 2`` copies of ``c``, the largest float below the
    pruning threshold of ``a = max(x)``: :func:`logsumexp` keeps ``a`` and ``b`` and skips
    the rest, which move the exact LSE by less than 1/16 of an ulp. ``a`` and ``b`` are drawn
    (seeded) until that small move carries the exact value across the midpoint between two
    floats and each computation returns its exact value correctly rounded: the pruned
    result is the double nearest to the exact LSE of ``(a, b)``, the unpruned one the double
    nearest to the exact LSE of all ``n`` entries, and the two differ by one ulp.
    """
    n = int(n)
    if n < PRUNE_MIN_SIZE:
        raise ValueError(f"pruning applies from {PRUNE_MIN_SIZE} entries on, got n = {n}")
    rng = np.random.default_rng(seed)
    for _ in range(int(tries)):
        a = float(rng.uniform(5, 20))
        b = a - float(rng.uniform(0, 1))
        c = float(np.nextafter(a - pruning_margin(n, a), -np.inf))
        with mpmath.workdps(60):
            kept = logsumexp_mp([a, b])
            every = mpmath.log(mpmath.exp(kept) + (n - 2) * mpmath.exp(mpmath.mpf(c)))
            if float(kept) == float(every):
                continue
        x = np.concatenate([[a, b], np.full(n - 2, c)])
        if logsumexp(x) == float(kept) and logsumexp(x, prune=False) == float(every):
            return x
    raise RuntimeError(f"no example in {tries} tries; raise tries or change the seed")


def _lse_pruned(a: np.ndarray):
    """``(LSE, entries exponentiated)`` of a flat non-empty array with the terms below the
    margin skipped, or None where pruning does not apply or would not pay."""
    n = a.size
    if a.dtype not in (np.float32, np.float64) or n < PRUNE_MIN_SIZE:
        return None
    sample = a[:: max(1, n // PRUNE_SAMPLE)]
    m_s = float(sample.max())
    if not math.isfinite(m_s) or 2 * np.count_nonzero(sample < m_s - pruning_margin(n, m_s, a.dtype)) < sample.size:
        return None  # most entries would be kept (or the sample is not finite): nothing to gain
    m = float(a.max())  # propagates NaN, sees +inf
    if not math.isfinite(m):
        return None
    # The exact cut keeps very few entries, which also makes the boolean selection fast
    # (a looser cut, e.g. from the sample's maximum, keeps more and costs more than max()).
    threshold = a.dtype.type(m - pruning_margin(n, m, a.dtype))
    kept = a[a >= threshold]
    r = _lse_flat(kept, prune=False)
    skipped = n - kept.size  # every skipped entry is below the threshold
    with np.errstate(under="ignore"):
        change = skipped * math.exp(min(float(threshold) - float(r), 0.0))
    if skipped and not change <= float(np.spacing(np.abs(r))) / 16:
        return None
    return r, kept.size


def _lse_flat(a: np.ndarray, prune: bool = True):
    """LSE of a non-empty 1-D array, as a scalar of its dtype; chunked to stay in cache.

    With ``prune``, long spread-out arrays go through :func:`_lse_pruned` first.
    """
    if prune:
        got = _lse_pruned(a)
        if got is not None:
            return got[0]
    k = int(np.argmax(a))  # the first NaN if there is one, else the first maximum
    m = a[k]
    if not np.isfinite(m):  # NaN, +inf, or every entry is -inf: the answer is m itself
        return m
    n = a.size
    if n == 1:
        return m
    rng = _direct_range(a.dtype, n)
    direct = rng is not None and rng[0] <= m <= rng[1]
    buf = np.empty(min(n, CHUNK), dtype=a.dtype)
    partials = []
    with np.errstate(under="ignore"):
        for start in range(0, n, CHUNK):
            stop = min(start + CHUNK, n)
            b = buf[: stop - start]
            if direct:
                np.exp(a[start:stop], out=b)
            else:
                np.subtract(a[start:stop], m, out=b)
                np.exp(b, out=b)
            if start <= k < stop:
                b[k - start] = 0  # the maximal term goes in through log1p, not the sum
            partials.append(b.sum())
        total = partials[0] if len(partials) == 1 else np.sum(np.array(partials, dtype=a.dtype))
        if direct:
            total = total / np.exp(m)
    return m + np.log1p(total)


def _lse_axis(a: np.ndarray, axis: int):
    """LSE along one non-empty axis; a scalar when nothing else remains."""
    axis %= a.ndim
    if a.ndim == 1:
        return _lse_flat(a)
    if axis == a.ndim - 1:
        rows = a.reshape(-1, a.shape[-1])  # a view when a is C-contiguous
        return _lse_rows(rows).reshape(a.shape[:-1])
    return _lse_leading(np.moveaxis(a, axis, 0))


def _lse_rows(a: np.ndarray) -> np.ndarray:
    """LSE of every row of a 2-D array (rows non-empty), in blocks of rows that fit the cache.

    Per row: ``m + log1p(sum_{i != k} exp(x_i - m))`` with ``k`` the argmax.
    """
    nrows, ncols = a.shape
    out = np.empty(nrows, dtype=a.dtype)
    rng = _direct_range(a.dtype, ncols)
    step = max(1, CHUNK // ncols)
    buf = np.empty((min(step, nrows), ncols), dtype=a.dtype)
    with np.errstate(under="ignore", over="ignore", invalid="ignore"):
        for r0 in range(0, nrows, step):
            blk = a[r0: r0 + step]
            b = buf[: blk.shape[0]]
            idx = np.arange(blk.shape[0])
            k = np.argmax(blk, axis=1)  # first NaN if any, else first maximum
            m = blk[idx, k]
            finite = np.isfinite(m)
            direct = rng is not None and bool(np.all((m >= rng[0]) & (m <= rng[1])))
            if direct:
                np.exp(blk, out=b)
            else:
                shift = m if finite.all() else np.where(finite, m, 0).astype(a.dtype)
                np.subtract(blk, shift[:, None], out=b)
                np.exp(b, out=b)
            b[idx, k] = 0
            t = np.sum(b, axis=1)
            if direct:
                t /= np.exp(m)
            np.log1p(t, out=t)
            t += m
            if not finite.all():
                t[~finite] = m[~finite]
            out[r0: r0 + blk.shape[0]] = t
    return out


def _lse_leading(a: np.ndarray):
    """LSE along axis 0 (non-empty), streaming over blocks of that axis.

    ``m = max`` along the axis, then ``s = sum exp(x - m)`` accumulated block by block
    into ``m + log1p(s - 1)``. Where the answer is below 1 in magnitude, rounding
    ``s`` could cost the small terms' digits, so those lanes are recomputed by
    :func:`_lse_rows`, which leaves the maximal term out of the sum.
    """
    n = a.shape[0]
    rest = a.shape[1:]
    m = np.max(a, axis=0)
    m = np.asarray(m)
    finite = np.isfinite(m)
    all_finite = bool(finite.all())
    rng = _direct_range(a.dtype, n)
    direct = rng is not None and bool(np.all((m >= rng[0]) & (m <= rng[1])))
    shift = m if all_finite else np.where(finite, m, 0).astype(a.dtype)
    lane = max(1, math.prod(rest))
    step = max(1, CHUNK // lane)
    buf = np.empty((min(step, n),) + rest, dtype=a.dtype)
    s = np.zeros(rest, dtype=a.dtype)
    with np.errstate(under="ignore", over="ignore", invalid="ignore"):
        for i0 in range(0, n, step):
            blk = a[i0: i0 + step]
            b = buf[: blk.shape[0]]
            if direct:
                np.exp(blk, out=b)
            else:
                np.subtract(blk, shift, out=b)
                np.exp(b, out=b)
            s += np.sum(b, axis=0)
        if direct:
            s /= np.exp(m)
        s -= 1
        np.log1p(s, out=s)
        s += m
    if not all_finite:
        s[~finite] = m[~finite]
    redo = finite & (np.abs(s) < 1)
    if redo.any():
        lanes = np.moveaxis(a, 0, -1)[redo]  # (K, n) copies of the lanes concerned
        s[redo] = _lse_rows(lanes)
    return s[()] if s.ndim == 0 else s


def lse_gap(a, b):
    """``LSE(a, b) - max(a, b) = log(1 + exp(-|a - b|))``, in ``(0, log 2]`` (chapter 4)."""
    d = np.abs(checks.real_array(a, "a") - checks.real_array(b, "b"))
    return np.log1p(np.exp(-d))


def smooth_max(x, lam=1.0, axis=None):
    """``lambda^-1 LSE(lambda x)``: above ``max(x)`` by at most ``log(n)/lambda`` for ``lambda > 0``.

    Chapter 4. For ``lambda < 0`` it is the soft-min of :func:`soft_min` with ``|lambda|``
    (and tends to ``min(x)``): the one function that takes a negative lambda
    (:func:`softmaxbook.checks.lam` with ``negative=True``); ``lambda = 0`` is rejected.
    """
    lam = checks.lam(lam, negative=True)
    a = checks.real_array(x, "x", keep_float_dtype=True)
    return logsumexp(lam * a, axis=axis) / lam


def soft_min(x, lam=1.0, axis=None):
    """``-lambda^-1 LSE(-lambda x)``: below ``min(x)`` by at most ``log(n)/lambda`` (chapter 4)."""
    return smooth_max(x, -checks.lam(lam), axis=axis)


def exp_overflow_threshold(dtype=np.float64) -> float:
    """The largest ``t`` with ``exp(t)`` finite in ``dtype``: ``log(finfo(dtype).max)`` (chapter 4).

    709.78... for float64 and 88.72... for float32.
    """
    return float(np.log(np.finfo(dtype).max.astype(np.float64)))


def logsumexp_mp(x, dps: int = 60):
    """Reference LSE in mpmath with ``dps`` decimal digits, as an ``mpf`` (chapter 4).

    Every float input is exact in mpmath; ``inf``/``-inf``/``nan`` follow the same
    rules as :func:`logsumexp`.
    """
    vals = [float(v) for v in np.ravel(np.asarray(x, dtype=np.float64))]
    if not vals:
        raise ValueError("logsumexp of an empty array is undefined")
    if any(math.isnan(v) for v in vals):
        return mpmath.mpf("nan")
    if any(v == math.inf for v in vals):
        return mpmath.mpf("inf")
    finite = [v for v in vals if v != -math.inf]
    if not finite:
        return mpmath.mpf("-inf")
    with mpmath.workdps(dps):
        m = max(finite)
        s = mpmath.fsum(mpmath.exp(mpmath.mpf(v) - m) for v in finite)
        return +(m + mpmath.log(s))


def ulp_error(approx, exact, dtype=np.float64) -> float:
    """``|approx - exact|`` in units in the last place of ``exact`` rounded to ``dtype`` (chapter 4).

    Infinite or NaN answers count as 0 if they match exactly and ``inf`` otherwise.
    """
    a = float(approx)
    if mpmath.isnan(exact) or mpmath.isinf(exact):
        same = (math.isnan(a) and mpmath.isnan(exact)) or (a == float(exact))
        return 0.0 if same else math.inf
    ref = np.asarray(float(exact), dtype=dtype)
    if not np.isfinite(ref):
        return 0.0 if a == float(ref) else math.inf
    ulp = float(np.spacing(np.abs(ref)))
    with mpmath.workdps(60):
        return float(abs(mpmath.mpf(a) - exact) / ulp)
