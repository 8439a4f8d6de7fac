"""The strategy registry: lookups, and what an unknown name's error says."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import torch

import samplekit
from samplekit import PluginError, UnknownStrategyError
from samplekit.plugins import PluginManager, isolated_plugin_manager
from samplekit.registry import StrategyInfo, validate_strategy_class

if TYPE_CHECKING:
    from collections.abc import Iterator

    from samplekit.hookspecs import Register
    from samplekit.strategy import EpochContext


class Everything(samplekit.Strategy):
    """Every sample, shuffled."""

    name = "everything_for_registry"

    def epoch_length(self, epoch: int) -> int:
        return int(self.labels.numel())

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        return torch.randperm(self.labels.numel(), generator=ctx.generator)


class Plugin:
    @samplekit.hookimpl
    def samplekit_register_strategies(self, register: Register) -> None:
        register(Everything)


@pytest.fixture
def pm() -> Iterator[PluginManager]:
    with isolated_plugin_manager() as manager:
        yield manager


def test_infos_are_sorted_and_name_their_source(pm: PluginManager) -> None:
    name = pm.register(Plugin(), name="registry_test_plugin")
    infos = pm.strategies.infos()
    assert [info.name for info in infos] == sorted(info.name for info in infos)
    info = pm.strategies.get("everything_for_registry")
    assert info == StrategyInfo(
        "everything_for_registry", Everything, "plugin registry_test_plugin", str(name)
    )
    pm.unregister(name="registry_test_plugin")
    assert "everything_for_registry" not in pm.strategies.names()


def test_unknown_name_lists_what_exists_and_the_closest(pm: PluginManager) -> None:
    with pytest.raises(UnknownStrategyError) as info:
        pm.strategies.get("stratifid")
    message = str(info.value)
    listed = "class_weighted, hard_negatives, importance, infobatch, negative_subsampling, shuffle"
    assert f"available: {listed}, stratified" in message
    assert "did you mean 'stratified'?" in message
    assert isinstance(info.value, ValueError)


def test_unknown_name_without_a_plugin_setting_does_not_mention_it(pm: PluginManager) -> None:
    assert pm.load_plugins is None
    with pytest.raises(UnknownStrategyError) as info:
        pm.strategies.get("m_per_class")
    assert "SAMPLEKIT_LOAD_PLUGINS" not in str(info.value)


def test_unknown_name_under_a_plugin_setting_names_it_and_what_it_left_out(
    pm: PluginManager,
) -> None:
    pm.load_plugins = "samplekit-curriculum"
    pm.not_selected = ["samplekit-mperclass"]
    with pytest.raises(UnknownStrategyError) as info:
        pm.strategies.get("m_per_class")
    message = str(info.value)
    assert "SAMPLEKIT_LOAD_PLUGINS='samplekit-curriculum' restricted" in message
    assert "left out: samplekit-mperclass" in message
    assert "unset it to load every installed plugin" in message


def test_unknown_name_quotes_a_huge_name_and_setting_shortened(pm: PluginManager) -> None:
    pm.load_plugins = "x" * 100_000
    with pytest.raises(UnknownStrategyError) as info:
        pm.strategies.get("y" * 100_000)
    assert len(str(info.value)) < 2_000


def test_validate_strategy_class_returns_the_class() -> None:
    assert validate_strategy_class(Everything) is Everything
    with pytest.raises(PluginError, match=r"subclass of samplekit\.Strategy"):
        validate_strategy_class(int)
