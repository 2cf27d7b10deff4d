"""Confidence intervals for the bench's ratios (Python 3.11, stdlib only; imported by
bench_lowered.py).

A ratio of the lowered table (e.g. jco@node / lowered@node) is the median of one
column's reps over the median of the other's, and the columns of a row run side by side:
rep r of every column before rep r + 1 of any (bench_p2.measure_interleaved). So the
reps of two columns are pairs (rep r of each, taken at the same moment of the machine),
and the interval here is a paired percentile bootstrap: resample the pairs' indices with
replacement, take the ratio of the two medians of the resample, and report the
(1 - level) / 2 and (1 + level) / 2 quantiles of those ratios. A difference is "shown"
only when the whole interval lies on one side of 1.

Invariants: the median is the one the table keeps (the upper middle run for an even
count, as bench_p2.measure_interleaved keeps it), so the point ratio lies inside the
resamples' range; the random generator is seeded, so the same runs give the same
interval; fewer than MIN_PAIRS pairs give no interval (None), never a made-up one.
"""
from __future__ import annotations

import random

MIN_PAIRS = 5  # below this a bootstrap interval says little; none is given
RESAMPLES = 4000


def median(xs: list[float]) -> float:
    """The upper middle value (the run bench_p2.measure_interleaved keeps for a cell)."""
    ordered = sorted(xs)
    return ordered[len(ordered) // 2]


def ratio_interval(num: list[float], den: list[float], level: float = 0.95,
                   resamples: int = RESAMPLES, seed: int = 1) -> tuple[float, float] | None:
    """The paired bootstrap interval of median(num) / median(den), num[i] and den[i] being
    a pair; None with fewer than MIN_PAIRS pairs or a non-positive time."""
    n = min(len(num), len(den))
    if n < MIN_PAIRS or any(x is None or x <= 0 for x in num[:n] + den[:n]):
        return None
    rng = random.Random(seed)
    ratios = []
    for _ in range(resamples):
        idx = [rng.randrange(n) for _ in range(n)]
        ratios.append(median([num[i] for i in idx]) / median([den[i] for i in idx]))
    ratios.sort()
    lo = ratios[int((1 - level) / 2 * resamples)]
    hi = ratios[min(resamples - 1, int((1 + level) / 2 * resamples))]
    return lo, hi


def verdict(interval: tuple[float, float] | None) -> str:
    """'above 1' / 'below 1' when the interval lies on one side of 1, else 'not shown'."""
    if interval is None:
        return "too few reps"
    lo, hi = interval
    return "above 1" if lo > 1 else "below 1" if hi < 1 else "not shown"


def _selftest() -> None:
    """`python3 conformance/bench_stats.py`: the interval's verdicts on runs whose answer
    is known (run by `make check-scripts`)."""
    rng = random.Random(7)
    base = [1.0 + rng.uniform(-0.3, 0.3) for _ in range(15)]  # a +-30% machine drift
    # a column 1.2x the other at every rep, the drift shared: shown above 1
    iv = ratio_interval([1.2 * b for b in base], base)
    assert iv is not None and iv[0] > 1.15 and iv[1] < 1.25, iv
    assert verdict(iv) == "above 1"
    assert verdict(ratio_interval(base, [1.2 * b for b in base])) == "below 1"
    # the same distribution, independent draws: not shown either way
    other = [1.0 + rng.uniform(-0.3, 0.3) for _ in range(15)]
    assert verdict(ratio_interval(other, base)) == "not shown", ratio_interval(other, base)
    # a 5% difference under independent +-30% noise in 15 pairs is not shown
    noisy = [1.05 * (1.0 + rng.uniform(-0.3, 0.3)) for _ in range(15)]
    assert verdict(ratio_interval(noisy, base)) == "not shown"
    assert ratio_interval(base[:4], base[:4]) is None
    assert verdict(None) == "too few reps"
    # the same runs give the same interval
    assert ratio_interval(other, base) == ratio_interval(other, base)
    print("bench_stats: ok")


if __name__ == "__main__":
    _selftest()
