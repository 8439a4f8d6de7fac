"""The ``samplekit`` command line.

Example:
    .. code-block:: console

        $ samplekit demo
"""

from __future__ import annotations

from typing import Any

import click

__all__ = ["main"]


@click.group()
@click.version_option(package_name="samplekit")
def main() -> None:
    """samplekit: per-epoch sample selection for PyTorch."""


@main.command()
@click.option("--epochs", default=3, show_default=True, type=click.IntRange(1, 100))
@click.option("--seed", default=0, show_default=True, type=int)
def demo(epochs: int, seed: int) -> None:
    """Run every built-in strategy on synthetic imbalanced labels and print what each epoch holds.

    First the origin's scenario (100 samples, 20 positives, keep a quarter of the negatives,
    batches of 10), then 20,000 samples over four classes (90/7/2.5/0.5 %), batches of 256.
    """
    import torch

    from samplekit.report import composition, format_composition
    from samplekit.rng import generator
    from samplekit.sampler import EpochBatchSampler

    gen = generator(seed, "demo")
    origin = torch.tensor([0] * 80 + [1] * 20)[torch.randperm(100, generator=gen)]
    click.echo("Origin scenario: 100 samples (80 negatives, 20 positives), batch_size=10")
    click.echo("negative_subsampling(neg_ratio=0.25): all positives + a fresh 20 negatives")
    sampler = EpochBatchSampler(
        origin, "negative_subsampling", batch_size=10, seed=seed, neg_ratio=0.25
    )
    click.echo(format_composition(composition(sampler, epochs), seen=True))
    for epoch in range(2):
        sampler.set_epoch(epoch)
        click.echo(f"  epoch {epoch} batches (labels): ")
        for batch in sampler:
            click.echo("    " + "".join(str(int(origin[i])) for i in batch))

    shares = torch.tensor([0.9, 0.07, 0.025, 0.005])
    counts = (shares * 20_000).long()
    labels = torch.repeat_interleave(torch.arange(4), counts)[
        torch.randperm(int(counts.sum()), generator=gen)
    ]
    click.echo("\nImbalanced: 20,000 samples, classes 0..3 = 90 / 7 / 2.5 / 0.5 %, batch_size=256")
    runs: list[tuple[str, dict[str, Any], bool]] = [
        ("negative_subsampling", {"neg_per_pos": 1.0}, True),
        ("negative_subsampling", {"neg_ratio": 0.05, "cycle": True}, True),
        ("stratified", {}, False),
        ("class_weighted", {"class_weights": "balanced"}, True),
        (
            "class_weighted",
            {"class_weights": {0: 1, 1: 2, 2: 4, 3: 8}, "num_samples": 5000, "replacement": False},
            True,
        ),
    ]
    for name, options, seen in runs:
        sampler = EpochBatchSampler(labels, name, batch_size=256, seed=seed, **options)
        shown = ", ".join(f"{k}={v}" for k, v in options.items())
        click.echo(f"{name}({shown}): {len(sampler)} batches per epoch")
        click.echo(format_composition(composition(sampler, epochs), seen=seen))
