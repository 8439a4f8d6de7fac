"""A sampler's feedback: observations from the training loop, pinned per epoch.

Epoch ``e`` of a feedback strategy is planned from every observation made before ``e`` began.
`EpochFeedback` keeps the live `samplekit.feedback.FeedbackState` (which observations keep
coming into) and the view the running epoch was planned with, so that ``len``, the batches and
``loss_weights`` of an epoch never change while it runs:

- `begin` (an iteration starts a new epoch): fold every observation in, across ranks under
  ``torch.distributed`` (one collective), and pin the view to the epoch;
- `view_for` an epoch: its pinned view, or, for an epoch not begun yet, a preview from what has
  been observed so far (single process: every observation; under ``torch.distributed``: what
  the last exchange brought, since only `begin` exchanges);
- `state_dict` / `load_state_dict`: both the pinned view and the live state, so a resumed run
  replans its epoch exactly and carries every later observation on.

Examples:
    >>> import torch
    >>> from samplekit.observing import EpochFeedback
    >>> feedback = EpochFeedback(3, exchange=False)
    >>> feedback.begin(0)
    >>> feedback.observe([2], torch.tensor([0.5]), epoch=0)
    >>> feedback.view_for(0)[0].scores.tolist()          # epoch 0 was planned without it
    [nan, nan, nan]
    >>> feedback.view_for(1)[0].scores.tolist()          # a preview of epoch 1 has it
    [nan, nan, 0.5]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from samplekit.errors import ConfigError
from samplekit.feedback import FeedbackState

if TYPE_CHECKING:
    from collections.abc import Mapping

    import torch

    from samplekit.strategy import FeedbackView

__all__ = ["EpochFeedback", "loss_weights_for"]


class EpochFeedback:
    """The feedback state of one sampler, with the view each running epoch was planned from.

    Args:
        num_samples: the number of samples.
        exchange: whether observations are exchanged across ``torch.distributed`` ranks (the
            sampler spans the default process group).
    """

    def __init__(self, num_samples: int, *, exchange: bool) -> None:
        self.state = FeedbackState(num_samples)
        self.exchange = exchange
        self._pinned: tuple[int, FeedbackView, int] | None = None

    def observe(self, indices: Any, scores: Any, *, epoch: int) -> None:
        """Queue one score per index (validated; O(batch))."""
        self.state.observe(indices, scores, epoch=epoch)

    def _fold(self) -> None:
        if self.exchange:
            self.state.sync()
        else:
            self.state.apply()

    def begin(self, epoch: int) -> None:
        """An iteration of ``epoch`` starts: unless it is pinned already, fold in and pin.

        An epoch is pinned once: iterating it again (``set_epoch`` with the same epoch, or a
        resumed checkpoint) plans it from the same view, so it yields the same batches.
        Under ``torch.distributed`` every rank calls this at the same point of its loop.
        """
        if self._pinned is not None and self._pinned[0] == epoch:
            return
        self._fold()
        self._pinned = (epoch, self.state.view(), self.state.version)

    def view_for(self, epoch: int) -> tuple[FeedbackView, int]:
        """The view ``epoch`` is (or would now be) planned from, and its version (a cache key)."""
        if self._pinned is not None and self._pinned[0] == epoch:
            return self._pinned[1], self._pinned[2]
        if not self.exchange:
            self.state.apply()
        return self.state.view(), self.state.version

    def state_dict(self) -> dict[str, Any]:
        """The live state (every rank's observations, exchanged first) and the pinned view."""
        if self.exchange:
            self.state.sync()
        live = self.state.state_dict()
        pinned: dict[str, Any] | None = None
        if self._pinned is not None:
            epoch, view, _ = self._pinned
            pinned = {"epoch": epoch, "scores": view.scores, "observed": view.observed}
        return {"live": live, "pinned": pinned}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what `state_dict` returned.

        Raises:
            ConfigError: if the state is malformed (see `FeedbackState.load_state_dict`).
        """
        if not hasattr(state, "keys") or set(state) != {"live", "pinned"}:
            msg = (
                "state: feedback must be the mapping {'live': ..., 'pinned': ...} that "
                "EpochBatchSampler.state_dict() wrote for a feedback strategy"
            )
            raise ConfigError(msg)
        pinned = state["pinned"]
        restored = None
        if pinned is not None:
            if not hasattr(pinned, "keys") or set(pinned) != {"epoch", "scores", "observed"}:
                msg = "state: feedback.pinned must hold 'epoch', 'scores' and 'observed'"
                raise ConfigError(msg)
            check = FeedbackState(self.state.num_samples)
            check.load_state_dict({"scores": pinned["scores"], "observed": pinned["observed"]})
            epoch = pinned["epoch"]
            if type(epoch) is not int or epoch < 0:
                msg = f"state: feedback.pinned.epoch must be an int >= 0, not {epoch!r}"
                raise ConfigError(msg)
            restored = (epoch, check.view(), -1)
        self.state.load_state_dict(state["live"])
        if restored is not None:
            # A version of its own, below every live version, so plans are not mistaken.
            self._pinned = (restored[0], restored[1], -self.state.version - 1)
        else:
            self._pinned = None


def loss_weights_for(
    index: torch.Tensor, indices: Any, weights: torch.Tensor | None
) -> torch.Tensor:
    """``weights[index]`` as float32 (ones without weights), on the device of ``indices``."""
    import torch

    device = indices.device if isinstance(indices, torch.Tensor) else torch.device("cpu")
    if weights is None:
        return torch.ones(index.numel(), dtype=torch.float32, device=device)
    return weights[index].to(device=device, dtype=torch.float32)
