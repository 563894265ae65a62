"""The ports and policy values booking works with (built in bootstrap.py: `booking_deps`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from chalicelib.accounts.model import Member, User, Workspace
from chalicelib.booking.job_outbox import JobOutbox
from chalicelib.booking.ports import BookingJob, BookingJobs, BusyTimes
from chalicelib.booking.store_port import BookingStore
from chalicelib.clock import Clock
from chalicelib.kb.helpcentre_contact import ContactAttempts, HumanCheck


class BookingAccounts(Protocol):
    """What booking reads of accounts: workspaces (by slug for the public pages) and
    members (hosts)."""

    def get_workspace(self, workspace_id: str) -> Workspace | None: ...

    def find_workspace_by_slug(self, slug: str) -> Workspace | None: ...

    def get_member(self, workspace_id: str, user_id: str) -> Member | None: ...

    def get_user(self, user_id: str) -> User | None: ...


@dataclass(frozen=True)
class BookingSite:
    """How a workspace's public booking pages look and where they live: its help centre's
    verified custom domain (None: the API's public address) and logo."""

    custom_domain: str | None = None
    logo_url: str | None = None


@dataclass(frozen=True)
class BookingPolicy:
    public_base_url: str  # the API's public address: /book/... pages and avatars
    token_secret: str  # the deployment's reply-address secret: manage links derive from it
    bookings_per_ip_hour: int = 10  # public bookings from one address per workspace and hour
    max_window_days: int = 42  # longest slots window one request may ask for
    max_attempts: int = 10  # booking transactions tried before giving up on a busy host-day
    turnstile_site_key: str = ""  # shown to the booking page when a human check is on


class ListedJobs:
    """Booking jobs kept in memory (tests read `jobs`); the deployment's queue is
    `booking_jobs_queue()` in bootstrap."""

    def __init__(self) -> None:
        self.jobs: list[BookingJob] = []

    def enqueue(self, job: BookingJob) -> None:
        self.jobs.append(job)


@dataclass(frozen=True)
class BookingDeps:
    store: BookingStore
    busy: BusyTimes
    jobs: BookingJobs
    clock: Clock
    policy: BookingPolicy
    accounts: BookingAccounts
    attempts: ContactAttempts  # public bookings per address and hour (the contact counter)
    human_check: HumanCheck | None
    # The workspace's help-centre domain (when verified: manage links go there) and logo.
    site: Callable[[str], BookingSite] = field(default=lambda workspace_id: BookingSite())
    sleep: Callable[[float], None] = time.sleep
    # Each change's job is also written with the change (a due item) and queued again if
    # its queueing is lost (chalicelib/booking/job_outbox.py); None: queued only.
    outbox: JobOutbox | None = None
