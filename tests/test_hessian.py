import numpy as np

from softmaxbook.hessian import categorical_covariance


def test_covariance_of_one_hot_label_for_spec_probabilities():
    H = categorical_covariance([0.2, 0.3, 0.5])
    np.testing.assert_allclose(np.diag(H), [0.16, 0.21, 0.25])
    assert np.isclose(H[0, 1], -0.06) and np.isclose(H[1, 2], -0.15)
    np.testing.assert_allclose(H @ np.ones(3), 0.0, atol=1e-15)
