"""Import a heavy dependency on first use, so commands that never use it start fast.

    if TYPE_CHECKING:
        import jinja2
    else:
        jinja2 = lazy_module("jinja2")

PyGithub, boto3, Jinja2 and PyYAML take most of the CLI's start-up time; `analyze`
with the text or JSON format uses none of them.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        try:
            return getattr(self._module, attribute)
        except AttributeError:  # a submodule not imported yet (jinja2.sandbox)
            return importlib.import_module(f"{self._name}.{attribute}")


def lazy_module(name: str) -> Any:
    """A stand-in for module ``name`` that imports it when an attribute is first read."""
    return _LazyModule(name)
