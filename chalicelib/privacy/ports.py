"""Ports of the privacy capability (adapters in chalicelib/store/)."""

from __future__ import annotations

from typing import Protocol

from chalicelib.privacy.model import PlannedChange


class ChangeAlreadyRecorded(Exception):
    """A planned change with this id exists already."""


class SubprocessorChanges(Protocol):
    """The planned changes to the sub-processor list (platform data, not a workspace's:
    items under one partition, few, read whole).  Access patterns: docs/data-model.md,
    Sub-processors."""

    def all_changes(self) -> list[PlannedChange]:
        """Every recorded change, oldest effective first (one Query)."""

    def get_change(self, change_id: str) -> PlannedChange | None: ...

    def record_change(self, change: PlannedChange) -> None:
        """Raises ChangeAlreadyRecorded for an id recorded before."""
