"""Privacy in the workspace: the sub-processor changes in their notice period (with the
caller's dismissals and the workspace's objection), objections and their termination."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field

from chalicelib.api.schemas.billing import MoneyOut
from chalicelib.api.schemas.common import Incoming, Outgoing
from chalicelib.api.schemas.privacy_public import SubprocessorChangeOut

if TYPE_CHECKING:
    from chalicelib.privacy.objections import ChangeNotice, Objection

CHANGE_ID = r"^[0-9A-Za-z_-]{1,64}$"
REASON_MAX_CHARS = 2000
# Control characters other than tab and line breaks have no place in a written reason.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _written(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("contains control characters")
    if not value.strip():
        raise ValueError("is blank")
    return value


Reason = Annotated[str, Field(min_length=1, max_length=REASON_MAX_CHARS), AfterValidator(_written)]


class ObjectionIn(Incoming):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "change_id": "01KQ7Z4M2V8X3N6P9R5T1W0YAB",
                    "reason": "Our customers' contracts allow only the hosting providers "
                    "they approved.",
                }
            ]
        }
    )

    change_id: str = Field(
        pattern=CHANGE_ID, description="The planned change objected to (its id)."
    )
    reason: Reason = Field(
        description=f"Why, on data-protection grounds (1 to {REASON_MAX_CHARS} characters)."
    )


class ObjectionRefundOut(Outgoing):
    amount: MoneyOut = Field(description="What was refunded.")
    processor: Literal["stripe", "paypal", "tappay"] = Field(
        description="Through whom it went back to the payer."
    )


class ObjectionOut(Outgoing):
    id: str = Field(description="The objection's id.")
    change_id: str = Field(description="The planned change objected to.")
    reason: str = Field(description="Why, as the owner wrote it.")
    by: str = Field(description="Who objected (`user:<id>`).")
    at: datetime = Field(description="When.")
    status: Literal["objected", "terminated", "no_subscription"] = Field(
        description="`objected`: recorded, the termination not confirmed; `terminated`: the "
        "subscription ended (see `refund`); `no_subscription`: confirmed while the workspace "
        "had no paid subscription to end."
    )
    confirmed_by: str | None = Field(description="Who confirmed the termination.")
    confirmed_at: datetime | None = Field(description="When the termination was confirmed.")
    refund: ObjectionRefundOut | None = Field(
        description="The prepaid fees refunded for the unused part of the term (null: none, "
        "or not terminated)."
    )

    @classmethod
    def of(cls, objection: Objection) -> ObjectionOut:
        refund = (
            ObjectionRefundOut(
                amount=MoneyOut.of(objection.refund),
                processor=objection.refunded_through.value,
            )
            if objection.refund is not None and objection.refunded_through is not None
            else None
        )
        return cls(
            id=objection.id,
            change_id=objection.change_id,
            reason=objection.reason,
            by=objection.by,
            at=objection.at,
            status=objection.status.value,
            confirmed_by=objection.confirmed_by,
            confirmed_at=objection.confirmed_at,
            refund=refund,
        )


class ObjectionsOut(Outgoing):
    objections: list[ObjectionOut] = Field(description="The workspace's objections, newest first.")


class ChangeNoticeOut(Outgoing):
    change: SubprocessorChangeOut = Field(description="The planned change.")
    dismissed: bool = Field(description="Whether the caller dismissed its in-product notice.")
    objection: ObjectionOut | None = Field(
        description="The workspace's objection to it (null: none)."
    )

    @classmethod
    def of(cls, notice: ChangeNotice) -> ChangeNoticeOut:
        change = notice.change
        return cls(
            change=SubprocessorChangeOut.model_validate(
                {
                    "id": change.id,
                    "kind": change.kind.value,
                    "announced_at": change.announced_at,
                    "effective_at": change.effective_at,
                    "summary": {"en": change.summary.en, "fr": change.summary.fr},
                    "subprocessor": _provider(notice),
                    "replaces": [{"id": i, "name": n} for i, n in notice.leaving],
                    "processes_workspace_content": change.processes_workspace_content,
                }
            ),
            dismissed=notice.dismissed,
            objection=ObjectionOut.of(notice.objection) if notice.objection else None,
        )


def _provider(notice: ChangeNotice) -> dict[str, object] | None:
    provider = notice.change.subprocessor
    if provider is None:
        return None
    return {
        "id": provider.id,
        "name": provider.name,
        "legal_entity": provider.legal_entity,
        "location": {"en": provider.location.en, "fr": provider.location.fr},
        "purpose": {"en": provider.purpose.en, "fr": provider.purpose.fr},
        "category": provider.category.value,
        "processes_workspace_content": provider.processes_workspace_content,
    }


class ChangeNoticesOut(Outgoing):
    changes: list[ChangeNoticeOut] = Field(
        description="The changes in their notice period (announced, not yet in force), "
        "soonest first."
    )
    notice_days: int = Field(
        description="How many days ahead a change that processes Workspace content is announced."
    )
    page_url: str = Field(description="The public sub-processor list.")
    changelog_url: str = Field(description="The public changelog of the list.")
