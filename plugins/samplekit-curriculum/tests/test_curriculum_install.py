"""The installed distribution declares its entry point, and samplekit finds the strategy by name."""

import importlib.metadata

import samplekit_curriculum

from samplekit import EpochBatchSampler, available_strategies, strategy_info
from samplekit.plugins import isolated_plugin_manager


def test_entry_point_is_declared_and_loads():
    points = [
        ep
        for ep in importlib.metadata.entry_points(group="samplekit")
        if ep.dist is not None and ep.dist.name == "samplekit-curriculum"
    ]
    assert [(ep.name, ep.value) for ep in points] == [
        ("curriculum_negatives", "samplekit_curriculum")
    ]
    assert points[0].load() is samplekit_curriculum


def test_usable_by_name_once_installed(monkeypatch):
    monkeypatch.delenv("SAMPLEKIT_LOAD_PLUGINS", raising=False)
    with isolated_plugin_manager(entrypoints=True):
        assert "curriculum_negatives" in available_strategies()
        assert strategy_info("curriculum_negatives").source.startswith("samplekit-curriculum ")
        sampler = EpochBatchSampler.from_config(
            {
                "strategy": {
                    "name": "curriculum_negatives",
                    "start_ratio": 0.1,
                    "end_ratio": 0.5,
                    "epochs": 3,
                },
                "batch_size": 10,
            },
            [0] * 100 + [1] * 10,
        )
        assert len(sampler) == 2  # 10 positives + 10 negatives
        sampler.set_epoch(2)
        assert len(sampler) == 6  # 10 positives + 50 negatives


def test_load_plugins_setting_can_leave_it_out(monkeypatch):
    monkeypatch.setenv("SAMPLEKIT_LOAD_PLUGINS", "samplekit-mperclass")
    with isolated_plugin_manager(entrypoints=True):
        assert "curriculum_negatives" not in available_strategies()


def test_registers_in_process(samplekit_plugin_manager):
    samplekit_plugin_manager.register(samplekit_curriculum)
    assert "curriculum_negatives" in available_strategies()
