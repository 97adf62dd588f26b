import math

import numpy as np
import pytest

from aipcbench.run.stats import Summary, percentile

TEXTBOOK = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]


def test_summary_matches_textbook_values():
    s = Summary.from_samples(TEXTBOOK)
    assert s.n == 8
    assert s.mean == 5.0
    assert s.median == 4.5
    assert s.stdev == pytest.approx(math.sqrt(32 / 7), rel=1e-12)  # sample stdev, n - 1
    assert (s.minimum, s.maximum) == (2.0, 9.0)
    assert s.q1 == 4.0 and s.q3 == 5.5 and s.iqr == 1.5
    assert s.p5 == pytest.approx(2.7) and s.p95 == pytest.approx(8.3)
    assert s.cv == pytest.approx(math.sqrt(32 / 7) / 5.0)


def test_percentiles_agree_with_numpy_linear():
    values = sorted([0.3, 1.7, 2.2, 9.1, 4.4, 4.5, 0.01])
    for q in (0, 5, 25, 50, 75, 95, 100):
        assert percentile(values, q) == pytest.approx(np.percentile(values, q))


def test_single_sample_has_zero_spread_and_order_does_not_matter():
    assert Summary.from_samples([3.0]).stdev == 0.0
    assert Summary.from_samples([3.0, 1.0, 2.0]) == Summary.from_samples([1.0, 2.0, 3.0])


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], [float("inf")]])
def test_refuses_empty_and_non_finite(bad):
    with pytest.raises(ValueError):
        Summary.from_samples(bad)
