"""Batching: an order cut into batches (`samplekit.batching`)."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from samplekit.batching import FixedSize, cut


@given(st.integers(0, 500), st.integers(1, 64), st.booleans())
def test_fixed_size_count_bounds_and_offsets_agree(n: int, size: int, drop_last: bool) -> None:
    batcher = FixedSize(size, drop_last)
    count = batcher.count(n)
    assert count == (n // size if drop_last else -(-n // size))
    offsets = batcher.offsets(n)
    assert len(offsets) == count + 1
    assert offsets == sorted(offsets)
    for batch in range(count):
        start, stop = batcher.bounds(batch, n)
        assert (start, stop) == (offsets[batch], offsets[batch + 1])
        assert stop - start == size or (not drop_last and batch == count - 1 and stop == n)
    assert offsets[-1] == (count * size if drop_last else n)


@given(
    st.integers(0, 300),
    st.integers(1, 40),
    st.booleans(),
    st.data(),
)
def test_cut_gives_each_chosen_batch_in_order(
    n: int, size: int, drop_last: bool, data: st.DataObject
) -> None:
    batcher = FixedSize(size, drop_last)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(n)).to(torch.int32)
    count = batcher.count(n)
    offsets = batcher.offsets(n)
    whole = [order[offsets[b] : offsets[b + 1]].tolist() for b in range(count)]
    assert list(cut(batcher, order, range(count))) == whole
    if count:
        ids = data.draw(st.lists(st.integers(0, count - 1), max_size=20))
        assert list(cut(batcher, order, ids)) == [whole[i] for i in ids]
        start = data.draw(st.integers(0, count))
        assert list(cut(batcher, order, range(start, count))) == whole[start:]


def test_cut_converts_consecutive_batches_in_chunks() -> None:
    batcher = FixedSize(3)
    order = torch.arange(1 << 17)
    batches = list(cut(batcher, order, range(batcher.count(order.numel()))))
    assert [i for b in batches for i in b] == order.tolist()
    assert all(type(i) is int for i in batches[0])
