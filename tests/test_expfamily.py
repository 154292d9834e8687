import numpy as np

from softmaxbook.expfamily import softmax


def test_softmax_is_a_probability_vector_invariant_to_shifts():
    o = np.array([1.0, 2.0, 3.0])
    p = softmax(o)
    assert np.isclose(p.sum(), 1.0)
    np.testing.assert_allclose(softmax(o + 100.0), p, rtol=1e-12)
    np.testing.assert_allclose(p, np.exp(o) / np.exp(o).sum(), rtol=1e-12)
