"""Batchers (`samplekit.batcher`, `samplekit.batchers`) and the epoch plan (`samplekit.plan`)."""

from __future__ import annotations

import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from samplekit import ConfigError, EpochBatchSampler
from samplekit.batcher import Batcher, Batches
from samplekit.batchers.fixed import Fixed
from samplekit.batchers.grouping import balanced_order, reorder, rotate_windows, sort_in_windows
from samplekit.batchers.length_grouped import LengthGrouped
from samplekit.batchers.token_budget import OversizeWarning, TokenBudget
from samplekit.errors import StrategyOutputError
from samplekit.plan import EpochPlan


def _batches(batches: Batches) -> list[list[int]]:
    bounds = batches.offsets.tolist()
    return [batches.order[a:b].tolist() for a, b in itertools.pairwise(bounds)]


@given(st.integers(0, 500), st.integers(1, 64), st.booleans())
def test_fixed_cuts_consecutive_runs(n: int, size: int, drop_last: bool) -> None:
    batcher = Fixed(Fixed.Options(), batch_size=size, drop_last=drop_last)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(n))
    batches = batcher.batch(order, torch.Generator())
    count = batcher.count(n)
    assert count == (n // size if drop_last else -(-n // size))
    assert batches.num_batches == count
    assert batches.order is order  # the strategy's order, untouched
    flat = [i for b in _batches(batches) for i in b]
    assert flat == order[: count * size if drop_last else n].tolist()
    assert all(len(b) == size for b in _batches(batches)[: n // size])


@given(st.integers(1, 300), st.integers(1, 40), st.data())
def test_plan_gives_each_chosen_batch_in_order(n: int, size: int, data: st.DataObject) -> None:
    order = torch.randperm(n, generator=torch.Generator().manual_seed(n)).to(torch.int32)
    batches = Fixed(Fixed.Options(), batch_size=size).batch(order, torch.Generator())
    plan = EpochPlan(0, batches.order, batches.offsets)
    whole = _batches(batches)
    assert list(plan.batches(range(plan.num_batches))) == whole
    ids = data.draw(st.lists(st.integers(0, plan.num_batches - 1), max_size=20))
    assert list(plan.batches(ids)) == [whole[i] for i in ids]
    start = data.draw(st.integers(0, plan.num_batches))
    assert list(plan.batches(range(start, plan.num_batches))) == whole[start:]


def test_plan_converts_consecutive_batches_in_chunks_of_python_ints() -> None:
    order = torch.arange(1 << 17)
    batches = Fixed(Fixed.Options(), batch_size=3).batch(order, torch.Generator())
    plan = EpochPlan(0, batches.order, batches.offsets)
    out = list(plan.batches(range(plan.num_batches)))
    assert [i for b in out for i in b] == order.tolist()
    assert all(type(i) is int for i in out[0])


lengths_st = st.lists(st.integers(0, 300), min_size=1, max_size=400)


@settings(max_examples=60)
@given(lengths_st, st.integers(1, 16), st.integers(1, 64), st.integers(1, 9), st.booleans())
def test_length_grouped_keeps_every_sample_and_the_fixed_count(
    lengths: list[int], size: int, window: int, balance: int, drop_last: bool
) -> None:
    n = len(lengths)
    options = LengthGrouped.Options(window=window, balance=balance)
    batcher = LengthGrouped(
        options, lengths=torch.tensor(lengths), batch_size=size, drop_last=drop_last
    )
    order = torch.randperm(n, generator=torch.Generator().manual_seed(1))
    batches = batcher.batch(order, torch.Generator().manual_seed(2))
    cut = _batches(batches)
    assert (
        len(cut)
        == batcher.count(n)
        == Fixed(Fixed.Options(), batch_size=size, drop_last=drop_last).count(n)
    )
    flat = sorted(i for b in cut for i in b)
    short = [b for b in cut if len(b) != size]
    assert len(short) <= (0 if drop_last else 1)
    if drop_last:
        assert len(flat) == n // size * size
        assert len(set(flat)) == len(flat)
    else:
        assert flat == list(range(n))


def test_length_grouped_pads_less_than_random_batches() -> None:
    gen = torch.Generator().manual_seed(0)
    lengths = (torch.exp(4.0 + torch.randn(20_000, generator=gen)) + 1).long()
    order = torch.randperm(lengths.numel(), generator=gen)

    def efficiency(batches: Batches) -> float:
        real = padded = 0
        for batch in _batches(batches):
            sizes = lengths[batch]
            real += int(sizes.sum())
            padded += int(sizes.max()) * len(batch)
        return real / padded

    fixed = Fixed(Fixed.Options(), batch_size=32).batch(order, gen)
    grouped = LengthGrouped(
        LengthGrouped.Options.model_validate({}), lengths=lengths, batch_size=32
    )
    assert efficiency(grouped.batch(order, gen)) > 0.9 > 0.5 > efficiency(fixed)


@settings(max_examples=80)
@given(
    lengths_st,
    st.integers(1, 2000),
    st.one_of(st.none(), st.integers(1, 50)),
    st.integers(1, 8),
    st.one_of(st.none(), st.floats(1, 1000)),
    st.integers(1, 64),
)
def test_token_budget_never_exceeds_the_budget_and_keeps_every_sample(
    lengths: list[int],
    max_tokens: int,
    max_batch_size: int | None,
    multiple: int,
    quadratic: float | None,
    window: int,
) -> None:
    options = TokenBudget.Options.model_validate(
        {
            "max_tokens": max_tokens,
            "max_batch_size": max_batch_size,
            "batch_size_multiple": multiple,
            "quadratic": quadratic,
            "oversize": "drop",
            "window": window,
        }
    )
    sizes = torch.tensor(lengths)
    with pytest.warns(OversizeWarning) if _too_long(lengths, max_tokens, quadratic) else _nothing():
        batcher = TokenBudget(options, lengths=sizes)
    batches = batcher.batch(torch.arange(len(lengths)), torch.Generator().manual_seed(0))
    cut = _batches(batches)
    for batch in cut:
        assert batcher.cost(sizes[batch]) <= max_tokens
        assert max_batch_size is None or len(batch) <= max_batch_size
    # A multiple of batch_size_multiple, except each window's last batch (with window >= n:
    # at most one batch).
    odd = [b for b in cut if len(b) >= multiple and len(b) % multiple]
    assert len(odd) <= -(-len(lengths) // window)
    kept = sorted(i for b in cut for i in b)
    expected = [i for i, L in enumerate(lengths) if _cost(L, quadratic) <= max_tokens]
    assert kept == expected
    assert batcher.oversized == len(lengths) - len(expected)


def _cost(length: int, quadratic: float | None) -> float:
    return length if quadratic is None else length + length * length / quadratic


def _too_long(lengths: list[int], max_tokens: int, quadratic: float | None) -> bool:
    return any(_cost(L, quadratic) > max_tokens for L in lengths)


class _nothing:  # a null context manager, read like pytest.warns
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_token_budget_refuses_an_oversized_sample_at_construction() -> None:
    with pytest.raises(ConfigError, match=r"1 sample\(s\) cost more than max_tokens=10.*sample 2"):
        EpochBatchSampler(
            None,
            "shuffle",
            lengths=[3, 4, 11, 2],
            batcher={"name": "token_budget", "max_tokens": 10},
        )


def test_sort_in_windows_and_reorder_agree_with_a_plain_model() -> None:
    gen = torch.Generator().manual_seed(3)
    lengths = torch.randint(0, 50, (103,), generator=gen)
    order = torch.randperm(103, generator=gen)
    grouped, keys = sort_in_windows(order, lengths, 10)
    assert keys.tolist() == lengths[grouped].tolist()
    for start in range(0, 103, 10):
        window = order[start : start + 10].tolist()
        expected = sorted(window, key=lambda i: -int(lengths[i]))  # stable, as the batcher
        assert grouped[start : start + 10].tolist() == expected
    offsets = torch.tensor([0, 3, 4, 10, 103])
    perm = torch.tensor([2, 0, 3, 1])
    moved, new_offsets = reorder(order, offsets, perm)
    parts = [order[int(offsets[b]) : int(offsets[b + 1])].tolist() for b in perm.tolist()]
    assert moved.tolist() == [i for part in parts for i in part]
    assert new_offsets.tolist() == [0, 6, 9, 102, 103]


@given(st.lists(st.floats(0, 100), min_size=1, max_size=200), st.integers(1, 12))
def test_balanced_order_is_a_permutation_with_runs_of_near_equal_cost(
    costs: list[float], run: int
) -> None:
    tensor = torch.tensor(costs, dtype=torch.float64)
    order = balanced_order(tensor, run, torch.Generator().manual_seed(0))
    assert sorted(order.tolist()) == list(range(len(costs)))
    if run > 1:
        ranked = sorted(costs, reverse=True)
        full = len(costs) // run * run
        runs = {tuple(sorted(ranked[i : i + run])) for i in range(0, full, run)}
        for start in range(0, full, run):
            got = tuple(sorted(costs[i] for i in order[start : start + run].tolist()))
            assert got in runs  # each run is a run of consecutive costs in sorted order


class _Broken(Batcher):
    name = "broken"

    def __init__(self, result: object) -> None:
        super().__init__(Batcher.Options())
        self.result = result

    def batch(self, order: torch.Tensor, generator: torch.Generator) -> Batches:
        return self.result  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("result", "problem"),
    [
        ([[0, 1]], "not samplekit.batcher.Batches"),
        (Batches(torch.arange(4), torch.tensor([0, 2, 2, 4])), "do not increase"),
        (Batches(torch.arange(4), torch.tensor([1, 4])), "must start at 0"),
        (Batches(torch.arange(4), torch.tensor([0, 5])), "end at most at len(order) = 4"),
        (Batches(torch.arange(4), torch.tensor([0, 4], dtype=torch.int32)), "torch.int64"),
        (Batches(torch.arange(4.0), torch.tensor([0, 4])), "not integer indices"),
        (Batches(torch.arange(3, 7), torch.tensor([0, 4])), "outside [0, 5)"),
        (Batches(torch.arange(6) % 5, torch.tensor([0, 6])), "6 indices for an epoch of 4"),
    ],
)
def test_a_batcher_breaking_its_contract_is_named(result: object, problem: str) -> None:
    from samplekit.plan import check_batches

    with pytest.raises(StrategyOutputError, match="batcher 'broken' broke its contract") as info:
        check_batches(
            _Broken(result).batch(torch.arange(4), torch.Generator()),
            batcher=_Broken(result),
            epoch=0,
            given=4,
            num_samples=5,
        )
    assert problem in str(info.value)


@given(st.integers(1, 60), st.integers(1, 12), st.data())
def test_rotate_windows_rotates_each_window_by_its_shift(
    n: int, window: int, data: st.DataObject
) -> None:
    windows = -(-n // window)
    shifts = torch.tensor(
        data.draw(st.lists(st.integers(0, 20), min_size=windows, max_size=windows))
    )
    values = torch.arange(n) * 3
    rotated, twin = rotate_windows((torch.arange(n), values), window, shifts)
    expected = []
    for w in range(windows):
        part = list(range(w * window, min(n, (w + 1) * window)))
        shift = int(shifts[w]) % len(part)
        expected += part[shift:] + part[:shift]
    assert rotated.tolist() == expected
    assert twin.tolist() == [3 * i for i in expected]
