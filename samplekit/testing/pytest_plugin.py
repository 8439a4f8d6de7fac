"""pytest plugin of samplekit (registered through the ``pytest11`` entry point).

It adds:

- the ``samplekit_plugin_manager`` fixture: a plugin manager holding only the built-in
  strategies for the duration of one test, so installed plugins cannot affect it; strategies
  registered on it are usable by name inside the test and vanish after it;
- the hypothesis profile ``samplekit-ci`` (``derandomize=True, deadline=None,
  print_blob=True``, no ``too_slow`` health check), selected with hypothesis' own option
  ``--hypothesis-profile=samplekit-ci``. It is never loaded by default.

Importing this module imports neither samplekit's strategies, torch nor hypothesis: pytest loads
it in every run of every project where samplekit is installed, with or without hypothesis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from samplekit.plugins import PluginManager

__all__ = ["CI_PROFILE", "register_profiles", "samplekit_plugin_manager"]

CI_PROFILE = "samplekit-ci"


def register_profiles() -> None:
    """Register the ``samplekit-ci`` hypothesis profile (needs hypothesis installed).

    Call it from a ``conftest.py`` to load the profile yourself, e.g. from an environment
    variable: ``register_profiles(); settings.load_profile("samplekit-ci")``.
    """
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        CI_PROFILE,
        derandomize=True,
        deadline=None,
        print_blob=True,
        # CI machines are shared and noisy: a timing health check would fail at random there.
        suppress_health_check=[HealthCheck.too_slow],
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register ``samplekit-ci`` before hypothesis' plugin loads the requested profile."""
    # The option exists only when hypothesis' pytest plugin is active.
    if config.getoption("hypothesis_profile", None) != CI_PROFILE:
        return
    try:
        register_profiles()
    except ImportError:  # pragma: no cover - hypothesis' option implies hypothesis is installed
        return


@pytest.fixture
def samplekit_plugin_manager() -> Iterator[PluginManager]:
    """A plugin manager with only the built-ins, used by samplekit for this test.

    Register plugins on it (``samplekit_plugin_manager.register(MyPlugin())``) to pick their
    strategies by name in the test; the previous manager is restored afterwards.
    """
    from samplekit.plugins import isolated_plugin_manager

    with isolated_plugin_manager() as pm:
        yield pm
