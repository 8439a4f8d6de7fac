"""Random-access permutations: the ``i``-th element of a shuffle without building the shuffle.

`Permutation` is a keyed bijection of ``range(n)``: a Feistel network on a grid of
``a x b >= n`` cells (``a = ceil(sqrt(n))``), with cycle walking for the cells beyond ``n``.
Any set of positions is mapped independently, so a rank computes its own batches of an epoch of
10**9 samples in time and memory proportional to those batches, with no O(n) step: the
key is all the state there is.

The law is not ``torch.randperm``'s. A Feistel network with a keyed hash as round function is a
pseudo-random permutation: every position is equally likely for every item, pairs are in
either order half the time, and permutations of different keys are unrelated, as the
shuffle-quality tests check against ``torch.randperm`` (see docs/performance.md). It is not
guaranteed to reach every one of the ``n!`` permutations for large ``n`` (no shuffle with a
64-bit key does); for ``n <= 6`` the tests check that every permutation is about equally likely.

Examples:
    >>> import torch
    >>> from samplekit.permutation import Permutation
    >>> perm = Permutation(10, key=42)
    >>> order = perm(torch.arange(10))
    >>> sorted(order.tolist()) == list(range(10))
    True
    >>> bool(torch.equal(perm(torch.tensor([7, 3])), order[[7, 3]]))
    True
"""

from __future__ import annotations

import math

import torch

__all__ = ["Permutation", "rounds"]

_MASK32 = 0xFFFFFFFF
_MASK64 = (1 << 64) - 1
_MULTIPLIER = 0x45D9F3B  # of the 32-bit integer hash the round function applies twice
# Positions mapped per step: small enough for the temporaries to stay in cache.
_STEP = 1 << 16


def rounds(n: int) -> int:
    """Feistel rounds (half-updates) for a permutation of ``n``: more for small grids.

    Four rounds make a pseudo-random permutation for a random round function on a large domain
    (Luby and Rackoff); six leave a margin for a fast keyed hash. A small grid has few round
    inputs, and each round moves the permutation less far from the last: 12 rounds up to
    2**16 elements and 24 up to 2**8 bring the small-n exhaustive checks to uniform.
    """
    if n <= 1 << 8:
        return 24
    return 12 if n <= 1 << 16 else 6


def _splitmix64(state: int) -> tuple[int, int]:
    """One step of SplitMix64: the next state and a 64-bit output."""
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return state, z ^ (z >> 31)


class Permutation:
    """A pseudo-random permutation of ``range(n)``, keyed by a 64-bit ``key``, random access.

    ``perm(positions)`` returns the elements at ``positions`` of the permutation (the
    permutation of ``range(n)`` read at those positions): a bijection of ``range(n)`` in
    ``positions``, a pure function of ``(n, key, position)``. Costs O(len(positions)) time and
    O(min(len(positions), 65,536)) extra memory; building one is O(1).

    Args:
        n: how many elements, ``0 <= n <= 2**62``.
        key: any integer; its value modulo ``2**64`` picks the permutation (derive it with
            `samplekit.rng.derive_seed`, say from ``(seed, epoch, name)``).

    Raises:
        ValueError: if ``n`` is outside ``[0, 2**62]``.
    """

    def __init__(self, n: int, key: int) -> None:
        if not 0 <= n <= 2**62:
            msg = f"n must be in [0, 2**62], but got n={n}"
            raise ValueError(msg)
        self.n = n
        self.key = key & _MASK64
        # The grid: x = high * a + low, low in Z_a, high in Z_b; a * b - n < a, so a cell
        # beyond n is rare and cycle walking (re-encrypting it) ends after a step or two.
        self._a = max(1, math.isqrt(max(n - 1, 0)) + 1)
        self._b = max(1, -(-n // self._a))
        state = self.key
        words = []
        count = rounds(n)
        for _ in range(count + 1):
            state, word = _splitmix64(state)
            words.append(word)
        self._round_keys = [word & _MASK32 for word in words[:count]]
        # Swapping cells 0 and 1 first, for half the keys, makes odd permutations reachable
        # (each round alone is even when a or b is odd).
        self._swap = bool(words[count] >> 63) and n >= 2

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return f"Permutation(n={self.n}, key={self.key})"

    def __call__(self, positions: torch.Tensor) -> torch.Tensor:
        """The permutation's elements at ``positions`` (int64, same shape, values in [0, n)).

        Raises:
            ValueError: if a position is outside ``[0, n)`` or ``positions`` is not an
                integer tensor.
        """
        if not isinstance(positions, torch.Tensor) or positions.dtype.is_floating_point:
            msg = "positions must be an integer torch.Tensor"
            raise ValueError(msg)
        flat = positions.reshape(-1).to(torch.int64)
        if flat.numel() and (int(flat.min()) < 0 or int(flat.max()) >= self.n):
            msg = (
                f"positions must be in [0, {self.n}), but got {int(flat.min())} to "
                f"{int(flat.max())}"
            )
            raise ValueError(msg)
        out = torch.empty_like(flat)
        for start in range(0, flat.numel(), _STEP):
            out[start : start + _STEP] = self._walk(flat[start : start + _STEP])
        return out.view(positions.shape)

    def range(self, start: int, stop: int) -> torch.Tensor:
        """The elements at positions ``start`` to ``stop - 1`` (int64)."""
        return self(torch.arange(start, stop, dtype=torch.int64))

    def _walk(self, x: torch.Tensor) -> torch.Tensor:
        """Encrypt; re-encrypt the cells that land beyond ``n`` until none does."""
        y = self._encrypt(x)
        outside = torch.nonzero(y >= self.n).flatten()
        while outside.numel():
            y[outside] = self._encrypt(y[outside])
            outside = outside[y[outside] >= self.n]
        return y

    def _encrypt(self, x: torch.Tensor) -> torch.Tensor:
        """The Feistel network on the grid: alternate keyed shifts of ``low`` and ``high``."""
        a, b = self._a, self._b
        if self._swap:
            x = x ^ (x < 2).to(torch.int64)
        low, high = x % a, x // a
        f, scratch = torch.empty_like(x), torch.empty_like(x)
        for number, key in enumerate(self._round_keys):
            if number % 2 == 0:  # low += F(high) mod a
                _hash(torch.bitwise_xor(high, key, out=f), scratch).remainder_(a)
                low.add_(f).remainder_(a)
            else:  # high += F(low) mod b
                _hash(torch.bitwise_xor(low, key, out=f), scratch).remainder_(b)
                high.add_(f).remainder_(b)
        return high.mul_(a).add_(low)


def _hash(v: torch.Tensor, scratch: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer hash of ``v`` (values below 2**32), in place; int64 never overflows."""
    for _ in range(2):
        v.bitwise_xor_(torch.bitwise_right_shift(v, 16, out=scratch))
        v.mul_(_MULTIPLIER).bitwise_and_(_MASK32)
    return v.bitwise_xor_(torch.bitwise_right_shift(v, 16, out=scratch))
