"""Deferred imports, so that importing `app` stays cheap (cold start).

A Lambda function built from this app only pays for what its own requests use: the mail
worker never loads pydantic, the API never loads the batch utilities."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any


class _Deferred(ModuleType):
    """Stands for a module until an attribute is first read, then imports it through the
    ordinary import system, whose per-module locks make concurrent first uses safe
    (importlib's LazyLoader is not thread-safe before Python 3.12: a second thread could
    see the module half executed)."""

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attribute)


def lazy_module(name: str) -> ModuleType:
    """`name`, imported on first attribute access."""
    if name in sys.modules:
        return sys.modules[name]
    if importlib.util.find_spec(name) is None:
        raise ImportError(f"no module named {name!r}")
    return _Deferred(name)
