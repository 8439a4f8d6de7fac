"""Random-access permutations: the ``i``-th element of a shuffle without building the shuffle.

`Permutation` is a keyed bijection of ``range(n)``: a Feistel network on a grid of
``a x b >= n`` cells (``a = ceil(sqrt(n))``), with cycle walking for the cells beyond ``n``.
Each round adds a keyed 32-bit hash of one half (its low 30 bits) to the other half, modulo
that half's size; it runs in numpy on uint32 halves, a dozen array operations a round, or
four once a permutation of a grid of fewer than 2**32 cells has mapped enough positions to
read each round's shift from a table of its source half's values (the same permutation).
Any set of positions is mapped independently, so a rank computes its own batches of an epoch of
10**9 samples in time and memory proportional to those batches, with no O(n) step: the
key is all the state there is. `Permutations` is a family of them, one per member (say one
per class, each of its own size), evaluated together.

The law is not ``torch.randperm``'s. A Feistel network with a keyed hash as round function is a
pseudo-random permutation: every position is equally likely for every item, pairs are in
either order half the time, and permutations of different keys are unrelated, as the
shuffle-quality tests check against ``torch.randperm`` (see docs/performance.md). It cannot
reach every one of the ``n!`` permutations for large ``n`` (no shuffle from a 64-bit key can);
for ``n <= 6`` the tests check that every permutation is about equally likely.

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

import collections
import math
import threading
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["MAX_SIZE", "Permutation", "Permutations", "hash32", "rounds"]

#: The largest size a permutation can have: both halves of the grid stay below 2**30.
MAX_SIZE = 2**60

_MASK32 = 0xFFFFFFFF
_MASK64 = (1 << 64) - 1
_MASK30 = (1 << 30) - 1  # of a round's hash: a half (below 2**30) plus it stays in int32
_MULTIPLIER = 0x45D9F3B  # of the 32-bit integer hash the round function applies twice
# Positions mapped per step: small enough for the temporaries to stay in cache.
_STEP = 1 << 16
_POSITIONS = "positions must be in [0, sizes[member]) for each member"
# Positions of one member, in one call, from which `Permutations` maps them as one permutation.
_RUN = 4096


def rounds(n: int) -> int:
    """Feistel rounds (half-updates) for a permutation of ``n``: more for small grids.

    Four rounds make a pseudo-random permutation for a random round function on a large domain
    (Luby and Rackoff); six leave a margin for a fast keyed hash. A small grid has few round
    inputs, and each round moves the permutation less far from the last: 12 rounds up to
    2**16 elements and 24 up to 2**8 bring the small-n exhaustive checks to uniform.
    """
    return int(_rounds(torch.tensor([n]))[0])


_ROUND_COUNTS = (24, 12, 6)  # every value `_rounds` takes


def _rounds(sizes: torch.Tensor) -> torch.Tensor:
    """`rounds` of each of ``sizes`` (int64)."""
    return torch.where(sizes <= 1 << 8, 24, torch.where(sizes <= 1 << 16, 12, 6))


def _splitmix64(state: int) -> tuple[int, int]:
    """One step of SplitMix64: the next state and a 64-bit output."""
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return state, z ^ (z >> 31)


def _hash32(value: int) -> int:
    """`_hash` of one Python int (the same function, for precomputing keys)."""
    for _ in range(2):
        value = ((value ^ (value >> 16)) * _MULTIPLIER) & _MASK32
    return value ^ (value >> 16)


def _grid(n: int) -> tuple[int, int]:
    """The grid ``(a, b)`` of a permutation of ``n``: ``a * b >= n``, ``a * b - n < a``."""
    a = max(1, math.isqrt(max(n - 1, 0)) + 1)
    return a, max(1, -(-n // a))


def _isqrt(values: torch.Tensor) -> torch.Tensor:
    """Exact integer square roots of int64 ``values`` in ``[0, 2**60]``."""
    root = torch.sqrt(values.to(torch.float64)).to(torch.int64)
    for _ in range(2):  # float64 is off by at most one here; step it back into place
        root -= (root * root > values).to(torch.int64)
        root += ((root + 1) * (root + 1) <= values).to(torch.int64)
    return root


class Permutations:
    """A family of pseudo-random permutations, member ``m`` of ``range(sizes[m])``.

    ``perms(members, positions)`` returns, for each pair, the element at ``positions[i]`` of
    member ``members[i]``: a pure function of ``(key, m, sizes[m], position)``. Members are
    independent permutations (their round keys are hashed from ``key`` and ``m``). O(number of
    positions) time; building the family costs O(members).

    Args:
        sizes: each member's size, a 1-D integer tensor (or sequence) of values in
            ``[0, 2**60]``.
        key: any integer; its value modulo ``2**64`` picks the family.

    Raises:
        ValueError: for a size outside ``[0, 2**60]``.

    Examples:
        >>> import torch
        >>> from samplekit.permutation import Permutations
        >>> perms = Permutations([3, 5], key=7)
        >>> first = perms(torch.zeros(3, dtype=torch.long), torch.arange(3))
        >>> sorted(first.tolist())
        [0, 1, 2]
    """

    def __init__(self, sizes: torch.Tensor | Sequence[int], key: int) -> None:
        self.sizes = torch.as_tensor(sizes, dtype=torch.int64).reshape(-1)
        if self.sizes.numel() and (int(self.sizes.min()) < 0 or int(self.sizes.max()) > MAX_SIZE):
            msg = f"sizes must be in [0, 2**60], but got {self.sizes.min()} to {self.sizes.max()}"
            raise ValueError(msg)
        self.key = key & _MASK64
        state, words = self.key, []
        sizes = self.sizes
        # rounds(n) and _grid(n) per member, vectorised (a family may have millions).
        counts = _rounds(sizes)
        most = int(counts.max()) if counts.numel() else 0
        for _ in range(most + 1):
            state, word = _splitmix64(state)
            words.append(word)
        self._words = words
        a = _isqrt(torch.clamp(sizes - 1, min=0)) + 1
        b = torch.clamp(-torch.div(-sizes, a, rounding_mode="floor"), min=1)
        # The network runs in numpy (a third of torch's cost per operation on small arrays).
        self._a, self._b, self._sizes = a.numpy(), b.numpy(), sizes.numpy()
        self._rounds = counts.numpy()
        members = np.arange(self.sizes.numel(), dtype=np.uint32)
        #: Per round, each member's 32-bit round key: the round's word hashed with the member.
        self._round_keys = [
            _hash_uint32(members ^ np.uint32(word & _MASK32)) for word in words[:most]
        ]
        # Swapping cells 0 and 1 first, for half the members, makes odd permutations reachable
        # (each round alone is even when a or b is odd).
        swap_word = _hash_uint32(members ^ np.uint32(words[most] & _MASK32))
        self._swap = ((swap_word & 1) == 1) & (self._sizes >= 2)
        self._one_count = (
            int(counts[0]) if counts.numel() and bool((counts == counts[0]).all()) else None
        )

    def __len__(self) -> int:
        return int(self.sizes.numel())

    def __call__(self, members: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """The elements at ``positions`` of the permutations ``members`` (int64).

        Raises:
            ValueError: for a member or position out of range.
        """
        member = _flat(members, "members")
        flat = _flat(positions, "positions")
        if member.shape != flat.shape:
            msg = (
                f"members and positions must have one shape, but got "
                f"{tuple(members.shape)} and {tuple(positions.shape)}"
            )
            raise ValueError(msg)
        if member.numel():
            low, high = (int(v) for v in torch.aminmax(member))
            if low < 0 or high >= len(self):
                msg = f"members must be in [0, {len(self)}), but got {low} to {high}"
                raise ValueError(msg)
            if int(flat.min()) < 0:
                raise ValueError(_POSITIONS)
            # Positions beyond their member's size are refused where each size is at hand.
        member_np, flat_np = member.numpy(), flat.numpy()
        out = np.empty_like(flat_np)
        rest: np.ndarray | None = None  # the positions left to the vectorised network (None: all)
        if flat_np.size >= _RUN and len(self) <= _STEP:
            # A member with many positions in a step runs alone, with scalar keys and moduli:
            # no per-element gathers, and numpy divides by a scalar several times faster than
            # by an array. At most _STEP / _RUN members of a step do, so it stays O(positions).
            left, alone_any = [], False
            for start in range(0, flat_np.size, _STEP):
                step = member_np[start : start + _STEP]
                counts = np.bincount(step, minlength=len(self))
                many = np.flatnonzero(counts >= _RUN)
                for member_id in many.tolist():
                    alone = np.flatnonzero(step == member_id) + start
                    out[alone] = self._one(member_id, flat_np[alone])
                if many.size:
                    alone_any = True
                    left.append(np.flatnonzero(counts[step] < _RUN) + start)
                else:
                    left.append(np.arange(start, start + step.size))
            if alone_any:
                rest = np.concatenate(left)
        if self._one_count is not None and rest is None:  # one round count: no grouping
            groups: list[tuple[int, np.ndarray | None]] = [(self._one_count, None)]
        else:
            subset = member_np if rest is None else member_np[rest]
            count = self._rounds[subset]
            found = (np.flatnonzero(count == value) for value in _ROUND_COUNTS)
            groups = [
                (v, same if rest is None else rest[same])
                for v, same in zip(_ROUND_COUNTS, found, strict=True)
                if same.size
            ]
        for value, same in groups:  # members of one round count together
            total = flat_np.size if same is None else same.size
            for start in range(0, total, _STEP):
                part = slice(start, start + _STEP)
                where = part if same is None else same[part]
                m, x = member_np[where], flat_np[where]
                grid = (self._a[m], self._b[m], self._sizes[m])
                if (x >= grid[2]).any():
                    raise ValueError(_POSITIONS)
                keys = [key[m] for key in self._round_keys[:value]]
                out[where] = _walk(x, grid, keys, self._swap[m])
        return torch.from_numpy(out).view(positions.shape)

    def _one(self, m: int, x: np.ndarray) -> np.ndarray:
        """Member ``m`` at positions ``x`` (int64), with its keys and grid as scalars."""
        grid = (int(self._a[m]), int(self._b[m]), int(self._sizes[m]))
        if x.size and int(x.max()) >= grid[2]:
            raise ValueError(_POSITIONS)
        keys = tuple(int(key[m]) for key in self._round_keys[: int(self._rounds[m])])
        return _map(x, grid, keys, swap=bool(self._swap[m]))


class Permutation:
    """A pseudo-random permutation of ``range(n)``, keyed by a 64-bit ``key``, random access.

    ``perm(positions)`` returns the elements at ``positions`` of the permutation: a bijection
    of ``range(n)``, a pure function of ``(n, key, position)``. Costs O(len(positions)) time and
    O(min(len(positions), 65,536)) extra memory; building one is O(1). It is member 0 of
    ``Permutations([n], key)``, evaluated with scalars.

    Args:
        n: how many elements, ``0 <= n <= 2**60``.
        key: any integer; its value modulo ``2**64`` picks the permutation (derive it with
            `samplekit.rng.derive_seed`, say from ``(seed, epoch, name)``).

    Raises:
        ValueError: if ``n`` is outside ``[0, 2**60]``.
    """

    def __init__(self, n: int, key: int) -> None:
        if not 0 <= n <= MAX_SIZE:
            msg = f"n must be in [0, 2**60], but got n={n}"
            raise ValueError(msg)
        self.n = n
        self.key = key & _MASK64
        state, words = self.key, []
        count = rounds(n)
        for _ in range(count + 1):
            state, word = _splitmix64(state)
            words.append(word)
        a, b = _grid(n)
        self._grid = (a, b, n)
        self._round_keys = tuple(_hash32(word & _MASK32) for word in words[:count])
        self._swap = bool(_hash32(words[count] & _MASK32) & 1) and n >= 2

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
        flat = _flat(positions, "positions")
        if flat.numel():
            low, high = (int(v) for v in torch.aminmax(flat))
            if low < 0 or high >= self.n:
                msg = f"positions must be in [0, {self.n}), but got {low} to {high}"
                raise ValueError(msg)
        out = _map(flat.numpy(), self._grid, self._round_keys, swap=self._swap)
        return torch.from_numpy(out).view(positions.shape)

    def range(self, start: int, stop: int) -> torch.Tensor:
        """The elements at positions ``start`` to ``stop - 1`` (int64)."""
        return self(torch.arange(start, stop, dtype=torch.int64))


Value = int | np.ndarray  # a scalar shared by all elements, or one value per element
Modulus = np.uint32 | np.ndarray  # a half's size, as `_encrypt` divides by it


def _flat(values: torch.Tensor, name: str) -> torch.Tensor:
    if (
        not isinstance(values, torch.Tensor)
        or values.dtype.is_floating_point
        or values.dtype == torch.bool
    ):
        msg = f"{name} must be an integer torch.Tensor"
        raise ValueError(msg)
    return values.reshape(-1).to(torch.int64)


def _map(
    x: np.ndarray, grid: tuple[int, int, int], keys: tuple[int, ...], *, swap: bool
) -> np.ndarray:
    """One permutation (scalar grid and keys) at int64 positions ``x``, a step at a time.

    Once a permutation of a grid of fewer than 2**32 cells has mapped enough positions, its
    rounds read their shifts from tables of the source half's values (`_TABLES`): the same
    permutation, a third cheaper.
    """
    tables = _TABLES.get(grid[0], grid[1], keys, x.size)
    out = np.empty_like(x)
    for start in range(0, x.size, _STEP):
        part = slice(start, start + _STEP)
        out[part] = _walk(x[part], grid, keys, swap, tables)
    return out


class _Tables:
    """The round tables of the permutations in use, and how far the others have got.

    A permutation's tables (`_round_tables`, ``3 * (a + b)`` hashes for 6 rounds) cost about
    what they save on ``_TABLE_USE * (a + b)`` positions, so they are built once its calls
    have mapped that many, whether in one call or in many (a rank reads an epoch of 10**9
    samples 65,536 positions at a time, a ninth of that). The tables of the last `_KEPT`
    permutations are kept, and the counts of the last ``_COUNTED``. Thread-safe: a prefetch
    thread may map positions too.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: collections.OrderedDict[tuple[int, ...], tuple[torch.Tensor, ...]] = (
            collections.OrderedDict()
        )
        self._mapped: collections.OrderedDict[tuple[int, ...], int] = collections.OrderedDict()

    def get(
        self, a: int, b: int, keys: tuple[int, ...], count: int
    ) -> tuple[torch.Tensor, ...] | None:
        """The tables of the permutation of grid ``a x b`` and round ``keys``, or ``None``.

        ``count`` positions are about to be mapped; ``None`` until enough have been.
        """
        if a * b > _MASK32:  # a half beyond 2**16 values: no tables
            return None
        name = (a, b, *keys)
        with self._lock:
            tables = self._built.get(name)
            if tables is not None:
                self._built.move_to_end(name)
                return tables
            mapped = self._mapped.pop(name, 0) + count
            if mapped < _TABLE_USE * (a + b):
                self._mapped[name] = mapped
                if len(self._mapped) > _COUNTED:
                    self._mapped.popitem(last=False)
                return None
        tables = _round_tables(a, b, keys)  # outside the lock; a race builds them twice
        with self._lock:
            self._built[name] = tables
            if len(self._built) > _KEPT:
                self._built.popitem(last=False)
        return tables

    def clear(self) -> None:
        """Forget every table and count."""
        with self._lock:
            self._built.clear()
            self._mapped.clear()

    def __len__(self) -> int:
        return len(self._built)


# Positions per grid side from which a permutation's rounds are tabulated (see `_Tables`).
_TABLE_USE = 2
# Permutations whose tables are kept (at most 1.5 MiB each: 6 tables of 65,536 int32), and
# whose positions mapped so far are counted.
_KEPT = 16
_COUNTED = 256


def _round_tables(a: int, b: int, keys: tuple[int, ...]) -> tuple[torch.Tensor, ...]:
    """Per round, the shift each value of its source half adds to its target half.

    Round ``r`` adds ``(hash(source ^ keys[r]) & (2**30 - 1)) % modulus`` to its target,
    modulo the target half's size: tabulated over the source half's values (int32, below
    2**16 each on a grid of fewer than 2**32 cells).
    """
    out = []
    for number, key in enumerate(keys):
        size, modulus = (b, a) if number % 2 == 0 else (a, b)
        shift = np.arange(size, dtype=np.uint32)
        shift ^= np.uint32(key)
        _hash_uint32(shift)
        shift &= _MASK30_U32
        shift %= np.uint32(modulus)
        out.append(torch.from_numpy(shift.view(np.int32)))
    return tuple(out)


_TABLES = _Tables()


def _walk(
    x: np.ndarray,
    grid: tuple[Value, Value, Value],
    keys: Sequence[Value],
    swap: bool | np.ndarray,
    tables: Sequence[torch.Tensor] | None = None,
) -> np.ndarray:
    """Encrypt int64 ``x``; re-encrypt the cells that land beyond ``n`` until none does."""
    n = grid[2]
    y = _encrypt(x, grid, keys, swap, tables)
    outside = np.flatnonzero(y >= n)
    while outside.size:
        sub = [_pick(v, outside) for v in grid]
        y[outside] = _encrypt(
            y[outside],
            (sub[0], sub[1], sub[2]),
            [_pick(k, outside) for k in keys],
            swap[outside] if isinstance(swap, np.ndarray) else swap,
            tables,
        )
        outside = outside[y[outside] >= _pick(n, outside)]
    return y


def _pick(value: Value, where: np.ndarray) -> Value:
    return value[where] if isinstance(value, np.ndarray) else value


def _encrypt(
    x: np.ndarray,
    grid: tuple[Value, Value, Value],
    keys: Sequence[Value],
    swap: bool | np.ndarray,
    tables: Sequence[torch.Tensor] | None = None,
) -> np.ndarray:
    """The Feistel network on the grid: alternate keyed shifts of ``low`` and ``high``.

    ``x`` is int64; the halves (below ``a`` and ``b``, at most 2**30) and the keys are uint32: a
    round adds the low 30 bits of the hash of one half xor its key to the other half, a sum
    below 2**31, and reduces it modulo that half's size. With ``tables`` (a scalar grid of
    fewer than 2**32 cells), a round reads that shift, already reduced, from its table instead.
    """
    a, b, _ = grid
    # A scalar grid of under 2**32 cells runs wholly in uint32 (int64 operations cost twice).
    narrow = not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray) and a * b <= _MASK32
    if narrow:
        x = x.astype(np.uint32)
    if isinstance(swap, np.ndarray):
        x = x ^ ((x < 2) & swap)
    elif swap:
        x = x ^ (x < 2)
    high: np.ndarray
    low: np.ndarray
    if narrow:
        high = x // np.uint32(a)
        low = x - high * np.uint32(a)
    else:
        high = x // a
        low = (x - high * a).astype(np.uint32)
        high = high.astype(np.uint32)
    moduli = [v.astype(np.uint32) if isinstance(v, np.ndarray) else np.uint32(v) for v in (a, b)]
    if tables is not None and narrow:
        _tabled_rounds(high, low, moduli, tables)
    else:
        _hashed_rounds(high, low, moduli, keys)
    if narrow:
        high *= np.uint32(a)
        high += low
        joined: np.ndarray = high.astype(np.int64)
    else:
        joined = high.astype(np.int64) * a + low
    return joined


def _hashed_rounds(
    high: np.ndarray, low: np.ndarray, moduli: Sequence[Modulus], keys: Sequence[Value]
) -> None:
    """The rounds of `_encrypt`, in place: each hashes its source half with its key."""
    f = np.empty_like(low)
    for number, key in enumerate(keys):
        source, target, modulus = (
            (high, low, moduli[0]) if number % 2 == 0 else (low, high, moduli[1])
        )
        np.bitwise_xor(source, key if isinstance(key, np.ndarray) else np.uint32(key), out=f)
        _hash_uint32(f)
        f &= _MASK30_U32
        target += f
        if isinstance(modulus, np.ndarray):
            np.remainder(target, modulus, out=target)
        else:  # numpy divides by a scalar with a multiply (libdivide): 5x a remainder's speed
            np.floor_divide(target, modulus, out=f)
            f *= modulus
            target -= f


def _tabled_rounds(
    high: np.ndarray, low: np.ndarray, moduli: Sequence[Modulus], tables: Sequence[torch.Tensor]
) -> None:
    """The rounds of `_encrypt`, in place, each reading its source half's shift from a table."""
    shift, spare = np.empty_like(low), np.empty_like(low)
    # int32 views for torch's gather, a third of numpy's take's cost (all below 2**16 here).
    sources = (torch.from_numpy(high.view(np.int32)), torch.from_numpy(low.view(np.int32)))
    into = torch.from_numpy(shift.view(np.int32))
    for number, table in enumerate(tables):
        source, target, modulus = (
            (sources[0], low, moduli[0]) if number % 2 == 0 else (sources[1], high, moduli[1])
        )
        torch.index_select(table, 0, source, out=into)
        target += shift  # below twice the modulus: subtract it where that does not wrap
        np.subtract(target, modulus, out=spare)
        np.minimum(target, spare, out=target)


_MASK30_U32 = np.uint32(_MASK30)
_MULTIPLIER_U32 = np.uint32(_MULTIPLIER)


def _hash_uint32(h: np.ndarray) -> np.ndarray:
    """The 32-bit integer hash of uint32 ``h``, in place (products wrap modulo 2**32)."""
    scratch = np.empty_like(h)
    for _ in range(2):
        np.right_shift(h, 16, out=scratch)
        h ^= scratch
        np.multiply(h, _MULTIPLIER_U32, out=h)
    np.right_shift(h, 16, out=scratch)
    h ^= scratch
    return h


def hash32(values: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer hash of int64 ``values`` below 2**32 (a new int64 tensor).

    Examples:
        >>> import torch
        >>> hash32(torch.tensor([0, 1, 2])).tolist() == [_hash32(v) for v in (0, 1, 2)]
        True
    """
    hashed = _hash_uint32(values.to(torch.int64).numpy().astype(np.uint32))
    return torch.from_numpy(hashed.astype(np.int64)).view(values.shape)
