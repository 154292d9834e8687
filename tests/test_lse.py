import numpy as np
import pytest

from softmaxbook.lse import logsumexp


def test_logsumexp_matches_the_naive_formula_where_it_is_safe():
    x = np.array([0.5, -1.0, 2.0])
    assert logsumexp(x) == pytest.approx(np.log(np.exp(x).sum()), rel=1e-15)


def test_logsumexp_does_not_overflow_past_709():
    assert logsumexp([1000.0, 1000.0]) == pytest.approx(1000.0 + np.log(2.0), rel=1e-15)


def test_logsumexp_rejects_empty_input_with_a_clear_message():
    with pytest.raises(ValueError, match="empty"):
        logsumexp([])
