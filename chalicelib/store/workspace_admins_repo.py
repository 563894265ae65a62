"""Every workspace's owners and admins, for the sub-processor change notices (implements
`WorkspaceAdmins`, chalicelib/privacy/notice_ports.py; docs/data-model.md, Sub-processor
notices).

Owner and admin memberships carry the keys of a sparse view, GSI2 `WSADMINS` sorted by
`<since>#<ws>#<user>` (written by the membership writes of store/accounts_repo.py: a new
workspace's owner, an accepted invitation, a role change; an agent's membership has none), so
one Query reads a page of them across every workspace, never a Scan.  Their languages come
from one BatchGetItem of the users and workspaces of the page.  Memberships written before
the view existed are added by the operator's one-off `python -m infra.backfill_admins`."""

from __future__ import annotations

from pynamodb.models import Model

from chalicelib.privacy.notice_links import language
from chalicelib.privacy.notice_ports import NoticeReader, ReaderPage
from chalicelib.store import keys
from chalicelib.store.models import Item, MembershipItem, UserItem, WorkspaceItem


class DynamoWorkspaceAdmins:
    def listed(self, after: str | None, limit: int) -> ReaderPage:
        index = Item.by_status_or_tag
        result = index.query(
            keys.WORKSPACE_ADMINS_VIEW,
            MembershipItem.gsi2sk > after if after else None,
            limit=limit,
            page_size=limit,
        )
        memberships = [item for item in result if isinstance(item, MembershipItem)]
        more = result.last_evaluated_key is not None
        if not memberships:
            return ReaderPage([], more)
        wanted: list[tuple[str, str]] = [
            *{(keys.user_pk(m.user_id), keys.USER_SK) for m in memberships},
            *{(keys.workspace_pk(m.workspace_id), keys.WORKSPACE_SK) for m in memberships},
        ]
        chosen: dict[str, str | None] = {}
        spoken: dict[str, str] = {}
        found: Model
        for found in Item.batch_get(wanted):
            if isinstance(found, UserItem):
                chosen[found.user_id] = found.locale
            elif isinstance(found, WorkspaceItem):
                spoken[found.workspace_id] = found.locale
        readers = [
            NoticeReader(
                email=m.email,
                lang=language(chosen.get(m.user_id) or spoken.get(m.workspace_id)),
                position=str(m.gsi2sk),
                name=m.name,
                member=True,
            )
            for m in memberships
        ]
        return ReaderPage(readers, more)
