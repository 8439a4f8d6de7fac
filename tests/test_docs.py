"""Every example in the package's docstrings runs and prints what it shows."""

import doctest
import importlib
import inspect
import pkgutil

import pytest

import samplekit
from samplekit.plugins import isolated_plugin_manager

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(samplekit.__path__, prefix="samplekit.")
    if not info.name.startswith("samplekit.testing.pytest_plugin")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    with isolated_plugin_manager():
        result = doctest.testmod(
            module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        )
    assert result.failed == 0
    assert result.attempted > 0 or ">>>" not in inspect.getsource(module)
