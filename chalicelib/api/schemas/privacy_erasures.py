"""Data-subject erasures: asking for one (a person by e-mail address), following it, and
the workspace's log of them (the audit record: who asked, when, what was removed, how many;
never what)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from chalicelib.api.schemas.common import EmailStr, Incoming, Outgoing

if TYPE_CHECKING:
    from chalicelib.privacy.erasure import Erasure


class ErasureIn(Incoming):
    email: EmailStr = Field(
        description="The person whose data to erase, by e-mail address (case does not "
        "matter). They need not be a contact: an address only seen in CC, in bookings or "
        "in mail is erased too."
    )


class ErasureOut(Outgoing):
    id: str = Field(description="The erasure's id.")
    status: Literal["pending", "running", "done", "failed"] = Field(
        description="`pending`: queued; `running`; `done`: every class of data was gone "
        "through; `failed`: it stopped after repeated errors (asking again for the same "
        "address resumes it where it stopped)."
    )
    phase: str = Field(
        description="The class of data being erased: `tickets`, `mentions`, `bookings`, "
        "`mail`, `exports`, `queues`, `contact`; `done` at the end."
    )
    phases_done: list[str] = Field(description="The classes of data already gone through.")
    counts: dict[str, int] = Field(
        description="How many of each class were removed or anonymised so far: `tickets`, "
        "`messages`, `attachments`, `raw_mail`, `ai_results`, `search_postings`, "
        "`chat_records`, `notifications`, `mentions`, `bookings`, `reminders`, "
        "`outbound_mail`, `held_mail`, `exports`, `queue_messages`, `contact`."
    )
    subject_email: str | None = Field(
        description="The address being erased, while the erasure runs; null once it is "
        "done (the record then holds the counts alone)."
    )
    requested_by: str = Field(description="Who asked (`user:<id>` or `api_key:<id>`).")
    requested_at: datetime = Field(description="When it was asked for.")
    finished_at: datetime | None = Field(description="When it was done.")
    failure: str | None = Field(description="Why it stopped (status `failed`).")

    @classmethod
    def of(cls, erasure: Erasure) -> ErasureOut:
        return cls(
            id=erasure.id,
            status=erasure.status.value,
            phase=erasure.phase,
            phases_done=list(erasure.phases_done),
            counts=dict(erasure.counts),
            subject_email=erasure.subject_email,
            requested_by=erasure.requested_by,
            requested_at=erasure.requested_at,
            finished_at=erasure.finished_at,
            failure=erasure.failure,
        )


class ErasuresOut(Outgoing):
    erasures: list[ErasureOut] = Field(
        description="The workspace's erasures, newest first (the latest 100)."
    )
