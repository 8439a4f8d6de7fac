"""Shuffle quality: `Permutation`'s law against ``torch.randperm``'s, and that it is a bijection.

The statistics live in ``benchmarks/shuffle_quality.py``, which prints them as the table
docs/performance.md quotes; this module loads that file and asserts each of its checks, with
the same keys and the same threshold the table shows:

- the Feistel permutation is accepted, and so is ``torch.randperm`` seeded with the same keys
  (the reference: a check that rejected it would be miscalibrated, not strict);
- every weak shuffle listed with the check is rejected (rounds patched down, a rotation
  ``(p + key) % n``, the wrong Fisher-Yates, a key space of 16 keys, one key for all epochs),
  so the check has the power to see a bias, not only the luck to pass.

Keys are fixed (``derive_seed(seed, epoch)`` over ranges of epochs and seeds, never a global
RNG), so the outcome is the same on every run; a check rejects at ``p < 1e-6``: a uniform
shuffle fails one check in a million by bad luck, the weak shuffles come out far below it.
Checks with large ``randperm`` references or thousands of keys are ``slow``.

Then the bijection: ``perm(arange(n))`` is a permutation of ``range(n)`` for many ``n``, random
access agrees with it, ``n = 2**60`` (the largest) works, and bad positions raise ValueError.
"""

import importlib.util
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch

from samplekit.permutation import Permutation, Permutations, rounds
from samplekit.rng import derive_seed

ROOT = Path(__file__).resolve().parent.parent


def load_statistics() -> ModuleType:
    """benchmarks/shuffle_quality.py (a script, not a package): the statistics and checks."""
    spec = importlib.util.spec_from_file_location(
        "benchmarks_shuffle_quality", ROOT / "benchmarks" / "shuffle_quality.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# Loaded from a file path, the module is untyped here: its checks and results are Any.
quality = load_statistics()


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Iterator[None]:
    """One torch thread here: the tensors are small, and on a busy machine a second thread only
    waits for the first (it made these tests several times slower on two shared cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def law_cases(section: str) -> list[Any]:
    """Each check of ``section`` with the Feistel permutation and with randperm."""
    return [
        pytest.param(
            check,
            shuffle,
            id=f"{check.id}-{shuffle.__name__}",
            marks=[pytest.mark.slow] if check.slow else [],
        )
        for check in quality.CHECKS
        if check.section == section
        for shuffle in (quality.feistel, quality.randperm)
    ]


def assert_uniform(check: Any, shuffle: Any) -> None:
    result = check.run(shuffle)
    assert not result.rejected, (
        f"{check.name}, {shuffle.__name__}: z={result.z:.1f}, p={result.p:.1e} < "
        f"{quality.REJECT_P} ({result.detail})"
    )


# --- the law: Feistel and randperm pass each check ------------------------------------------


@pytest.mark.parametrize(("check", "shuffle"), law_cases("position"))
def test_every_item_equally_likely_at_every_position(check: Any, shuffle: Any) -> None:
    # Full position x item tables for small n; for large n (either side of the round-count
    # thresholds 2**8 and 2**16, 2**20, a prime above 10**6) 16 fixed positions per key, the
    # items in 64 bins.
    assert_uniform(check, shuffle)


@pytest.mark.parametrize(("check", "shuffle"), law_cases("pairwise"))
def test_pairs_in_either_order_and_uncorrelated(check: Any, shuffle: Any) -> None:
    # P(perm[p] < perm[q]) = 1/2 and no correlation over keys, for disjoint pairs adjacent, a
    # Feistel grid row apart and far apart; lag-1 and lag-sqrt(n) serial correlations.
    assert_uniform(check, shuffle)


@pytest.mark.parametrize(("check", "shuffle"), law_cases("independence"))
def test_epochs_and_seeds_are_unrelated(check: Any, shuffle: Any) -> None:
    # Consecutive epochs, neighbouring seeds, consecutive raw keys: positions where the two
    # permutations agree follow the fixed-point law of a uniform permutation, and their rank
    # correlations those of independent permutations.
    assert_uniform(check, shuffle)


@pytest.mark.parametrize(("check", "shuffle"), law_cases("exhaustive"))
def test_every_small_permutation_equally_likely(check: Any, shuffle: Any) -> None:
    # n = 1..6: a chi-square over all n! permutations.
    assert_uniform(check, shuffle)


# --- the power: each check rejects its weak shuffles ------------------------------------------


@pytest.mark.parametrize(
    ("check", "control"),
    [
        pytest.param(
            check,
            control,
            id=f"{check.id}-{control.__name__}",
            marks=[pytest.mark.slow] if check.slow else [],
        )
        for check in quality.CHECKS
        for control in check.controls
    ],
)
def test_check_rejects_a_weak_shuffle(check: Any, control: Any) -> None:
    result = check.run(control)
    assert result.rejected, (
        f"{check.name} accepts {control.__name__}: z={result.z:.1f}, p={result.p:.1e} "
        f"({result.detail})"
    )


def test_every_check_has_a_weak_shuffle_to_reject() -> None:
    # Only n = 1 cannot be wrong: it has one permutation.
    assert [check.name for check in quality.CHECKS if not check.controls] == ["all n! n=1 10 keys"]


# --- bijection and random access -------------------------------------------------------------

SQUARES = [4, 9, 100, 10_000]
POWERS_OF_TWO = [2**k + d for k in (3, 5, 8, 10, 12, 16) for d in (-1, 0, 1)]
PRIMES = [5, 7, 11, 13, 31, 97, 257, 7919, 65_521]
SIZES = sorted(
    {0, 1, 2, 3, *SQUARES, *(s + d for s in SQUARES for d in (-1, 1)), *POWERS_OF_TWO, *PRIMES}
)
LARGE_SIZES = [999_983, 10**6 - 1, 10**6, 10**6 + 1, 2**20 - 1, 2**20, 2**20 + 1]


def check_bijection(n: int, key: int) -> None:
    perm = Permutation(n, key)
    whole = perm(torch.arange(n))
    assert whole.dtype == torch.int64
    assert torch.equal(torch.sort(whole).values, torch.arange(n))
    if n == 0:
        return
    gen = torch.Generator().manual_seed(key)
    positions = torch.randint(n, (min(n, 2_000),), generator=gen)
    assert torch.equal(perm(positions), whole[positions])  # repeats included
    assert torch.equal(perm(positions.view(-1, 1)), whole[positions].view(-1, 1))
    start = int(torch.randint(n, (1,), generator=gen))
    assert torch.equal(perm.range(start, n), whole[start:])
    assert torch.equal(Permutation(n, key)(positions.flip(0)), whole[positions.flip(0)])


@pytest.mark.parametrize("n", SIZES)
def test_is_a_bijection_read_anywhere(n: int) -> None:
    for epoch in range(2):
        check_bijection(n, derive_seed(n, epoch))


@pytest.mark.parametrize(
    "n", [pytest.param(n, marks=pytest.mark.slow if n > 10**6 else ()) for n in LARGE_SIZES]
)
def test_is_a_bijection_read_anywhere_large(n: int) -> None:
    check_bijection(n, derive_seed(n, 0))


def test_keys_pick_different_permutations() -> None:
    orders = {
        tuple(Permutation(100, derive_seed(0, e))(torch.arange(100)).tolist()) for e in range(50)
    }
    assert len(orders) == 50


def test_largest_size_reads_a_few_positions() -> None:
    n = 2**60
    positions = torch.tensor([0, 1, 2, 12_345, 2**31, 2**59, n - 2, n - 1])
    for key in (0, derive_seed(0, 0), -1):
        perm = Permutation(n, key)
        values = perm(positions)
        assert values.dtype == torch.int64
        assert int(values.min()) >= 0
        assert int(values.max()) < n
        assert len(set(values.tolist())) == positions.numel()
        one_by_one = torch.cat([perm(positions[i : i + 1]) for i in range(positions.numel())])
        assert torch.equal(values, one_by_one)
        assert torch.equal(Permutation(n, key)(positions), values)
    assert not torch.equal(Permutation(n, 1)(positions), Permutation(n, 2)(positions))


@pytest.mark.parametrize(
    "positions",
    [
        torch.tensor([-1]),
        torch.tensor([0, 10]),
        torch.tensor([2**40]),
        torch.tensor([0.0, 1.0]),
        torch.tensor([True, False]),
    ],
    ids=["negative", "n", "far-beyond", "float", "bool"],
)
def test_bad_positions_raise(positions: torch.Tensor) -> None:
    with pytest.raises(ValueError, match="positions"):
        Permutation(10, 0)(positions)


def test_bad_sizes_and_empty_reads() -> None:
    with pytest.raises(ValueError, match="n must be"):
        Permutation(-1, 0)
    with pytest.raises(ValueError, match="n must be"):
        Permutation(2**60 + 1, 0)
    with pytest.raises(ValueError, match="positions"):
        Permutation(0, 0)(torch.tensor([0]))
    with pytest.raises(ValueError, match="positions"):
        Permutation(10, 0)([1, 2])  # type: ignore[arg-type]
    assert Permutation(0, 0)(torch.tensor([], dtype=torch.int64)).numel() == 0
    assert Permutation(5, 0)(torch.empty(0, 3, dtype=torch.int64)).shape == (0, 3)


def reference(
    n: int, key: int, position: int, member: int | None = None, family: int | None = None
) -> int:
    """The permutation as the module docstring defines it, in plain Python integers.

    SplitMix64 words from the key; round keys are a 32-bit hash of each word (xor the member,
    for `Permutations`, whose swap bit comes from the word after the family's most rounds,
    ``family``); a round adds the low 30 bits of the hash of one half xor its key to the
    other half, modulo that half's size; cycle walking re-encrypts until the cell is below n.
    """
    mask32, mask64 = 2**32 - 1, 2**64 - 1

    def hash32(v: int) -> int:
        for _ in range(2):
            v = ((v ^ (v >> 16)) * 0x45D9F3B) & mask32
        return v ^ (v >> 16)

    count = 24 if n <= 2**8 else 12 if n <= 2**16 else 6
    state, words = key & mask64, []
    most = count if family is None else family
    for _ in range(most + 1):
        state = (state + 0x9E3779B97F4A7C15) & mask64
        z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & mask64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask64
        words.append(z ^ (z >> 31))
    salt = 0 if member is None else member
    if member is None:
        keys = [hash32(w & mask32) for w in words[:count]]
        swap = bool(hash32(words[count] & mask32) & 1)
    else:
        keys = [hash32(salt ^ (w & mask32)) for w in words[:count]]
        swap = bool(hash32(salt ^ (words[most] & mask32)) & 1)
    swap = swap and n >= 2
    a = math.isqrt(max(n - 1, 0)) + 1
    b = max(1, -(-n // a))
    x = position
    while True:
        if swap and x < 2:
            x ^= 1
        high, low = divmod(x, a)
        for number, k in enumerate(keys):
            if number % 2 == 0:
                low = (low + (hash32(high ^ k) & (2**30 - 1))) % a
            else:
                high = (high + (hash32(low ^ k) & (2**30 - 1))) % b
        x = high * a + low
        if x < n:
            return x


@pytest.mark.parametrize("n", [1, 2, 3, 7, 256, 257, 1000, 65_537, 10**9 + 7, 2**40 + 3, 2**60])
def test_matches_the_plain_python_definition(n: int) -> None:
    """Pins the law (an epoch changes only with a version note) and the int32 arithmetic."""
    gen = torch.Generator().manual_seed(n % 2**32)
    positions = torch.randint(n, (37,), generator=gen) if n > 37 else torch.arange(n)
    for key in (0, 12_345, -1, derive_seed(n, 3)):
        expected = [reference(n, key, p) for p in positions.tolist()]
        assert Permutation(n, key)(positions).tolist() == expected
    sizes = [n, 5, max(n // 3, 1)]
    perms = Permutations(sizes, key=99)
    members = torch.tensor([0, 1, 2] * 5)
    places = torch.tensor(
        [p % sizes[m] for p, m in zip(range(0, 15 * 7919, 7919), members, strict=True)]
    )
    expected = [
        reference(sizes[m], 99, p, member=m, family=24)
        for m, p in zip(members.tolist(), places.tolist(), strict=True)
    ]
    assert perms(members, places).tolist() == expected


@pytest.mark.parametrize("sizes", [[10**6, 300, 7], [5000, 5000], [2**40 + 3, 65_537, 256]])
def test_a_member_with_many_positions_maps_as_with_few(sizes: list[int]) -> None:
    """A call where members have thousands of positions (each then mapped as one permutation,
    with scalar keys) gives what calls of a few positions give, and the plain definition."""
    from samplekit.permutation import _RUN

    gen = torch.Generator().manual_seed(len(sizes))
    members = torch.cat([torch.zeros(3 * _RUN, dtype=torch.long), torch.arange(len(sizes))])
    members = torch.cat([members, torch.randint(len(sizes), (2 * _RUN,), generator=gen)])
    members = members[torch.randperm(members.numel(), generator=gen)]
    size = torch.tensor(sizes).index_select(0, members)
    places = (torch.rand(members.numel(), generator=gen, dtype=torch.float64) * size).long()
    perms = Permutations(sizes, key=2024)
    together = perms(members, places)
    apart = torch.cat(
        [perms(members[i : i + 100], places[i : i + 100]) for i in range(0, members.numel(), 100)]
    )
    assert together.tolist() == apart.tolist()
    family = max(rounds(size) for size in sizes)
    for i in range(0, members.numel(), 997):
        m, p = int(members[i]), int(places[i])
        assert int(together[i]) == reference(sizes[m], 2024, p, member=m, family=family)


def test_many_members_with_many_positions_map_as_with_few() -> None:
    """Steps where a dozen members each have thousands of positions (and members that do in one
    step but not the next) give what small calls give."""
    sizes = [7919 + 13 * m for m in range(12)]
    gen = torch.Generator().manual_seed(12)
    members = torch.cat(
        [torch.arange(12).repeat(5000), torch.randint(12, (30_000,), generator=gen)]
    )
    members = members[torch.randperm(members.numel(), generator=gen)]
    size = torch.tensor(sizes).index_select(0, members)
    places = (torch.rand(members.numel(), generator=gen, dtype=torch.float64) * size).long()
    perms = Permutations(sizes, key=5)
    apart = [
        perms(members[i : i + 500], places[i : i + 500]) for i in range(0, members.numel(), 500)
    ]
    assert perms(members, places).tolist() == torch.cat(apart).tolist()


def test_round_hash_matches_its_definition_on_all_bit_patterns() -> None:
    """The uint32 round hash (wrapping products) equals the 32-bit definition on any value."""
    import numpy as np

    from samplekit.permutation import _hash32, _hash_uint32

    gen = np.random.default_rng(7)
    values = np.concatenate(
        [
            gen.integers(0, 2**32, 10_007, dtype=np.uint64),  # not a multiple of a vector
            np.array([0, 1, 2**31 - 1, 2**31, 2**32 - 1, 0xFFFF, 0x10000], dtype=np.uint64),
        ]
    )
    hashed = _hash_uint32(values.astype(np.uint32))
    assert hashed.dtype == np.uint32
    assert hashed.tolist() == [_hash32(int(v)) for v in values]


@pytest.mark.parametrize(
    "n", [2, 3, 7, 256, 257, 1000, 65_537, 10**6 + 3, 2**31 + 5, 65_535 * 65_536]
)
def test_tabulated_rounds_map_as_hashed_ones(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rounds read from tables (many positions of a grid of fewer than 2**32 cells) give the
    permutation the hashed rounds give, and the plain definition, whatever the key."""
    from samplekit import permutation

    a, b = permutation._grid(n)
    count = max(4 * (a + b), 64)
    gen = torch.Generator().manual_seed(n % 2**32)
    positions = torch.randint(n, (count,), generator=gen)
    for key in (0, 1, 12_345, -1, derive_seed(n, 5)):
        permutation._TABLES.clear()
        tabled = Permutation(n, key)(positions)
        assert len(permutation._TABLES) == 1  # the tables were used
        permutation._TABLES.clear()
        monkeypatch.setattr(permutation, "_TABLE_USE", 2**62)
        hashed = Permutation(n, key)(positions)
        assert len(permutation._TABLES) == 0  # hashed
        monkeypatch.undo()
        assert torch.equal(tabled, hashed)
        for i in range(0, count, max(1, count // 29)):
            assert int(tabled[i]) == reference(n, key, int(positions[i]))
    members = torch.zeros(count, dtype=torch.long)  # a family's member mapped alone
    perms = Permutations([n, 5], key=3)
    family = max(rounds(n), rounds(5))
    together = perms(members, positions)
    for i in range(0, count, max(1, count // 29)):
        assert int(together[i]) == reference(n, 3, int(positions[i]), member=0, family=family)


def test_tables_come_once_enough_positions_are_mapped_over_calls() -> None:
    """Small calls add up: a permutation read a few hundred positions at a time gets its
    tables once it has mapped ``_TABLE_USE * (a + b)``, and maps as before throughout."""
    from samplekit import permutation

    n = 10**6 + 3
    a, b = permutation._grid(n)
    permutation._TABLES.clear()
    perm = Permutation(n, 77)
    calls = []
    for start in range(0, 3 * permutation._TABLE_USE * (a + b), 500):
        positions = torch.arange(start, start + 500)
        calls.append((positions, perm(positions), len(permutation._TABLES)))
    assert calls[0][2] == 0  # hashed at first
    assert calls[-1][2] == 1  # tabled by the end
    for positions, got, _ in calls[::7]:
        for p in positions[::97].tolist():
            assert int(got[p - int(positions[0])]) == reference(n, 77, p)
    assert len(permutation._TABLES) == 1
    permutation._TABLES.clear()
    assert len(permutation._TABLES) == 0
