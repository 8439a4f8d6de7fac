"""The installed distribution declares its entry point, and samplekit finds the strategy by name."""

import importlib.metadata
from collections import Counter

import samplekit_mperclass

from samplekit import EpochBatchSampler, available_strategies, strategy_info
from samplekit.plugins import isolated_plugin_manager


def test_entry_point_is_declared_and_loads():
    points = [
        ep
        for ep in importlib.metadata.entry_points(group="samplekit")
        if ep.dist is not None and ep.dist.name == "samplekit-mperclass"
    ]
    assert [(ep.name, ep.value) for ep in points] == [("m_per_class", "samplekit_mperclass")]
    assert points[0].load() is samplekit_mperclass


def test_usable_by_name_once_installed(monkeypatch):
    monkeypatch.delenv("SAMPLEKIT_LOAD_PLUGINS", raising=False)
    with isolated_plugin_manager(entrypoints=True):
        assert "m_per_class" in available_strategies()
        assert strategy_info("m_per_class").source.startswith("samplekit-mperclass ")
        labels = [c for c in range(6) for _ in range(8)]
        sampler = EpochBatchSampler(labels, "m_per_class", batch_size=8, m=2)
        for batch in sampler:
            assert set(Counter(labels[i] for i in batch).values()) == {2}


def test_load_plugins_setting_can_leave_it_out(monkeypatch):
    monkeypatch.setenv("SAMPLEKIT_LOAD_PLUGINS", "")
    with isolated_plugin_manager(entrypoints=True):
        assert "m_per_class" not in available_strategies()


def test_registers_in_process(samplekit_plugin_manager):
    samplekit_plugin_manager.register(samplekit_mperclass)
    assert "m_per_class" in available_strategies()
