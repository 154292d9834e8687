import math

import pytest

from softmaxbook.coding import block_bits, entropy_bits


@pytest.mark.parametrize("n", range(1, 42))
def test_block_bits_is_ceil_n_log2_3(n):
    assert block_bits(n) == math.ceil(n * math.log2(3))


def test_entropy_of_three_equiprobable_symbols_is_log2_3():
    assert entropy_bits([1 / 3] * 3) == pytest.approx(math.log2(3), rel=1e-15)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_block_bits_rejects_non_positive_integers(bad):
    with pytest.raises(ValueError, match="n >= 1"):
        block_bits(bad)
