"""Plugin loading: in-process registration, entry points, faults that must not pass silently."""

import textwrap
import types

import pluggy
import pytest
import torch
from pydantic import Field

import samplekit
from samplekit import (
    EpochBatchSampler,
    PluginError,
    PluginWarning,
    UnknownStrategyError,
    available_strategies,
    get_plugin_manager,
    strategy_info,
)
from samplekit.plugins import isolated_plugin_manager, make_plugin_manager

BUILTINS = {"class_weighted", "negative_subsampling", "stratified"}


class FirstHalf(samplekit.Strategy):
    """The first half of the samples, shuffled."""

    name = "first_half"

    class Options(samplekit.Options):
        share: float = Field(0.5, gt=0, le=1, description="Share of samples kept.")

    def epoch_length(self, epoch):
        return max(1, int(self.labels.numel() * self.options.share))

    def sample(self, ctx):
        n = self.epoch_length(ctx.epoch)
        return torch.randperm(n, generator=ctx.generator)


def plugin_of(*strategies, hook_name="samplekit_register_strategies"):
    def hook(register):
        for strategy in strategies:
            register(strategy)

    module = types.ModuleType("inline_plugin")
    setattr(module, hook_name, samplekit.hookimpl(hook))
    if hook_name != "samplekit_register_strategies":
        module.__dict__[hook_name].__name__ = hook_name
    return module


@pytest.fixture
def pm():
    with isolated_plugin_manager() as manager:
        yield manager


def test_plugin_manager_is_pluggy_and_holds_the_builtins(pm):
    assert get_plugin_manager() is pm
    assert isinstance(pm, pluggy.PluginManager)
    assert set(available_strategies()) == BUILTINS
    assert {strategy_info(name).source for name in BUILTINS} == {"built-in"}


def test_register_in_process_then_unregister(pm):
    plugin = plugin_of(FirstHalf)
    name = pm.register(plugin)
    assert "first_half" in available_strategies()
    assert strategy_info("first_half").source == f"plugin {name}"
    sampler = EpochBatchSampler([0, 1] * 10, "first_half", batch_size=3, share=0.5)
    assert sorted(i for b in sampler for i in b) == list(range(10))
    config = EpochBatchSampler.from_config(sampler.config.model_dump_json(), [0, 1] * 10).config
    assert config == sampler.config
    pm.unregister(plugin)
    assert "first_half" not in available_strategies()
    with pytest.raises(UnknownStrategyError, match="first_half"):
        EpochBatchSampler([0, 1] * 10, "first_half", batch_size=3)


def test_duplicate_name_is_an_error_naming_both_sources(pm):
    class Clash(FirstHalf):
        name = "stratified"

    with pytest.raises(PluginError) as info:
        pm.register(plugin_of(Clash), name="clashing")
    message = str(info.value)
    assert "'stratified'" in message
    assert "built-in" in message
    assert "plugin clashing" in message
    assert not pm.has_plugin("clashing")
    assert strategy_info("stratified").source == "built-in"


def test_a_failed_plugin_registers_none_of_its_strategies(pm):
    class Good(FirstHalf):
        name = "good_one"

    class Clash(FirstHalf):
        name = "class_weighted"

    with pytest.raises(PluginError):
        pm.register(plugin_of(Good, Clash))
    assert "good_one" not in available_strategies()


class NoName(FirstHalf):
    pass


class BadName(FirstHalf):
    name = "not an identifier"


class NotOptions(FirstHalf):
    name = "not_options"
    Options = dict  # type: ignore[assignment]


class Abstract(samplekit.Strategy):
    name = "abstract"


class LooseOptions(FirstHalf):
    name = "loose"

    class Options(samplekit.Options):
        model_config = samplekit.Options.model_config | {"extra": "allow"}


@pytest.mark.parametrize(
    ("strategy", "fragment"),
    [
        (NoName, "must set `name`"),
        (BadName, "'not an identifier'"),
        (NotOptions, "Options"),
        (Abstract, "does not implement: epoch_length, sample"),
        (LooseOptions, "extra='forbid'"),
        (object, "subclass of samplekit.Strategy"),
        ("stratified", "subclass of samplekit.Strategy"),
    ],
)
def test_invalid_strategies_are_refused_at_registration(pm, strategy, fragment):
    with pytest.raises(PluginError, match=fragment):
        pm.register(plugin_of(strategy))
    assert set(available_strategies()) == BUILTINS


def test_a_misspelt_hook_fails_loudly(pm):
    plugin = plugin_of(FirstHalf, hook_name="samplekit_register_strategy")
    with pytest.raises(PluginError, match="samplekit_register_strategy"):
        pm.register(plugin)
    assert not pm.is_registered(plugin)


def test_a_hook_that_raises_is_refused_and_the_rest_keeps_working(pm):
    module = types.ModuleType("raising")

    @samplekit.hookimpl
    def samplekit_register_strategies(register):
        raise RuntimeError("boom")

    module.samplekit_register_strategies = samplekit_register_strategies
    with pytest.raises(PluginError, match="boom"):
        pm.register(module)
    assert set(available_strategies()) == BUILTINS


def test_hook_may_take_a_subset_of_arguments(pm):
    class Plugin:
        @samplekit.hookimpl
        def samplekit_register_strategies(self):
            pass

    assert pm.register(Plugin()) is not None


# --- entry points, discovered for real from *.dist-info folders on sys.path ----------------


def make_distribution(root, dist, version, entry_name, module, code):
    (root / f"{module}.py").write_text(textwrap.dedent(code))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[samplekit]\n{entry_name} = {module}\n")


GOOD = """
    import torch
    import samplekit

    class Everything(samplekit.Strategy):
        '''Every sample, shuffled.'''
        name = "everything_ep"

        def epoch_length(self, epoch):
            return self.labels.numel()

        def sample(self, ctx):
            return torch.randperm(self.labels.numel(), generator=ctx.generator)

    @samplekit.hookimpl
    def samplekit_register_strategies(register):
        register(Everything)
"""

BROKEN_IMPORT = """
    import samplekit_dependency_that_does_not_exist
"""

RAISING_HOOK = """
    import samplekit

    @samplekit.hookimpl
    def samplekit_register_strategies(register):
        raise ValueError("plugin hook exploded")
"""


@pytest.fixture
def installed(tmp_path, monkeypatch):
    make_distribution(tmp_path, "sk-good", "1.2", "good_ep", "sk_good_plugin", GOOD)
    make_distribution(tmp_path, "sk-broken", "0.1", "broken_ep", "sk_broken_plugin", BROKEN_IMPORT)
    make_distribution(
        tmp_path, "sk-raising", "3.0", "raising_ep", "sk_raising_plugin", RAISING_HOOK
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for module in ("sk_good_plugin", "sk_broken_plugin", "sk_raising_plugin"):
        monkeypatch.delitem(__import__("sys").modules, module, raising=False)
    return tmp_path


def load(monkeypatch, setting):
    if setting is None:
        monkeypatch.delenv("SAMPLEKIT_LOAD_PLUGINS", raising=False)
    else:
        monkeypatch.setenv("SAMPLEKIT_LOAD_PLUGINS", setting)
    return make_plugin_manager()


def test_faulty_plugins_warn_and_the_rest_work(installed, monkeypatch):
    with pytest.warns(PluginWarning) as record:
        pm = load(monkeypatch, "sk-good,sk-broken,sk-raising")
    messages = sorted(str(w.message) for w in record)
    assert len(messages) == 2
    assert "sk-broken 0.1" in messages[0]
    assert "samplekit_dependency_that_does_not_exist" in messages[0]
    assert "sk-raising 3.0" in messages[1]
    assert "plugin hook exploded" in messages[1]
    assert set(pm.strategies.names()) == BUILTINS | {"everything_ep"}
    assert pm.strategies.get("everything_ep").source == "sk-good 1.2"
    with pytest.raises(UnknownStrategyError) as info:
        pm.strategies.get("whatever_broken_had")
    assert isinstance(info.value, samplekit.SampleKitError)
    assert "sk-broken" in str(info.value)
    assert "ModuleNotFoundError" in str(info.value)
    assert "sk-raising" in str(info.value)


def test_installed_plugin_is_usable_by_name(installed, monkeypatch):
    monkeypatch.setenv("SAMPLEKIT_LOAD_PLUGINS", "sk-good")
    with isolated_plugin_manager(entrypoints=True):
        assert "everything_ep" in available_strategies()
        sampler = EpochBatchSampler.from_config(
            {"strategy": "everything_ep", "batch_size": 4}, [0, 1, 2] * 3
        )
        assert sorted(i for b in sampler for i in b) == list(range(9))


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("", set()),
        ("sk-good", {"everything_ep"}),
        ("good_ep", {"everything_ep"}),  # by entry-point name
        ("SK_Good", {"everything_ep"}),  # distribution names are normalised
        (" sk-good , nothing-else ", {"everything_ep"}),
    ],
)
def test_load_plugins_setting_selects(installed, monkeypatch, setting, expected):
    pm = load(monkeypatch, setting)
    assert set(pm.strategies.names()) == BUILTINS | expected
    assert pm.failures == {}


def test_unset_setting_loads_every_installed_plugin(installed, monkeypatch):
    with pytest.warns(PluginWarning):
        pm = load(monkeypatch, None)
    assert "everything_ep" in pm.strategies.names()
    assert {"sk-broken", "sk-raising"} <= set(pm.failures)


def test_the_setting_is_read_when_loading_not_at_import(installed, monkeypatch):
    first = load(monkeypatch, "")
    second = load(monkeypatch, "sk-good")
    assert "everything_ep" not in first.strategies.names()
    assert "everything_ep" in second.strategies.names()
