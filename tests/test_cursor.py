"""The cursor: epoch, position and the one iteration that may move them (`samplekit.cursor`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from samplekit import StaleIteratorError
from samplekit.cursor import Cursor


def three(epoch: int) -> int:
    return 3


def test_an_iteration_moves_on_only_when_the_next_begins() -> None:
    cursor = Cursor()
    token = cursor.begin(three)
    for _ in range(3):
        cursor.step(token)
    assert (cursor.epoch, cursor.position) == (0, 3)  # the epoch stays while workers drain it
    cursor.begin(three)
    assert (cursor.epoch, cursor.position) == (1, 0)


def test_a_newer_iteration_set_epoch_or_load_supersede_the_running_one() -> None:
    for supersede in ("begin", "set_epoch", "load"):
        cursor = Cursor()
        token = cursor.begin(three)
        cursor.step(token)
        if supersede == "begin":
            cursor.begin(three)
        elif supersede == "set_epoch":
            cursor.set_epoch(5)
        else:
            cursor.load(2, 1)
        before = (cursor.epoch, cursor.position)
        with pytest.raises(StaleIteratorError):
            cursor.step(token)
        assert (cursor.epoch, cursor.position) == before


def test_set_epoch_keeps_the_position_only_right_after_load() -> None:
    cursor = Cursor()
    cursor.load(4, 2)
    cursor.set_epoch(4)
    assert (cursor.epoch, cursor.position) == (4, 2)
    cursor.set_epoch(4)  # twice is fine
    assert cursor.position == 2
    token = cursor.begin(three)
    cursor.step(token)
    cursor.set_epoch(4)  # the alive iteration already is epoch 4: left alone
    assert (cursor.epoch, cursor.position) == (4, 3)
    cursor.step(token)
    cursor.end(token)
    cursor.set_epoch(4)  # an iteration ran since: the whole epoch again
    assert (cursor.epoch, cursor.position) == (4, 0)


def test_set_epoch_of_another_epoch_supersedes_an_alive_iteration() -> None:
    cursor = Cursor()
    token = cursor.begin(three)
    cursor.step(token)
    cursor.set_epoch(1)
    assert (cursor.epoch, cursor.position) == (1, 0)
    with pytest.raises(StaleIteratorError):
        cursor.step(token)


def test_a_set_epoch_before_load_holds_for_the_loaded_epoch_only() -> None:
    cursor = Cursor()
    cursor.set_epoch(1)
    cursor.load(1, 3)  # the checkpoint was taken after epoch 1's last batch
    cursor.begin(three)
    assert (cursor.epoch, cursor.position) == (1, 3)  # pinned: yields nothing more of epoch 1
    cursor = Cursor()
    cursor.set_epoch(0)
    cursor.load(1, 3)
    cursor.begin(three)
    assert (cursor.epoch, cursor.position) == (2, 0)


@given(st.integers(1, 8), st.integers(0, 50), st.integers(0, 3))
def test_the_checkpoint_counts_global_batches(world: int, epoch: int, position: int) -> None:
    cursor = Cursor(world)
    cursor.load(epoch, position)
    assert cursor.state_dict() == {"epoch": epoch, "global_batches": position * world}


@given(st.lists(st.sampled_from(["begin", "step", "step", "step", "set_epoch", "old"])))
def test_only_the_owner_moves_the_position_within_the_epoch(actions: list[str]) -> None:
    cursor = Cursor()
    tokens: list[object] = []
    owner: object | None = None
    for action in actions:
        if action == "begin":
            owner = cursor.begin(three)
            tokens.append(owner)
        elif action == "set_epoch":
            cursor.set_epoch(cursor.epoch + 1)
            owner = None
        elif tokens and cursor.position < 3:  # an iteration stops at the epoch's last batch
            token = tokens[-1] if action == "step" else tokens[0]
            before = cursor.position
            if token is owner:
                cursor.step(token)
                assert cursor.position == before + 1
            else:
                with pytest.raises(StaleIteratorError):
                    cursor.step(token)
                assert cursor.position == before
        assert 0 <= cursor.position <= 3
