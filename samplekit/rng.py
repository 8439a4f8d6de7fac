"""Seeded randomness: generators derived from (seed, epoch, ...) and fast draws for strategies.

Every random draw in samplekit comes from a ``torch.Generator`` made here, never from torch's or
numpy's global RNG. Seeds are mixed through BLAKE2b, so nearby inputs such as ``(seed=0,
epoch=1)`` and ``(seed=1, epoch=0)`` give unrelated streams (``seed + epoch`` would make them
collide).

Examples:
    >>> import torch
    >>> from samplekit.rng import generator, choice_without_replacement
    >>> g = generator(0, 3)
    >>> picked = choice_without_replacement(1_000_000, 5, g)
    >>> picked.shape, bool((picked.unique().numel() == 5))
    (torch.Size([5]), True)
"""

from __future__ import annotations

import hashlib

import torch

__all__ = ["choice_without_replacement", "derive_seed", "generator", "index_dtype"]

_INT32_LIMIT = 2**31 - 1


def derive_seed(*keys: int | str) -> int:
    """Mix integers and strings into one 64-bit seed.

    Args:
        *keys: the parts that identify a random stream, for example ``(seed, epoch)``.

    Returns:
        An integer in ``[0, 2**64)``, a pure function of ``keys``.

    Examples:
        >>> derive_seed(0, 1) != derive_seed(1, 0)
        True
    """
    text = "\x1f".join(f"{type(key).__name__}:{key}" for key in keys)
    digest = hashlib.blake2b(text.encode(), digest_size=8, person=b"samplekit").digest()
    return int.from_bytes(digest, "little")


def generator(*keys: int | str) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded from `derive_seed` of ``keys``.

    Examples:
        >>> import torch
        >>> a = torch.rand(2, generator=generator(7, 0))
        >>> b = torch.rand(2, generator=generator(7, 0))
        >>> bool(torch.equal(a, b))
        True
    """
    gen = torch.Generator()
    gen.manual_seed(derive_seed(*keys))
    return gen


def index_dtype(n: int) -> torch.dtype:
    """The smallest dtype that holds indices ``0..n-1``: int32 below 2**31, else int64."""
    return torch.int32 if n <= _INT32_LIMIT else torch.int64


def choice_without_replacement(
    n: int, k: int, gen: torch.Generator, *, shuffled: bool = True
) -> torch.Tensor:
    """Draw ``k`` distinct integers from ``range(n)`` uniformly.

    Costs O(k log k) time and O(k) memory when ``k`` is small against ``n`` (draws with
    replacement, then drops repeats), and O(n) otherwise (a permutation), so that keeping a few
    negatives out of very many does not permute them all.

    Args:
        n: size of the population, ``n >= 0``.
        k: how many to draw, ``0 <= k <= n``.
        gen: the generator every draw comes from.
        shuffled: return them in random order; if False the order is unspecified (cheaper when
            the caller shuffles anyway).

    Returns:
        A 1-D tensor of ``k`` distinct values (dtype from `index_dtype`).

    Raises:
        ValueError: if ``k`` is not in ``[0, n]``.
    """
    if not 0 <= k <= n:
        msg = f"k must be in [0, n={n}], but got k={k}"
        raise ValueError(msg)
    dtype = index_dtype(n)
    if 4 * k >= n:
        return torch.randperm(n, generator=gen, dtype=dtype)[:k]
    # Sparse regime: the set of distinct values among i.i.d. draws is, given its size, a uniform
    # subset (the law is invariant under relabelling), so keeping a uniform k of them is uniform.
    drawn = torch.empty(0, dtype=dtype)
    while drawn.numel() < k:
        missing = k - drawn.numel()
        extra = torch.randint(n, (missing + missing // 8 + 16,), generator=gen, dtype=dtype)
        drawn = torch.unique(torch.cat((drawn, extra)))
    surplus = drawn.numel() - k
    if shuffled:
        return drawn[torch.randperm(drawn.numel(), generator=gen, dtype=dtype)[:k]]
    if surplus:
        keep = torch.ones(drawn.numel(), dtype=torch.bool)
        keep[choice_without_replacement(drawn.numel(), surplus, gen, shuffled=False)] = False
        drawn = drawn[keep]
    return drawn
