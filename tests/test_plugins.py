"""Plugin loading: in-process registration, entry points, faults that must not pass silently."""

import importlib.metadata
import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest
import torch
from pydantic import Field

import samplekit
from samplekit import (
    EpochBatchSampler,
    EpochContext,
    PluginError,
    PluginWarning,
    UnknownStrategyError,
    available_strategies,
    get_plugin_manager,
    strategy_info,
)
from samplekit.hookspecs import Register
from samplekit.plugins import PluginManager, isolated_plugin_manager, make_plugin_manager

BUILTINS = {
    "class_weighted",
    "hard_negatives",
    "importance",
    "infobatch",
    "negative_subsampling",
    "shuffle",
    "stratified",
}


class FirstHalf(samplekit.Strategy):
    """The first half of the samples, shuffled."""

    name = "first_half"

    class Options(samplekit.Options):
        share: float = Field(0.5, gt=0, le=1, description="Share of samples kept.")

    def epoch_length(self, epoch: int) -> int:
        return max(1, int(self.labels.numel() * self.options.share))

    def sample(self, ctx: EpochContext) -> torch.Tensor:
        n = self.epoch_length(ctx.epoch)
        return torch.randperm(n, generator=ctx.generator)


def plugin_of(
    *strategies: Any, hook_name: str = "samplekit_register_strategies"
) -> types.ModuleType:
    def hook(register: Register) -> None:
        for strategy in strategies:
            register(strategy)

    module = types.ModuleType("inline_plugin")
    setattr(module, hook_name, samplekit.hookimpl(hook))
    if hook_name != "samplekit_register_strategies":
        module.__dict__[hook_name].__name__ = hook_name
    return module


@pytest.fixture
def pm() -> Iterator[PluginManager]:
    with isolated_plugin_manager() as manager:
        yield manager


def test_plugin_manager_is_pluggy_and_holds_the_builtins(pm: PluginManager) -> None:
    assert get_plugin_manager() is pm
    assert isinstance(pm, pluggy.PluginManager)
    assert set(available_strategies()) == BUILTINS
    assert {strategy_info(name).source for name in BUILTINS} == {"built-in"}


def test_register_in_process_then_unregister(pm: PluginManager) -> None:
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


def test_duplicate_name_is_an_error_naming_both_sources(pm: PluginManager) -> None:
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


def test_a_failed_plugin_registers_none_of_its_strategies(pm: PluginManager) -> None:
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
def test_invalid_strategies_are_refused_at_registration(
    pm: PluginManager, strategy: Any, fragment: str
) -> None:
    with pytest.raises(PluginError, match=fragment):
        pm.register(plugin_of(strategy))
    assert set(available_strategies()) == BUILTINS


def test_a_misspelt_hook_fails_loudly(pm: PluginManager) -> None:
    plugin = plugin_of(FirstHalf, hook_name="samplekit_register_strategy")
    with pytest.raises(PluginError, match="samplekit_register_strategy"):
        pm.register(plugin)
    assert not pm.is_registered(plugin)


def test_a_hook_that_raises_is_refused_and_the_rest_keeps_working(pm: PluginManager) -> None:
    module = types.ModuleType("raising")

    @samplekit.hookimpl
    def samplekit_register_strategies(register: Register) -> None:
        raise RuntimeError("boom")

    module.__dict__["samplekit_register_strategies"] = samplekit_register_strategies
    with pytest.raises(PluginError, match="boom"):
        pm.register(module)
    assert set(available_strategies()) == BUILTINS


def test_hook_may_take_a_subset_of_arguments(pm: PluginManager) -> None:
    class Plugin:
        @samplekit.hookimpl
        def samplekit_register_strategies(self) -> None:
            pass

    assert pm.register(Plugin()) is not None


# --- entry points, discovered for real from *.dist-info folders on sys.path ----------------


def make_distribution(
    root: Path, dist: str, version: str, entry_name: str, module: str, code: str
) -> None:
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


EXITING_IMPORT = """
    import sys

    sys.exit(3)
"""

EXITING_HOOK = """
    import samplekit

    @samplekit.hookimpl
    def samplekit_register_strategies(register):
        raise SystemExit("hook called sys.exit")
"""

GENERATOR_EXIT_IMPORT = """
    raise GeneratorExit()
"""

INTERRUPTED_IMPORT = """
    raise KeyboardInterrupt
"""

MODULES = (
    "sk_good_plugin",
    "sk_broken_plugin",
    "sk_raising_plugin",
    "sk_exiting_plugin",
    "sk_exiting_hook_plugin",
    "sk_genexit_plugin",
    "sk_interrupted_plugin",
)


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_distribution(tmp_path, "sk-good", "1.2", "good_ep", "sk_good_plugin", GOOD)
    make_distribution(tmp_path, "sk-broken", "0.1", "broken_ep", "sk_broken_plugin", BROKEN_IMPORT)
    make_distribution(
        tmp_path, "sk-raising", "3.0", "raising_ep", "sk_raising_plugin", RAISING_HOOK
    )
    make_distribution(
        tmp_path, "sk-exiting", "0.2", "exiting_ep", "sk_exiting_plugin", EXITING_IMPORT
    )
    make_distribution(
        tmp_path, "sk-exiting-hook", "0.3", "exiting_hook_ep", "sk_exiting_hook_plugin",
        EXITING_HOOK,
    )  # fmt: skip
    make_distribution(
        tmp_path, "sk-genexit", "0.4", "genexit_ep", "sk_genexit_plugin", GENERATOR_EXIT_IMPORT
    )
    make_distribution(
        tmp_path, "sk-interrupted", "0.5", "interrupted_ep", "sk_interrupted_plugin",
        INTERRUPTED_IMPORT,
    )  # fmt: skip
    monkeypatch.syspath_prepend(str(tmp_path))
    for module in MODULES:
        monkeypatch.delitem(__import__("sys").modules, module, raising=False)
    return tmp_path


def load(monkeypatch: pytest.MonkeyPatch, setting: str | None) -> PluginManager:
    if setting is None:
        monkeypatch.delenv("SAMPLEKIT_LOAD_PLUGINS", raising=False)
    else:
        monkeypatch.setenv("SAMPLEKIT_LOAD_PLUGINS", setting)
    return make_plugin_manager()


def test_faulty_plugins_warn_and_the_rest_work(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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


def test_installed_plugin_is_usable_by_name(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
        (" sk-good , , sk_GOOD ", {"everything_ep"}),
    ],
)
def test_load_plugins_setting_selects(
    installed: Path, monkeypatch: pytest.MonkeyPatch, setting: str, expected: set[str]
) -> None:
    pm = load(monkeypatch, setting)
    assert set(pm.strategies.names()) == BUILTINS | expected
    assert pm.failures == {}


def test_unset_setting_loads_every_installed_plugin(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "importlib.metadata.entry_points",
        without(importlib.metadata.entry_points, "interrupted_ep"),
    )
    with pytest.warns(PluginWarning):
        pm = load(monkeypatch, None)
    assert "everything_ep" in pm.strategies.names()
    assert {"sk-broken", "sk-raising", "sk-exiting", "sk-exiting-hook", "sk-genexit"} <= set(
        pm.failures
    )
    assert pm.load_plugins is None
    with pytest.raises(UnknownStrategyError) as info:
        pm.strategies.get("nothing_has_this")
    assert "SAMPLEKIT_LOAD_PLUGINS" not in str(info.value)


def without(entry_points: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``importlib.metadata.entry_points`` minus the entry point called ``name``."""

    def filtered(**params: Any) -> list[Any]:
        return [ep for ep in entry_points(**params) if ep.name != name]

    return filtered


def test_the_setting_is_read_when_loading_not_at_import(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load(monkeypatch, "")
    second = load(monkeypatch, "sk-good")
    assert "everything_ep" not in first.strategies.names()
    assert "everything_ep" in second.strategies.names()


# --- plugins that raise BaseException: SystemExit, GeneratorExit --------------------------------


@pytest.mark.parametrize(
    ("dist", "fragment"),
    [
        ("sk-exiting", "SystemExit: 3"),
        ("sk-exiting-hook", "SystemExit: hook called sys.exit"),
        ("sk-genexit", "GeneratorExit"),
    ],
)
def test_a_plugin_raising_system_exit_is_isolated(
    installed: Path, monkeypatch: pytest.MonkeyPatch, dist: str, fragment: str
) -> None:
    with pytest.warns(PluginWarning) as record:
        pm = load(monkeypatch, f"sk-good,{dist}")
    (warning,) = record
    message = str(warning.message)
    assert dist in message
    assert fragment in message
    assert fragment in pm.failures[dist]
    assert set(pm.strategies.names()) == BUILTINS | {"everything_ep"}
    assert not pm.has_plugin(dist.replace("sk-", "").replace("-", "_") + "_ep")
    with pytest.raises(UnknownStrategyError, match=fragment):
        pm.strategies.get("from_the_exiting_plugin")


def test_available_strategies_survives_a_plugin_calling_sys_exit(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAMPLEKIT_LOAD_PLUGINS", "sk-exiting,sk-good")
    warns = pytest.warns(PluginWarning, match="sk-exiting")
    with warns, isolated_plugin_manager(entrypoints=True):
        assert set(available_strategies()) == BUILTINS | {"everything_ep"}


def test_a_hook_raising_system_exit_in_process_is_a_plugin_error(pm: PluginManager) -> None:
    module = types.ModuleType("exiting")

    @samplekit.hookimpl
    def samplekit_register_strategies(register: Register) -> None:
        raise SystemExit(4)

    module.__dict__["samplekit_register_strategies"] = samplekit_register_strategies
    with pytest.raises(PluginError, match="SystemExit: 4"):
        pm.register(module)
    assert not pm.is_registered(module)
    assert set(available_strategies()) == BUILTINS


def test_keyboard_interrupt_from_a_plugin_still_interrupts(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(KeyboardInterrupt):
        load(monkeypatch, "sk-interrupted")


@pytest.mark.slow
def test_cli_strategies_survives_a_plugin_calling_sys_exit(installed: Path) -> None:
    script = Path(sys.executable).parent / ("samplekit.exe" if os.name == "nt" else "samplekit")
    path = os.pathsep.join([str(installed), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path, "SAMPLEKIT_LOAD_PLUGINS": "sk-exiting,sk-good"}
    result = subprocess.run(
        [str(script), "strategies"], capture_output=True, text=True, env=env, check=False,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "everything_ep" in result.stdout
    assert "stratified" in result.stdout
    assert "PluginWarning" in result.stderr
    assert "sk-exiting 0.2" in result.stderr
    assert "SystemExit: 3" in result.stderr


# --- SAMPLEKIT_LOAD_PLUGINS naming plugins that are not installed -------------------------------


@pytest.mark.parametrize("setting", ["fuzz_goood", "*", "a;b", "sk-good;sk-raising"])
def test_a_setting_naming_no_installed_plugin_warns_once(
    installed: Path, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    with pytest.warns(PluginWarning) as record:
        pm = load(monkeypatch, setting)
    (warning,) = record
    message = str(warning.message)
    assert "SAMPLEKIT_LOAD_PLUGINS" in message
    assert repr(setting) in message
    assert "not" in message or "no installed plugin" in message
    for installed_dist in ("sk-good", "sk-broken", "sk-raising", "m_per_class"):
        assert installed_dist in message or installed_dist.replace("_", "-") in message
    assert "comma-separated" in message
    assert set(pm.strategies.names()) == BUILTINS
    assert pm.failures == {}


def test_the_unknown_name_warning_suggests_the_closest_plugin(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.warns(PluginWarning) as record:
        pm = load(monkeypatch, "sk-good,sk-goood")
    (warning,) = record
    message = str(warning.message)
    assert "'sk-goood'" in message
    assert "did you mean 'sk-good'" in message
    assert "everything_ep" in pm.strategies.names()  # the known name still loads


def test_unknown_strategy_error_names_the_setting(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pm = load(monkeypatch, "sk-good")
    with pytest.raises(UnknownStrategyError) as info:
        pm.strategies.get("m_per_class_missing")
    message = str(info.value)
    assert "SAMPLEKIT_LOAD_PLUGINS='sk-good'" in message
    assert "restricted" in message
    assert "sk-broken" in message  # installed, left out by the setting
    assert "unset it" in message


def test_unknown_strategy_error_names_an_empty_setting(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pm = load(monkeypatch, "")
    with pytest.raises(UnknownStrategyError, match="SAMPLEKIT_LOAD_PLUGINS=''"):
        pm.strategies.get("everything_ep")
