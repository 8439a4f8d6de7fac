"""FeedbackState (observe, apply, sync across gloo ranks, state dicts) and WithIndices."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.distributed as dist
from hypothesis import given
from hypothesis import strategies as st
from torch.multiprocessing.spawn import spawn
from torch.utils.data import DataLoader

from samplekit import EpochBatchSampler
from samplekit.errors import ConfigError
from samplekit.feedback import FeedbackState, WithIndices, as_view
from samplekit.labels import as_label_tensor
from samplekit.strategy import FeedbackView

# --- observe: what is refused, and how it is said ------------------------------------------


@pytest.mark.parametrize(
    ("indices", "scores", "match"),
    [
        (torch.tensor([0, 1]), torch.tensor([1.0]), r"2 indices but 1 scores"),
        (torch.tensor([[0, 1]]), torch.tensor([1.0, 2.0]), r"indices must be 1-D.*\(1, 2\)"),
        (torch.tensor([0, 1]), torch.tensor([[1.0, 2.0]]), r"scores must be 1-D.*flatten"),
        (torch.tensor([0]), torch.tensor(1.0), r"0-d tensor.*reduction='none'"),
        (torch.tensor([True, False]), torch.tensor([1.0, 2.0]), r"integers.*torch.bool"),
        (torch.tensor([0.0, 1.0]), torch.tensor([1.0, 2.0]), r"integers.*torch.float32"),
        (torch.tensor([0, 1]), torch.tensor([1, 2]), r"floating tensor.*torch.int64.*swap"),
        (torch.tensor([0, 10]), torch.tensor([1.0, 2.0]), r"indices\[1\]=10 is out of range.*10\)"),
        (torch.tensor([-1, 2]), torch.tensor([1.0, 2.0]), r"indices\[0\]=-1 is out of range"),
        ([0, True], [1.0, 2.0], r"indices\[1\]=True \(bool\) is not an integer"),
        ([0, 2.0], [1.0, 2.0], r"indices\[1\]=2.0 \(float\) is not an integer"),
        ([0, 2**70], [1.0, 2.0], r"indices\[1\]=1180591620717411303424 is out of range"),
        ([0, 1], [1.0, math.nan], r"scores\[1\]=nan is not finite.*NaN or inf"),
        ([0, 1], [math.inf, 1.0], r"scores\[0\]=inf is not finite"),
        ([0, 1], [1.0, 1e39], r"scores\[1\]=1e\+39 is beyond float32's range"),
        ([0, 1], [1.0, 10**400], r"scores\[1\]=.*beyond float32's range"),
        ([0, 1], [1.0, True], r"scores\[1\]=True \(bool\) is not a number"),
        ([0, 1], [1.0, "2"], r"scores\[1\]='2' \(str\) is not a number"),
        (torch.tensor([0, 1]), torch.tensor([0.0, math.inf]), r"scores\[1\]=inf is not finite"),
        (torch.tensor([0]), torch.tensor([1e300], dtype=torch.float64), r"beyond float32"),
        (torch.tensor([0]), torch.tensor([math.nan], dtype=torch.float16), r"nan is not finite"),
        ("01", [1.0, 2.0], r"indices must be a 1-D integer tensor or a sequence of ints.*str"),
        ([0], 1.0, r"scores must be a 1-D floating tensor or a sequence.*float"),
    ],
)
def test_observe_refuses_bad_input_naming_it(indices: Any, scores: Any, match: str) -> None:
    state = FeedbackState(10)
    with pytest.raises(ConfigError, match=match):
        state.observe(indices, scores, epoch=0)
    assert state.num_pending == 0


@pytest.mark.parametrize("epoch", [-1, True, 1.0, "0", None])
def test_observe_refuses_bad_epochs(epoch: Any) -> None:
    with pytest.raises(ConfigError, match=r"epoch must be an integer >= 0.*epoch="):
        FeedbackState(3).observe([0], [1.0], epoch=epoch)


@pytest.mark.parametrize("num_samples", [0, -5, True, 3.0, "3", None])
def test_num_samples_must_be_a_positive_int(num_samples: Any) -> None:
    with pytest.raises(ConfigError, match=r"num_samples: expected an integer >= 1"):
        FeedbackState(num_samples)


def test_observe_accepts_numpy_sequences_and_any_float_dtype() -> None:
    state = FeedbackState(5)
    epoch: Any = np.int64(2)  # numpy integers count as the ints they hold
    state.observe(np.array([4, 3], dtype=np.uint8), np.array([1.5, 2.5]), epoch=epoch)
    state.observe((np.int32(0),), (np.float32(0.5),), epoch=3)
    state.observe(
        torch.tensor([1], dtype=torch.int16), torch.tensor([7.0], dtype=torch.bfloat16), epoch=4
    )
    state.observe([], [], epoch=5)  # an empty batch queues nothing
    assert state.num_pending == 4
    state.apply()
    view = state.view()
    assert view.scores.dtype == torch.float32
    assert view.observed.dtype == torch.int64
    assert view.scores.tolist()[:2] == [0.5, 7.0]
    assert view.observed.tolist() == [3, 4, -1, 2, 2]


def test_observe_copies_and_detaches() -> None:
    state = FeedbackState(3)
    indices = torch.tensor([0, 1])
    losses = torch.tensor([1.0, 2.0], requires_grad=True) * 1.0
    state.observe(indices, losses, epoch=0)
    indices[0] = 2  # the caller reuses its buffers
    with torch.no_grad():
        losses[0] = 9.0
    state.apply()
    assert state.view().scores.tolist()[:2] == [1.0, 2.0]
    assert not state.view().scores.requires_grad


# --- apply: order, version, copy on write ----------------------------------------------------


def test_later_observations_win_within_and_across_batches() -> None:
    state = FeedbackState(4)
    state.observe([1, 2, 1], [1.0, 2.0, 3.0], epoch=0)
    state.observe([2, 3], [4.0, 5.0], epoch=1)
    state.observe([3], [6.0], epoch=0)  # call order wins, not the epoch
    state.apply()
    view = state.view()
    assert view.scores.tolist()[1:] == [3.0, 4.0, 6.0]
    assert view.observed.tolist() == [-1, 0, 1, 0]


def test_version_counts_changes_only() -> None:
    state = FeedbackState(3)
    assert state.version == 0
    state.apply()
    assert state.version == 0
    state.observe([0], [1.0], epoch=0)
    assert state.version == 0  # queued, not applied
    state.apply()
    assert state.version == 1
    state.sync()  # no torch.distributed: sync is apply, and nothing is queued
    assert state.version == 1
    state.load_state_dict(state.state_dict())
    assert state.version == 2


def test_views_never_change_after_they_are_handed_out() -> None:
    state = FeedbackState(3)
    state.observe([0], [1.0], epoch=0)
    state.apply()
    first = state.view()
    saved = state.state_dict()
    state.observe([0, 1], [2.0, 3.0], epoch=1)
    state.apply()
    second = state.view()
    assert first.scores[0] == 1.0
    assert bool(first.scores[1].isnan())
    assert first.observed.tolist() == [0, -1, -1]
    assert saved["scores"][0] == 1.0
    assert second.scores.tolist()[:2] == [2.0, 3.0]
    # Without a view handed out since, the next apply writes in place (no O(N) copy).
    state.observe([2], [4.0], epoch=2)
    state.state_dict()  # hands the arrays out: the apply inside it happens before
    third = state.view()
    state.observe([2], [5.0], epoch=3)
    state.apply()
    assert third.scores[2] == 4.0
    assert state.view().scores[2] == 5.0


def test_apply_writes_in_place_when_no_view_is_out() -> None:
    state = FeedbackState(3)
    state.observe([0], [1.0], epoch=0)
    state.apply()
    scores = state._scores
    state.observe([1], [2.0], epoch=0)
    state.apply()
    assert state._scores is scores


# --- state dicts ------------------------------------------------------------------------------


def test_state_dict_round_trip_applies_pending_pairs() -> None:
    state = FeedbackState(5)
    state.observe([1, 3], [0.5, 1.5], epoch=2)
    saved = state.state_dict()
    assert state.num_pending == 0
    assert set(saved) == {"scores", "observed"}
    restored = FeedbackState(5)
    restored.observe([0], [9.0], epoch=0)  # dropped by the load
    restored.load_state_dict(pickle.loads(pickle.dumps(saved)))
    assert restored.num_pending == 0
    assert torch.equal(restored.view().observed, state.view().observed)
    assert torch.allclose(restored.view().scores, state.view().scores, equal_nan=True)
    saved["scores"][1] = 100.0  # the loaded state is a copy
    assert restored.view().scores[1] == 0.5


def good_state(n: int = 3) -> dict[str, Any]:
    state = FeedbackState(n)
    state.observe([0], [1.0], epoch=0)
    return {key: value.clone() for key, value in state.state_dict().items()}


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda s: [s], r"expected the dict FeedbackState.state_dict\(\) returned, but got list"),
        (lambda s: {**s, "extra": 1}, r"expected the keys \['observed', 'scores'\].*'extra'"),
        (lambda s: {"scores": s["scores"]}, r"expected the keys.*got \['scores'\]"),
        (
            lambda s: {**s, "scores": s["scores"].double()},
            r"scores must be a torch.float32 tensor of shape \(3,\).*torch.float64",
        ),
        (
            lambda s: {**s, "observed": s["observed"][:2]},
            r"observed must be a torch.int64 tensor of shape \(3,\).*shape \(2,\)",
        ),
        (lambda s: {**s, "observed": [0, -1, -1]}, r"observed must be a torch.int64.*got a list"),
        (
            lambda s: {**s, "observed": torch.tensor([0, -2, -1])},
            r"sample 1 has an epoch below -1",
        ),
        (
            lambda s: {**s, "scores": torch.tensor([1.0, 2.0, math.nan])},
            r"sample 1 has a NaN score with an epoch, or the reverse",
        ),
        (
            lambda s: {**s, "scores": torch.tensor([math.inf, math.nan, math.nan])},
            r"sample 0 has an infinite score",
        ),
    ],
)
def test_load_state_dict_refuses_malformed_states(change: Any, match: str) -> None:
    state = FeedbackState(3)
    with pytest.raises(ConfigError, match=match):
        state.load_state_dict(change(good_state()))
    assert state.version == 0


# --- a dict-based model of the state ----------------------------------------------------------

N_MODEL = 12
batch = st.lists(
    st.tuples(
        st.integers(0, N_MODEL - 1), st.floats(width=32, allow_nan=False, allow_infinity=False)
    ),
    max_size=6,
)
Operation = tuple[str, list[tuple[int, float]], int]
operation: st.SearchStrategy[Operation] = st.one_of(
    st.tuples(st.just("observe"), batch, st.integers(0, 5)),
    st.tuples(st.just("apply"), st.just([]), st.just(0)),
)


@given(st.lists(operation, max_size=20))
def test_apply_matches_a_dict_model(operations: list[Operation]) -> None:
    state = FeedbackState(N_MODEL)
    model: dict[int, tuple[float, int]] = {}
    queued: list[tuple[int, float, int]] = []
    for kind, pairs, epoch in [*operations, ("apply", [], 0)]:
        if kind == "observe":
            state.observe([i for i, _ in pairs], [s for _, s in pairs], epoch=epoch)
            queued += [(i, s, epoch) for i, s in pairs]
            continue
        for i, s, e in queued:
            model[i] = (s, e)
        queued = []
        state.apply()
        view = state.view()
        for i in range(N_MODEL):
            score, observed = model.get(i, (math.nan, -1))
            assert int(view.observed[i]) == observed
            got = float(view.scores[i])
            assert got == score or (math.isnan(got) and math.isnan(score))


# --- sync across real gloo process groups -----------------------------------------------------

BIG_INDEX = 2**24 + 9  # not a float32: an exchange through float would round it


def rank_pairs(rank: int, world: int, n: int, round_: int) -> list[tuple[list[int], list[float]]]:
    """The batches rank ``rank`` observes in a sync round: overlapping indices across ranks."""
    if round_ == 1 and rank == world - 1:
        return []  # a rank with nothing to report
    g = torch.Generator().manual_seed(1000 * round_ + rank)
    batches = []
    for b in range(3):
        size = 1 + rank + b
        indices = torch.randint(0, 20, (size,), generator=g).tolist()
        if b == 1:
            indices[0] = n - 1
        scores = (torch.rand(size, generator=g) * 10 - 5).tolist()
        scores[-1] = rank + round_ + 1 / 3  # a float32 whose bits must survive exactly
        batches.append((indices, scores))
    return batches


def reference(world: int, n: int, rounds: int) -> FeedbackState:
    state = FeedbackState(n)
    for round_ in range(rounds):
        for rank in range(world):
            for indices, scores in rank_pairs(rank, world, n, round_):
                state.observe(indices, scores, epoch=round_)
        state.apply()
    return state


def sync_worker(rank: int, world: int, n: int, init: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        state = FeedbackState(n)
        versions = []
        for round_ in range(2):
            for indices, scores in rank_pairs(rank, world, n, round_):
                state.observe(torch.tensor(indices), torch.tensor(scores), epoch=round_)
            state.sync()
            versions.append(state.version)
        expected = reference(world, n, 2)
        view, wanted = state.view(), expected.view()
        result = {
            "scores_equal": bool(torch.equal(view.scores.isnan(), wanted.scores.isnan()))
            and bool(torch.equal(view.scores.nan_to_num(), wanted.scores.nan_to_num())),
            "observed_equal": bool(torch.equal(view.observed, wanted.observed)),
            "versions": versions,
            "observed_count": int((view.observed >= 0).sum()),
            "big": [float(view.scores[n - 1]), int(view.observed[n - 1])],
        }
        sub = dist.new_group([0, 1])  # a sub-group: ranks outside it do not take part
        if rank in (0, 1):
            state.observe([rank], [float(rank)], epoch=5)
            state.sync(group=sub)
            result["sub"] = state.view().scores[:2].tolist()
        dist.barrier()
    finally:
        dist.destroy_process_group()
    Path(out, f"rank{rank}.json").write_text(json.dumps(result))


@pytest.mark.slow
@pytest.mark.parametrize(("world", "n"), [(2, BIG_INDEX + 1), (3, 40)])
def test_sync_equals_one_process_observing_every_rank_in_order(
    world: int, n: int, tmp_path: Path
) -> None:
    init = f"file://{tmp_path / 'rendezvous'}"
    spawn(sync_worker, args=(world, n, init, str(tmp_path)), nprocs=world, join=True)  # type: ignore[no-untyped-call]
    results = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(world)]
    expected = reference(world, n, 2)
    assert expected.view().observed[n - 1] >= 0  # the last index was observed
    for result in results:
        assert result["scores_equal"]
        assert result["observed_equal"]
        assert result["versions"] == [1, 2]
        assert result["observed_count"] == int((expected.view().observed >= 0).sum())
        assert result["big"] == [float(expected.view().scores[n - 1]), 1]
    assert results[0]["sub"] == results[1]["sub"] == [0.0, 1.0]


def test_sync_without_distributed_is_apply() -> None:
    assert not dist.is_initialized()
    state = FeedbackState(3)
    state.observe([2, 2], [1.0, 2.0], epoch=0)
    state.sync()
    assert state.view().scores[2] == 2.0
    assert state.version == 1


# --- as_view ------------------------------------------------------------------------------


def test_as_view_checks_shape_dtype_and_finiteness() -> None:
    assert as_view(None, 2).observed.tolist() == [-1, -1]
    good = FeedbackView.empty(3)
    assert as_view(good, 3) is good
    with pytest.raises(ConfigError, match=r"scores must be a torch.float32 tensor of shape \(4,\)"):
        as_view(good, 4)
    wrong = FeedbackView(good.scores, good.observed.int())
    with pytest.raises(ConfigError, match=r"observed must be a torch.int64.*torch.int32"):
        as_view(wrong, 3)
    infinite = FeedbackView(torch.tensor([0.0, -math.inf, 1.0]), torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ConfigError, match=r"sample 1 has score -inf"):
        as_view(infinite, 3)


# --- WithIndices ------------------------------------------------------------------------------


class Labelled(torch.utils.data.Dataset[float]):
    def __init__(self, n: int) -> None:
        self.targets = [i % 3 for i in range(n)]
        self.lengths = list(range(n))

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> float:
        return float(index) * 10


class Batched(Labelled):
    def __getitems__(self, indices: list[int]) -> list[float]:
        return [-float(i) for i in indices]


def test_with_indices_items_len_and_forwarded_attributes() -> None:
    data = WithIndices(Labelled(5))
    assert len(data) == 5
    assert data[3] == (3, 30.0)
    assert data.targets == [0, 1, 2, 0, 1]
    assert data.lengths == [0, 1, 2, 3, 4]
    with pytest.raises(AttributeError, match=r"Labelled \(wrapped by WithIndices\) has no .labels"):
        _ = data.labels
    assert not hasattr(data, "labels")
    assert as_label_tensor(data).tolist() == [0, 1, 2, 0, 1]
    sampler = EpochBatchSampler(data, "stratified", batch_size=3)
    assert sorted(i for b in sampler for i in b) == list(range(5))
    copy = pickle.loads(pickle.dumps(data))
    assert copy[4] == (4, 40.0)
    assert copy.targets == data.targets
    assert repr(WithIndices([1])) == "WithIndices([1])"


def test_with_indices_fetches_batches_through_getitems() -> None:
    data = WithIndices(Batched(4))
    assert data.__getitems__([2, 0]) == [(2, -2.0), (0, -0.0)]
    assert WithIndices(Labelled(4)).__getitems__([1]) == [(1, 10.0)]


def test_with_indices_in_a_dataloader_with_workers_feeds_observe() -> None:
    data = WithIndices(Labelled(10))
    loader = DataLoader(data, batch_size=4, num_workers=2, shuffle=False)
    state = FeedbackState(len(data))
    for indices, values in loader:
        assert values.tolist() == [i * 10.0 for i in indices.tolist()]
        state.observe(indices, values.float() / 10, epoch=0)
    state.apply()
    assert state.view().scores.tolist() == [float(i) for i in range(10)]
