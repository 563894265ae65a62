"""What used to be `assert`s (gone under python -O) are real errors with clear answers."""

from __future__ import annotations

import pytest

from chalicelib.accounts.workspaces import existing_workspace
from chalicelib.api.routing import Call
from chalicelib.errors import NotFound, Unauthenticated


class NoWorkspaces:
    def get_workspace(self, workspace_id: str):
        return None


def test_a_workspace_deleted_meanwhile_is_a_404_not_a_crash():
    with pytest.raises(NotFound) as missing:
        existing_workspace(NoWorkspaces(), "01WORKSPACE")

    assert missing.value.code == "workspace_not_found"


def test_an_operation_without_a_principal_asking_for_the_member_is_a_401():
    call = Call(request=None, params={})  # type: ignore[arg-type]

    with pytest.raises(Unauthenticated):
        call.member  # noqa: B018
