"""Package attributes imported on first use (PEP 562), so importing a package stays cheap.

Examples:
    >>> getattr_, dir_ = attach("samplekit", {"hookimpl": "samplekit.hookspecs"})
    >>> getattr_("hookimpl").project_name
    'samplekit'
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["attach"]


def attach(
    package: str, names: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A ``__getattr__`` and ``__dir__`` for ``package`` that import ``names[attr]`` on first use.

    Args:
        package: the package's ``__name__``.
        names: public attribute -> the module it is imported from.
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            msg = f"module {package!r} has no attribute {name!r}"
            raise AttributeError(msg)
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # later look-ups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
