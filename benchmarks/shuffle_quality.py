"""Shuffle quality: `samplekit.permutation.Permutation` against ``torch.randperm``, by statistics.

Each check computes one standard statistic over many fixed keys (``derive_seed(seed, epoch)``
for a range of epochs, so every run prints the same numbers) for the Feistel permutation, for
``torch.randperm`` seeded with the same keys (the reference: the same statistic, the same
threshold), and for deliberately weak shuffles the check must reject, which shows it has the
power to see a bias:

- **position**: every item equally likely at every position. For small ``n`` the full
  position x item table of counts (or positions and items in 20 bins for ``n = 1000``); for
  large ``n`` a few fixed positions per key, the items in 64 bins (random access makes reading
  a few positions of a shuffle of 10**6 cheap).
- **pairwise**: ``P(perm[p] < perm[q]) = 1/2`` and no correlation between ``perm[p]`` and
  ``perm[q]`` over keys, for disjoint position pairs adjacent, a grid row apart (the Feistel
  grid's columns) and far apart; the lag-1 and lag-``sqrt(n)`` serial correlations within each
  permutation.
- **independence**: the permutations of consecutive epochs (``derive_seed(seed, e)`` and
  ``derive_seed(seed, e + 1)``), of neighbouring seeds (``derive_seed(s, e)`` and
  ``derive_seed(s + 1, e)``) and of consecutive raw keys (``k`` and ``k + 1``, no
  ``derive_seed``) are unrelated: the number of positions where they agree follows the law of
  the fixed points of a uniform permutation, and their rank correlations are those of
  independent permutations.
- **exhaustive**: for ``n <= 6`` every one of the ``n!`` permutations about equally likely.

Every statistic ends as a chi-square: a sum of squared standardised counts, compared with the
chi-square law of its exact null mean and variance (scaled chi-square, Satterthwaite), whose
tail comes from the Wilson-Hilferty normal approximation (no scipy). A check rejects at
``p < 1e-6`` (`REJECT_P`): with fixed keys a check is deterministic, and that threshold keeps a
uniform shuffle from failing by bad luck (about one check in a million would) while the weak
shuffles are rejected at p-values far below it. ``z`` is the statistic's normal equivalent
(upper tail).

    python benchmarks/shuffle_quality.py           # the markdown table docs/performance.md quotes
    python benchmarks/shuffle_quality.py --fast    # only the checks of the fast test group

``tests/test_shuffle_quality.py`` loads this file and asserts every check: Feistel and randperm
accepted, each weak shuffle rejected.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from unittest import mock

import torch

import samplekit.permutation as permutation_module
from samplekit.permutation import Permutation
from samplekit.rng import derive_seed

__all__ = [
    "CHECKS",
    "LARGE_N",
    "REJECT_P",
    "Check",
    "Result",
    "epoch_pairs",
    "exhaustive",
    "feistel",
    "feistel_rounds",
    "few_keys",
    "fixed_points",
    "keys",
    "naive_swap",
    "one_key",
    "pair_correlation",
    "pair_order",
    "position_pairs",
    "position_uniformity",
    "randperm",
    "rank_correlation",
    "raw_pairs",
    "rotation",
    "scaled_chi2",
    "seed_pairs",
    "serial_correlation",
]

# Reject at p < 1e-6: a fixed-key check of a uniform shuffle fails with that probability, so
# the suite is not flaky, while every weak shuffle below comes out at p < 1e-9, most far less.
REJECT_P = 1e-6

Reader = Callable[[torch.Tensor], torch.Tensor]
"""The elements of one permutation at the given positions (an int64 tensor)."""
Shuffle = Callable[[int, int], Reader]
"""``shuffle(n, key)``: the permutation of ``range(n)`` that ``key`` picks, as a `Reader`."""


# --- the shuffles: the one under test, the reference, and weak ones that must be rejected -----


def feistel(n: int, key: int) -> Reader:
    """samplekit's random-access permutation."""
    return Permutation(n, key)


def randperm(n: int, key: int) -> Reader:
    """The reference: ``torch.randperm`` from a generator seeded with ``key``."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(key))
    return lambda positions: order[positions]


def feistel_rounds(count: int) -> Shuffle:
    """Control: `Permutation` with `rounds` patched to ``count`` (too few mix too little)."""

    def shuffle(n: int, key: int) -> Reader:
        with mock.patch.object(permutation_module, "rounds", return_value=count):
            return Permutation(n, key)

    shuffle.__name__ = f"feistel_rounds({count})"
    return shuffle


def few_keys(bits: int) -> Shuffle:
    """Control: `Permutation` keyed by only ``bits`` bits of the key (a collapsed key space)."""

    def shuffle(n: int, key: int) -> Reader:
        return Permutation(n, key % (1 << bits))

    shuffle.__name__ = f"few_keys({bits})"
    return shuffle


def one_key(n: int, key: int) -> Reader:
    """Control: one permutation whatever the key, as when the epoch is left out of the key."""
    return _first(n)


@functools.lru_cache(maxsize=16)
def _first(n: int) -> Reader:
    whole = Permutation(n, 0)(torch.arange(n, dtype=torch.int64))
    return lambda positions: whole[positions]


def rotation(n: int, key: int) -> Reader:
    """Control: ``(p + key) % n``, each item equally likely at each position, nothing else."""
    shift = key % max(n, 1)
    return lambda positions: (positions.to(torch.int64) + shift) % n


def naive_swap(n: int, key: int) -> Reader:
    """Control: the classic wrong Fisher-Yates, swapping position ``i`` with any position.

    Its ``n**n`` equally likely paths cannot fall evenly on the ``n!`` permutations: a real
    bias, an item's chance to land at a position off by 10 % (rms) for ``n = 10``, by up to
    29 %, which takes some 150 keys per table cell to see.
    """
    draws = torch.randint(n, (n,), generator=torch.Generator().manual_seed(key)).tolist()
    order = list(range(n))
    for i, j in enumerate(draws):
        order[i], order[j] = order[j], order[i]
    table = torch.tensor(order, dtype=torch.int64)
    return lambda positions: table[positions]


# --- keys ----------------------------------------------------------------------------------


def keys(seed: int, count: int) -> list[int]:
    """``derive_seed(seed, epoch)`` for ``count`` epochs: the keys of one seed's epochs."""
    return [derive_seed(seed, epoch) for epoch in range(count)]


def epoch_pairs(seed: int, count: int) -> list[tuple[int, int]]:
    """Keys of consecutive epochs of one seed."""
    return [(derive_seed(seed, e), derive_seed(seed, e + 1)) for e in range(count)]


def seed_pairs(epoch: int, count: int) -> list[tuple[int, int]]:
    """Keys of one epoch of neighbouring seeds."""
    return [(derive_seed(s, epoch), derive_seed(s + 1, epoch)) for s in range(count)]


def raw_pairs(start: int, count: int) -> list[tuple[int, int]]:
    """Consecutive integers as keys, without `derive_seed`: the key schedule alone."""
    return [(k, k + 1) for k in range(start, start + count)]


# --- statistics ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One statistic: its value, its null law's mean and variance, z and the upper-tail p."""

    value: float
    mean: float
    var: float
    z: float
    p: float
    detail: str = ""

    @property
    def rejected(self) -> bool:
        """Whether the statistic rejects uniformity at `REJECT_P`."""
        return self.p < REJECT_P


def scaled_chi2(value: float, mean: float, var: float, detail: str = "") -> Result:
    """Compare ``value`` with ``c * chi2(nu)`` of the given mean and variance.

    ``c = var / (2 mean)`` and ``nu = 2 mean**2 / var`` (Satterthwaite); the upper tail of
    ``chi2(nu)`` by Wilson-Hilferty: ``(x / nu) ** (1/3)`` is about normal with mean
    ``1 - 2 / (9 nu)`` and variance ``2 / (9 nu)``.
    """
    c = var / (2 * mean)
    nu = 2 * mean**2 / var
    h = 2 / (9 * nu)
    z = ((value / c / nu) ** (1 / 3) - (1 - h)) / math.sqrt(h)
    return Result(value, mean, var, z, 0.5 * math.erfc(z / math.sqrt(2)), detail)


def _bins(n: int, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``range(n)`` in ``count`` contiguous bins: each value's bin, and each bin's size."""
    of = torch.arange(n, dtype=torch.int64) * count // n
    return of, torch.bincount(of, minlength=count)


def _read(shuffle: Shuffle, n: int, keys: Sequence[int], positions: torch.Tensor) -> torch.Tensor:
    """``len(keys) x len(positions)``: each key's permutation read at ``positions``."""
    return torch.stack([shuffle(n, key)(positions) for key in keys])


def position_uniformity(
    shuffle: Shuffle,
    n: int,
    keys: Sequence[int],
    *,
    positions: Sequence[int] | None = None,
    position_bins: int | None = None,
    value_bins: int | None = None,
) -> Result:
    """Pearson's X² of the position x item table, counted over ``keys``.

    Rows are ``positions`` (default all), each its own row, or all positions in
    ``position_bins`` contiguous bins; columns the items in ``value_bins`` contiguous bins
    (default one per item). Expected counts are ``len(keys) * P(row) * P(column)``.

    The null law is exact in its mean and variance: a uniform permutation matrix has covariance
    ``(I - J/n) ⊗ (I - J/n) / (n - 1)`` (rows and columns sum to one), so X² is a sum of
    chi-squares, ``n / (n - 1)`` times ``(G - 1)(B - 1)`` of them and ``(n - m) / (n - 1)``
    times ``B - 1`` more, for ``G`` rows of ``m`` positions in all and ``B`` columns. For
    ``m = n`` that is the familiar ``X² (n - 1) / n ~ chi2((G - 1)(B - 1))``; for a few
    positions of a large ``n``, about ``chi2(m (B - 1))``.
    """
    if positions is None:
        read = torch.arange(n, dtype=torch.int64)
        if position_bins is None:
            row, sizes = read, torch.ones(n, dtype=torch.int64)
        else:
            row, sizes = _bins(n, position_bins)
    else:
        read = torch.tensor(positions, dtype=torch.int64)
        row, sizes = torch.arange(len(positions)), torch.ones(len(positions), dtype=torch.int64)
    column, widths = _bins(n, value_bins or n)
    groups, columns = sizes.numel(), widths.numel()
    values = _read(shuffle, n, keys, read)
    cells = row.expand_as(values) * columns + column[values]
    counts = torch.bincount(cells.flatten(), minlength=groups * columns).view(groups, columns)
    expected = len(keys) * torch.outer(sizes, widths).double() / n
    x2 = float(((counts - expected) ** 2 / expected).sum())
    m = int(sizes.sum())
    weights = ((n / (n - 1), (groups - 1) * (columns - 1)), ((n - m) / (n - 1), columns - 1))
    mean = sum(w * d for w, d in weights)
    var = sum(2 * w * w * d for w, d in weights)
    return scaled_chi2(x2, mean, var, f"X²={x2:.0f}")


def position_pairs(n: int) -> list[tuple[int, int]]:
    """Disjoint pairs of positions: adjacent, a Feistel grid row apart, and far apart.

    The Feistel network works on a grid of rows of ``ceil(sqrt(n))`` positions: ``p`` and
    ``p + 1`` share a row, ``p`` and ``p + row`` a column, the places a weak network would
    show. Disjoint pairs make their statistics independent under a uniform shuffle.
    """
    row = math.isqrt(max(n - 1, 0)) + 1
    half, third = n // 2, n // 3
    candidates = [
        (0, 1),
        (half, half + 1),
        (n - 2, n - 1),
        (2, 2 + row),
        (third, third + row),
        (3, n - 4),
        (4, 4 + half),
        (5, 5 + third),
        (6, 7),
        (8, 8 + row),
    ]
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    for p, q in candidates:
        if 0 <= p < q < n and not {p, q} & used:
            pairs.append((p, q))
            used |= {p, q}
    return pairs


@functools.lru_cache(maxsize=64)
def _pair_values(
    shuffle: Shuffle, n: int, keys: tuple[int, ...]
) -> tuple[list[tuple[int, int]], torch.Tensor]:
    """`position_pairs` and, per key, the items at them (cached: two statistics read them)."""
    pairs = position_pairs(n)
    flat = [position for pair in pairs for position in pair]
    return pairs, _read(shuffle, n, keys, torch.tensor(flat, dtype=torch.int64))


def pair_order(shuffle: Shuffle, n: int, keys: Sequence[int]) -> Result:
    """``P(perm[p] < perm[q]) = 1/2`` for each pair of `position_pairs`: sum of squared z.

    Over ``K`` keys, the count of ``perm[p] < perm[q]`` is Binomial(K, 1/2); for disjoint pairs
    the counts are independent (swapping ``p`` and ``q`` preserves a uniform law), so the sum
    of their squared z-scores is chi2(number of pairs).
    """
    pairs, values = _pair_values(shuffle, n, tuple(keys))
    less = (values[:, 0::2] < values[:, 1::2]).sum(0).double()
    k = len(keys)
    z = (less - k / 2) / math.sqrt(k / 4)
    worst = int(z.abs().argmax())
    share = float(less[worst]) / k
    detail = f"worst pair {pairs[worst]}: P(<)={share:.3f}"
    return scaled_chi2(float((z**2).sum()), len(pairs), 2 * len(pairs), detail)


def pair_correlation(shuffle: Shuffle, n: int, keys: Sequence[int]) -> Result:
    """Correlation of ``perm[p]`` and ``perm[q]`` over keys, for each of `position_pairs`.

    With ``A, B`` the centred items at two positions of a uniform permutation (two draws
    without replacement), ``U = A B / var`` has exact mean ``-1/(n-1)`` and exact variance
    ``E[A²B²] / var² - mean²``; each pair's z is the mean of ``U`` over keys against these, and
    the sum of squared z is about chi2(number of pairs).
    """
    pairs, values = _pair_values(shuffle, n, tuple(keys))
    centred = values.double() - (n - 1) / 2
    var = (n * n - 1) / 12
    u = centred[:, 0::2] * centred[:, 1::2] / var
    s2 = sum((i - (n - 1) / 2) ** 2 for i in range(n))
    s4 = sum((i - (n - 1) / 2) ** 4 for i in range(n))
    mean = -1 / (n - 1)
    var_u = (s2 * s2 - s4) / (n * (n - 1)) / var**2 - mean**2
    k = len(keys)
    z = (u.sum(0) - k * mean) / math.sqrt(k * var_u)
    r = u.mean(0)
    worst = int(z.abs().argmax())
    detail = f"worst pair {pairs[worst]}: r={float(r[worst]):+.3f}"
    return scaled_chi2(float((z**2).sum()), len(pairs), 2 * len(pairs), detail)


def serial_correlation(shuffle: Shuffle, n: int, keys: Sequence[int]) -> Result:
    """Lag-1 and lag-``ceil(sqrt(n))`` (a grid row) correlations within each permutation.

    ``r = sum_i A_i A_(i+lag) / sum A²`` over the ``n - lag`` pairs of one permutation has, for
    a uniform permutation, mean ``-(n - lag) / (n (n - 1))`` and variance about
    ``(n - lag) / n²`` (the products are uncorrelated up to terms of order ``1/n``); the
    squared z-scores of both lags over all keys are summed.
    """
    row = math.isqrt(max(n - 1, 0)) + 1
    lags = sorted({1, row})
    values = _read(shuffle, n, keys, torch.arange(n, dtype=torch.int64)).double()
    centred = values - (n - 1) / 2
    total = float((centred[0] ** 2).sum())
    squares = 0.0
    parts = []
    for lag in lags:
        r = (centred[:, :-lag] * centred[:, lag:]).sum(1) / total
        mean = -(n - lag) / (n * (n - 1))
        z = (r - mean) / math.sqrt((n - lag) / n**2)
        squares += float((z**2).sum())
        parts.append(f"lag {lag}: r={float(r.mean()):+.4f}")
    count = len(lags) * len(keys)
    return scaled_chi2(squares, count, 2 * count, ", ".join(parts))


def _fixed_point_law(n: int, top: int) -> list[float]:
    """``P(k positions agree)`` for two independent uniform permutations of ``n``, ``k < top``.

    The number of fixed points of a uniform permutation: ``sum_j (-1)**j / j! / k!`` over
    ``j <= n - k``.
    """
    law = []
    for k in range(min(top, n + 1)):
        term, total = 1.0, 1.0
        for j in range(1, n - k + 1):
            term /= -j
            total += term
            if term == 0.0:
                break
        law.append(total / math.factorial(k))
    return law


@functools.lru_cache(maxsize=4096)
def _whole(shuffle: Shuffle, n: int, key: int) -> torch.Tensor:
    """The whole permutation (cached: consecutive key pairs share their permutations)."""
    return shuffle(n, key)(torch.arange(n, dtype=torch.int64))


def fixed_points(shuffle: Shuffle, n: int, pairs: Sequence[tuple[int, int]]) -> Result:
    """Positions where the permutations of each key pair agree, against the exact law.

    For independent uniform permutations the count of agreeing positions is the number of
    fixed points of a uniform permutation (about Poisson(1), mean exactly 1): a chi-square
    goodness of fit of its histogram over the key pairs (the tail merged so that every bin
    expects at least 5 pairs).
    """
    agree = [int((_whole(shuffle, n, a) == _whole(shuffle, n, b)).sum()) for a, b in pairs]
    law = _fixed_point_law(n, 20)
    # Bins 0, 1, ..., top - 1 and "top or more", each expecting at least 5 pairs.
    top = 1
    while top < len(law) and len(pairs) * (1 - math.fsum(law[: top + 1])) >= 5:
        top += 1
    observed = [0] * (top + 1)
    for count in agree:
        observed[min(count, top)] += 1
    expected = [len(pairs) * p for p in [*law[:top], 1 - math.fsum(law[:top])]]
    x2 = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))
    share = sum(agree) / (len(pairs) * n)
    detail = f"agree {share:.5f} of positions (1/n={1 / n:.5f})"
    return scaled_chi2(x2, top, 2 * top, detail)


def rank_correlation(shuffle: Shuffle, n: int, pairs: Sequence[tuple[int, int]]) -> Result:
    """Spearman's rho of the permutations of each key pair: its mean and its spread.

    For independent uniform permutations (``n >= 3``) rho has mean 0, ``E[rho²] = 1/(n-1)``
    and the exact ``E[rho⁴] = 3 (25n³ - 38n² - 35n + 72) / (25 n (n+1) (n-1)³)``. Over ``K``
    key pairs, ``sum rho * sqrt((n-1) / K)`` is about N(0, 1) (a shift: the permutations move
    together), and ``sum (n-1) rho²`` against the chi-square of its exact mean and variance
    gives a second z (a spread too wide, related permutations, or too narrow, a fixed relation
    such as a rotation by one). The statistic is the sum of both squared: chi2(2).
    """
    centre = (n - 1) / 2
    norm = (n * n - 1) * n / 12
    rho = torch.tensor(
        [
            float(((_whole(shuffle, n, a) - centre) * (_whole(shuffle, n, b) - centre)).sum())
            / norm
            for a, b in pairs
        ],
        dtype=torch.float64,
    )
    k = len(pairs)
    fourth = 3 * (25 * n**3 - 38 * n**2 - 35 * n + 72) / (25 * n * (n + 1) * (n - 1) ** 3)
    shift = float(rho.sum()) * math.sqrt((n - 1) / k)
    spread = scaled_chi2(float((n - 1) * (rho**2).sum()), k, k * ((n - 1) ** 2 * fourth - 1)).z
    detail = (
        f"mean rho {float(rho.mean()):+.4f} (z {shift:+.1f}), "
        f"max abs rho {float(rho.abs().max()):.3f} (spread z {spread:+.1f})"
    )
    return scaled_chi2(shift**2 + spread**2, 2, 4, detail)


def exhaustive(shuffle: Shuffle, n: int, keys: Sequence[int]) -> Result:
    """Pearson's X² of the counts of each of the ``n!`` permutations: chi2(n! - 1)."""
    index = {order: i for i, order in enumerate(itertools.permutations(range(n)))}
    everything = torch.arange(n, dtype=torch.int64)
    counts = [0] * len(index)
    for key in keys:
        counts[index[tuple(shuffle(n, key)(everything).tolist())]] += 1
    expected = len(keys) / len(index)
    x2 = sum((c - expected) ** 2 / expected for c in counts)
    cells = len(index) - 1
    detail = (
        f"{sum(c > 0 for c in counts)}/{len(index)} seen, max/expected {max(counts) / expected:.2f}"
    )
    if cells == 0:  # n <= 1: one permutation, always drawn
        return Result(0.0, 0.0, 0.0, 0.0, 1.0, detail)
    return scaled_chi2(x2, cells, 2 * cells, detail)


# --- the checks that tests/test_shuffle_quality.py asserts and main() prints ---------------


@dataclass(frozen=True)
class Check:
    """One statistic for one ``n`` and one set of keys, run on any shuffle.

    ``controls`` are weak shuffles the check must reject (its power); ``slow`` checks belong to
    the slow test group (big ``randperm`` references, or many keys).
    """

    section: str
    name: str
    run: Callable[[Shuffle], Result]
    controls: tuple[Shuffle, ...] = ()
    slow: bool = False

    @property
    def id(self) -> str:
        """A pytest id."""
        return f"{self.section}-{self.name}".replace(" ", "-").replace(",", "")


# Large n, read at a few positions per key: either side of the round-count thresholds of
# `rounds` (24 rounds up to 2**8, 12 up to 2**16, then 6), a power of two (a square grid, no
# cycle walking) and a prime above 10**6 (a ragged grid).
LARGE_N = (2**8, 2**8 + 1, 2**16, 2**16 + 1, 2**20, 10**6 + 3)


def _spread(n: int) -> list[int]:
    """Sixteen positions: the first three (0 and 1 are the cells of the parity swap), ``n // 3``,
    ``n // 2``, the last, and ten more evenly spread."""
    return sorted({0, 1, 2, n // 3, n // 2, n - 1, *range(7, n, n // 10)})[:16]


def _position_checks() -> list[Check]:
    checks = []
    for n, count, controls, slow in (
        (7, 350, (feistel_rounds(1),), False),
        (10, 1500, (naive_swap, feistel_rounds(1)), True),
        (33, 330, (feistel_rounds(1),), False),
        (100, 500, (feistel_rounds(1),), False),
    ):
        run = functools.partial(position_uniformity, n=n, keys=keys(1, count))
        checks.append(Check("position", f"table n={n} {count} keys", run, controls, slow))
    run = functools.partial(
        position_uniformity, n=1000, keys=keys(2, 100), position_bins=20, value_bins=20
    )
    checks.append(Check("position", "table n=1000 20x20 bins 100 keys", run, (feistel_rounds(1),)))
    for n in LARGE_N:
        run = functools.partial(
            position_uniformity, n=n, keys=keys(3, 320), positions=_spread(n), value_bins=64
        )
        name = f"16 positions 64 bins n={n} 320 keys"
        # One round leaves the last, partial grid row to cycle-walk cell by cell: slow for
        # large n, so the slow checks use the collapsed key space instead.
        slow = n > 2**8 + 1
        weak = few_keys(4) if slow else feistel_rounds(1)
        checks.append(Check("position", name, run, (weak,), slow))
    return checks


def _pairwise_checks() -> list[Check]:
    checks = []
    for n, count, slow in ((10, 400, False), (257, 400, False), (2**16 + 1, 600, True)):
        for label, statistic in (("order", pair_order), ("correlation", pair_correlation)):
            run = functools.partial(statistic, n=n, keys=keys(4, count))
            checks.append(Check("pairwise", f"{label} n={n} {count} keys", run, (rotation,), slow))
    for n, count, slow in ((1000, 100, False), (2**20, 4, True)):
        run = functools.partial(serial_correlation, n=n, keys=keys(6, count))
        controls = (rotation, feistel_rounds(2))
        checks.append(Check("pairwise", f"serial n={n} {count} keys", run, controls, slow))
    return checks


def _independence_checks() -> list[Check]:
    checks = []
    for n, count, slow in ((1000, 200, False), (7, 1000, True)):
        for label, pairs in (
            ("epochs e e+1", epoch_pairs(7, count)),
            ("seeds s s+1", seed_pairs(3, count)),
            ("raw keys k k+1", raw_pairs(0, count)),
        ):
            for statistic, name in ((fixed_points, "fixed points"), (rank_correlation, "rho")):
                run = functools.partial(statistic, n=n, pairs=pairs)
                title = f"{name} {label} n={n} {count} pairs"
                checks.append(Check("independence", title, run, (rotation, one_key), slow))
    return checks


def _exhaustive_checks() -> list[Check]:
    checks = []
    # With random round functions the distance of r rounds from uniform over the n! cells shrinks
    # about fourfold a round (computed exactly for n <= 6): to see it at this threshold, n = 6
    # needs about 1,200 keys for 6 rounds, 4,900 for 8, 78,000 for 12 and 3 * 10**8 for 24;
    # n = 5 about 120 keys for 2 rounds and 4,400 for 6. So these checks reject 2 rounds (n <= 5)
    # and 6 (n = 6, with a wide margin), and would not see 10 or 12: `rounds` gives 24.
    for n, count, controls, slow in (
        (1, 10, (), False),  # one permutation: nothing can be wrong
        (2, 100, (one_key,), False),
        (3, 300, (feistel_rounds(1), one_key), False),
        (4, 480, (feistel_rounds(2),), False),
        (5, 600, (feistel_rounds(2),), False),
        (6, 7200, (feistel_rounds(6), naive_swap), True),
    ):
        run = functools.partial(exhaustive, n=n, keys=keys(8, count))
        checks.append(Check("exhaustive", f"all n! n={n} {count} keys", run, controls, slow))
    return checks


CHECKS = [
    *_position_checks(),
    *_pairwise_checks(),
    *_independence_checks(),
    *_exhaustive_checks(),
]
"""Every check, in the order of the printed table."""


def _name(shuffle: Shuffle) -> str:
    return getattr(shuffle, "__name__", repr(shuffle))


def _verdict(result: Result, control: bool) -> str:
    if control:
        return "rejected (weak control)" if result.rejected else "**NOT REJECTED (weak control)**"
    return "**REJECTED**" if result.rejected else "uniform"


def main(argv: Sequence[str] | None = None) -> None:
    """Print every check for Feistel, randperm and its weak shuffles as a markdown table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--fast", action="store_true", help="only the fast test group's checks")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # small tensors: a second thread would only wait
    started = time.perf_counter()
    print(f"torch {torch.__version__}; a check rejects uniformity at p < {REJECT_P:g}")
    print()
    print("| section | check | shuffle | statistic | z | p | verdict |")
    print("|---|---|---|---|---:|---:|---|")
    for check in CHECKS:
        if args.fast and check.slow:
            continue
        for shuffle in (feistel, randperm, *check.controls):
            result = check.run(shuffle)
            verdict = _verdict(result, shuffle not in (feistel, randperm))
            print(
                f"| {check.section} | {check.name} | {_name(shuffle)} | {result.detail} "
                f"| {result.z:.1f} | {result.p:.1e} | {verdict} |",
                flush=True,
            )
    print()
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
