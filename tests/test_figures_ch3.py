"""Chapter 3's figure module: what it computes and announces (softmaxbook.figures.ch3)."""

import math

import pytest

from softmaxbook import coding
from softmaxbook.figures import ch3


def test_curves_are_the_block_and_huffman_rates():
    ns, fixed, huffman = ch3.block_rate_curves(8)
    assert list(ns) == list(range(1, 9))
    assert fixed[4] == 8 / 5 and fixed[3] == 7 / 4
    for n in range(1, 9):
        assert huffman[n - 1] == pytest.approx(float(coding.huffman_block_rate(n)), rel=1e-15)
    assert all(math.log2(3) < h <= f for h, f in zip(huffman, fixed))


def test_announce_gives_the_rates_at_the_slider_position():
    assert ch3.announce_block_rates({"n": 5}) == (
        "n = 5: fixed block code 8 bits, 1.6000 bits per trit (+0.95 % over log₂3); "
        "Huffman on blocks 1.5893 (+0.27 %)")
    assert f"{100 * (1.5893 / math.log2(3) - 1):.2f}" == "0.27"
    assert ch3.announce_block_rates({"n": 29.0}).startswith("n = 29: fixed block code 46 bits, 1.5862")


@pytest.mark.parametrize("bad", [0, 42, -3])
def test_announce_rejects_positions_off_the_slider(bad):
    with pytest.raises(ValueError, match="between 1 and 41"):
        ch3.announce_block_rates({"n": bad})


def test_figure_marks_the_chosen_block_length_and_names_the_records():
    fig = ch3.block_rates()
    assert "n = 1, 3, 5, 17, 29, 41;" in fig.caption
    frame = fig.frame([16])                          # slider index 16 is n = 17
    marks = [t for t in frame if type(t).__name__ == "Points"]
    assert list(marks[0].x) == [17, 17]
    assert marks[0].y[0] == pytest.approx(27 / 17)
    assert not [t for t in frame if type(t).__name__ == "Text"]  # the numbers are the readout, off the plot
    assert fig.announcement([16]).startswith("n = 17: fixed block code 27 bits")
    assert fig.payload()["sliders"][0]["text"][:2] == ["1 trit", "2 trits"]
