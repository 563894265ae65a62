"""HTTPS for a help centre's own domain: a custom hostname in the Cloudflare for SaaS zone.

The customer creates two DNS records: a CNAME from their domain to the deployment's target
(`help_centre_cname_target`) and the TXT record that proves the domain is theirs
(chalicelib/kb/domains.py).  Once the TXT record is found, verifying the domain writes, in
the same transaction as the domain claim, a record of the custom hostname to create; the
hostname is then created at Cloudflare, which validates the domain over HTTP through the
CNAME and issues the certificate.

The hostname is created on verification, not when the domain is set: only the workspace
that holds the domain claim can create, see or delete the hostname of that domain.

One record per domain (keyed by the domain, owned by one workspace), written only under
its revision.  A record that needs work (to create, to check, to delete) carries a due time
and is found by the scheduled job without a Scan (docs/data-model.md, "Custom hostnames").
Cloudflare failures never fail a request: they are recorded, shown, and retried."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from chalicelib.errors import ProviderRejected, ProviderUnavailable

LEASE = timedelta(minutes=5)  # how long the job holds a record it is working on
MAX_BACKOFF = timedelta(hours=1)
MAX_PROBLEM_CHARS = 500


class HostnameState(StrEnum):
    CREATING = "creating"  # to be created at Cloudflare (or found there, after a lost answer)
    PENDING = "pending"  # created; the hostname or its certificate is not active yet
    ACTIVE = "active"  # served over HTTPS
    FAILED = "failed"  # Cloudflare refused it: the customer has to change something
    RELEASING = "releasing"  # the domain left the help centre: to be deleted at Cloudflare


class RecordPurpose(StrEnum):
    ROUTING = "routing"
    DOMAIN_OWNERSHIP = "domain_ownership"
    CLOUDFLARE_OWNERSHIP = "cloudflare_ownership"
    CERTIFICATE_VALIDATION = "certificate_validation"


@dataclass(frozen=True)
class DnsRecord:
    purpose: RecordPurpose
    name: str
    type: str
    value: str


@dataclass(frozen=True)
class ProviderHostname:
    """A custom hostname as Cloudflare describes it."""

    id: str
    hostname: str
    status: str  # pending, active, moved, blocked, deleted, ...
    certificate_status: str | None  # initializing, pending_validation, ..., active
    records: tuple[DnsRecord, ...] = ()
    problems: tuple[str, ...] = ()  # verification and certificate validation errors


@dataclass(frozen=True)
class CustomHostname:
    """Our record of a domain's custom hostname."""

    workspace_id: str
    domain: str
    state: HostnameState
    created_at: datetime
    hostname_id: str | None = None
    hostname_status: str | None = None
    certificate_status: str | None = None
    records: tuple[DnsRecord, ...] = ()
    problem: str | None = None
    failures: int = 0  # Cloudflare failures in a row (timeouts, 5xx): retrying while > 0
    checked_at: datetime | None = None  # when Cloudflare was last asked
    next_check_at: datetime | None = None  # due for the job; None: nothing to do
    revision: int = 0


@dataclass(frozen=True)
class HostnameWrite:
    """A change of a record, written with the help-centre settings in one transaction."""

    before: CustomHostname | None
    after: CustomHostname


class HostnameAlreadyExists(ProviderRejected):
    """Cloudflare already has a custom hostname of that name in the zone."""


class StaleHostname(Exception):
    """The record changed (or went) since it was read."""


class CustomHostnameProvider(Protocol):
    """Custom hostnames of the SaaS zone (chalicelib/providers/cloudflare.py).  Every method
    makes one HTTP call; ProviderUnavailable is worth retrying, ProviderRejected is not."""

    def create(self, hostname: str) -> ProviderHostname:
        """Raises HostnameAlreadyExists when the zone has it already."""

    def get(self, hostname_id: str) -> ProviderHostname | None:
        """None when Cloudflare does not know the id."""

    def find(self, hostname: str) -> ProviderHostname | None: ...

    def revalidate(self, hostname_id: str) -> ProviderHostname | None:
        """Asks Cloudflare to validate the certificate again; None when the id is unknown."""

    def delete(self, hostname_id: str) -> None:
        """An id Cloudflare does not know counts as deleted."""


class CustomHostnameStore(Protocol):
    def get_hostname(self, workspace_id: str, domain: str) -> CustomHostname | None:
        """The record of `domain` if this workspace owns it (consistent read)."""

    def save_hostname(self, before: CustomHostname, after: CustomHostname) -> None:
        """Writes `after` if the record is still at `before.revision`; raises StaleHostname."""

    def delete_hostname(self, before: CustomHostname) -> None:
        """Deletes the record if still at `before.revision`; raises StaleHostname."""

    def due_hostnames(self, now: datetime, limit: int) -> list[CustomHostname]:
        """Up to `limit` records due at `now`, the longest overdue first (one Query)."""


@dataclass(frozen=True)
class HostnamePolicy:
    cname_target: str  # what the customer's domain is CNAMEd to; empty: not shown
    refresh_seconds: int = 60  # a settings read asks Cloudflare at most this often
    batch_size: int = 25  # records the job takes per run


@dataclass(frozen=True)
class HostnameDeps:
    store: CustomHostnameStore
    provider: CustomHostnameProvider | None  # None: this deployment has no Cloudflare
    policy: HostnamePolicy


# -- the record's transitions (pure) ------------------------------------------------------------


def _next(record: CustomHostname, **changes: object) -> CustomHostname:
    return replace(record, revision=record.revision + 1, **changes)  # type: ignore[arg-type]


def _poll_interval(record: CustomHostname, now: datetime) -> timedelta:
    """Checks slow down as a hostname stays pending (DNS may take days to be fixed)."""
    age = now - record.created_at
    if age < timedelta(hours=1):
        return timedelta(minutes=1)
    if age < timedelta(days=1):
        return timedelta(minutes=10)
    return timedelta(hours=1)


def backoff(failures: int) -> timedelta:
    """1, 2, 4, ... minutes after each failure in a row, at most an hour."""
    return min(timedelta(minutes=2 ** max(failures - 1, 0)), MAX_BACKOFF)


def _short(text: str) -> str:
    return text[:MAX_PROBLEM_CHARS]


def requested(workspace_id: str, domain: str, now: datetime) -> CustomHostname:
    """A new record: the hostname is to be created now."""
    return CustomHostname(
        workspace_id=workspace_id,
        domain=domain,
        state=HostnameState.CREATING,
        created_at=now,
        next_check_at=now,
    )


def _retry_later(record: CustomHostname, now: datetime, problem: str) -> CustomHostname:
    failures = record.failures + 1
    return _next(
        record,
        failures=failures,
        problem=_short(problem),
        checked_at=now,
        next_check_at=now + backoff(failures),
    )


def _refused(record: CustomHostname, now: datetime, problem: str) -> CustomHostname:
    return _next(
        record,
        state=HostnameState.FAILED,
        failures=0,
        problem=_short(problem),
        checked_at=now,
        next_check_at=None,
    )


GONE_STATUSES = ("deleted", "pending_deletion")
REFUSED_STATUSES = ("blocked", "pending_blocked", "test_blocked", "test_failed")


def _observed(record: CustomHostname, found: ProviderHostname, now: datetime) -> CustomHostname:
    """The record after Cloudflare described the hostname."""
    if found.status in GONE_STATUSES:  # deleted behind our back: create it again
        return _next(
            record,
            state=HostnameState.CREATING,
            hostname_id=None,
            hostname_status=found.status,
            certificate_status=found.certificate_status,
            failures=0,
            problem=None,
            checked_at=now,
            next_check_at=now,
        )
    active = found.status == "active" and found.certificate_status == "active"
    if active:
        state, due = HostnameState.ACTIVE, None
    elif found.status in REFUSED_STATUSES:
        state, due = HostnameState.FAILED, None
    else:
        state, due = HostnameState.PENDING, now + _poll_interval(record, now)
    return _next(
        record,
        state=state,
        hostname_id=found.id,
        hostname_status=found.status,
        certificate_status=found.certificate_status,
        records=found.records,
        failures=0,
        problem=_short("; ".join(found.problems)) if found.problems else None,
        checked_at=now,
        next_check_at=due,
    )


def timed_out(certificate_status: str | None) -> bool:
    return bool(certificate_status and certificate_status.endswith("_timed_out"))


# -- writes that go with the settings (one transaction) -----------------------------------------


def on_verification(
    deps: HostnameDeps, workspace_id: str, domain: str, now: datetime
) -> HostnameWrite | None:
    """What verifying `domain` writes with its claim: a request for the hostname, unless
    there is no Cloudflare here or the workspace's record of it is already in hand."""
    if deps.provider is None:
        return None
    existing = deps.store.get_hostname(workspace_id, domain)
    if existing is None:
        return HostnameWrite(None, requested(workspace_id, domain, now))
    if existing.state is HostnameState.RELEASING or (
        existing.state is HostnameState.FAILED and existing.hostname_id is None
    ):
        # Taken back before its deletion, or refused at creation: ask again (the old id, if
        # any, is looked up first).
        again = _next(
            existing,
            state=HostnameState.CREATING,
            failures=0,
            problem=None,
            next_check_at=now,
        )
        return HostnameWrite(existing, again)
    return None


def on_domain_left(
    deps: HostnameDeps, workspace_id: str, domain: str, now: datetime
) -> HostnameWrite | None:
    """What saving settings without `domain` (changed or removed) writes: its hostname is
    to be deleted at Cloudflare."""
    existing = deps.store.get_hostname(workspace_id, domain)
    if existing is None or existing.state is HostnameState.RELEASING:
        return None
    releasing = _next(
        existing, state=HostnameState.RELEASING, failures=0, problem=None, next_check_at=now
    )
    return HostnameWrite(existing, releasing)


# -- work with Cloudflare (never raises the provider's failures) --------------------------------


def _save(deps: HostnameDeps, before: CustomHostname, after: CustomHostname) -> CustomHostname:
    try:
        deps.store.save_hostname(before, after)
    except StaleHostname:
        # Someone else moved the record on (a settings change, another run): theirs stands.
        return deps.store.get_hostname(before.workspace_id, before.domain) or before
    return after


def _provision(
    deps: HostnameDeps, provider: CustomHostnameProvider, record: CustomHostname, now: datetime
) -> CustomHostname:
    """Creates the hostname, or adopts the one a lost answer left there (at most 3 calls)."""
    try:
        found = _existing(provider, record)
        if found is None:
            try:
                found = provider.create(record.domain)
            except HostnameAlreadyExists as e:
                found = provider.find(record.domain)
                if found is None:
                    raise ProviderUnavailable("Cloudflare holds the hostname, unlisted") from e
    except ProviderUnavailable as e:
        return _save(deps, record, _retry_later(record, now, str(e)))
    except ProviderRejected as e:
        return _save(deps, record, _refused(record, now, str(e)))
    return _save(deps, record, _observed(record, found, now))


def _existing(provider: CustomHostnameProvider, record: CustomHostname) -> ProviderHostname | None:
    """The hostname an earlier attempt may have created: by its id, else by name when an
    earlier attempt failed (its answer may have been lost after Cloudflare created it)."""
    found = provider.get(record.hostname_id) if record.hostname_id else None
    if found is not None and found.status in GONE_STATUSES:
        found = None
    if found is None and (record.failures or record.hostname_id):
        found = provider.find(record.domain)
    return found


def _check(
    deps: HostnameDeps,
    provider: CustomHostnameProvider,
    record: CustomHostname,
    now: datetime,
    *,
    revalidate: bool,
) -> CustomHostname:
    """Asks Cloudflare how the hostname is doing (one call; two when `revalidate` and the
    certificate's validation timed out)."""
    if not record.hostname_id:
        raise ValueError(f"custom hostname {record.domain} has no Cloudflare id to check")
    try:
        found = provider.get(record.hostname_id)
        if found is not None and revalidate and timed_out(found.certificate_status):
            found = provider.revalidate(found.id)
    except ProviderUnavailable as e:
        return _save(deps, record, _retry_later(record, now, str(e)))
    except ProviderRejected as e:
        # e.g. the API token lost its permission: keep checking, slowly, and say why.
        return _save(deps, record, _retry_later(record, now, str(e)))
    if found is None:
        gone = _next(record, state=HostnameState.CREATING, hostname_id=None, next_check_at=now)
        return _save(deps, record, gone)
    return _save(deps, record, _observed(record, found, now))


def _revalidate(
    deps: HostnameDeps, provider: CustomHostnameProvider, record: CustomHostname, now: datetime
) -> CustomHostname:
    """The customer asked to check again: Cloudflare re-runs validation (one call)."""
    if not record.hostname_id:
        raise ValueError(f"custom hostname {record.domain} has no Cloudflare id to validate")
    try:
        found = provider.revalidate(record.hostname_id)
    except ProviderUnavailable as e:
        return _save(deps, record, _retry_later(record, now, str(e)))
    except ProviderRejected as e:
        return _save(deps, record, _refused(record, now, str(e)))
    if found is None:
        gone = _next(record, state=HostnameState.CREATING, hostname_id=None, next_check_at=now)
        return _provision(deps, provider, _save(deps, record, gone), now)
    return _save(deps, record, _observed(record, found, now))


def release(deps: HostnameDeps, record: CustomHostname, now: datetime) -> bool:
    """Deletes the hostname at Cloudflare, then the record; on failure the job retries.
    Safe to repeat: a hostname Cloudflare no longer has counts as deleted.  True when
    nothing is left to delete."""
    provider = deps.provider
    if provider is None or record.state is not HostnameState.RELEASING:
        return False
    try:
        hostname_id = record.hostname_id
        if hostname_id is None:  # a create may have succeeded without our hearing of it
            found = provider.find(record.domain)
            hostname_id = found.id if found else None
        if hostname_id is not None:
            provider.delete(hostname_id)
    except (ProviderUnavailable, ProviderRejected) as e:
        _save(deps, record, _retry_later(record, now, str(e)))
        return False
    # Taken back meanwhile (stale): its new state finds or re-creates the hostname.
    with suppress(StaleHostname):
        deps.store.delete_hostname(record)
    return True


def after_verification(
    deps: HostnameDeps, workspace_id: str, domain: str, now: datetime
) -> CustomHostname | None:
    """Right after the domain was verified (again): creates the hostname, or asks
    Cloudflare to validate a pending one again.  Failures are recorded for the job."""
    provider = deps.provider
    if provider is None:
        return None
    record = deps.store.get_hostname(workspace_id, domain)
    if record is None:
        return None
    if record.state is HostnameState.CREATING:
        return _provision(deps, provider, record, now)
    if record.hostname_id and record.state in (HostnameState.PENDING, HostnameState.FAILED):
        return _revalidate(deps, provider, record, now)
    return record


def _take(
    deps: HostnameDeps, record: CustomHostname, now: datetime, hold: timedelta
) -> CustomHostname | None:
    """Holds the record for this worker (another reader or run skips it meanwhile)."""
    held = _next(record, checked_at=now, next_check_at=now + hold)
    try:
        deps.store.save_hostname(record, held)
    except StaleHostname:
        return None
    return held


def refresh_if_stale(deps: HostnameDeps, record: CustomHostname, now: datetime) -> CustomHostname:
    """A pending hostname read by its settings page: asks Cloudflare, at most once per
    `refresh_seconds` across every reader (one call)."""
    provider = deps.provider
    if (
        provider is None
        or record.state is not HostnameState.PENDING
        or record.hostname_id is None
        or (
            record.checked_at is not None
            and now - record.checked_at < timedelta(seconds=deps.policy.refresh_seconds)
        )
    ):
        return record
    held = _take(deps, record, now, LEASE)
    if held is None:
        return deps.store.get_hostname(record.workspace_id, record.domain) or record
    return _check(deps, provider, held, now, revalidate=False)


@dataclass(frozen=True)
class RunSummary:
    taken: int = 0
    active: int = 0
    pending: int = 0
    failed: int = 0
    released: int = 0
    retrying: int = 0


def run_due(
    deps: HostnameDeps, now: datetime, keep_going: Callable[[], bool] = lambda: True
) -> RunSummary:
    """The scheduled job: works on up to `batch_size` due records (create, check, delete),
    one Query to find them; stops early when `keep_going()` turns false."""
    provider = deps.provider
    if provider is None:
        return RunSummary()
    counts = dict.fromkeys(("taken", "active", "pending", "failed", "released", "retrying"), 0)
    for due in deps.store.due_hostnames(now, deps.policy.batch_size):
        if not keep_going():
            break
        record = _take(deps, due, now, LEASE)
        if record is None:
            continue
        counts["taken"] += 1
        if record.state is HostnameState.RELEASING:
            counts["released" if release(deps, record, now) else "retrying"] += 1
            continue
        if record.state is HostnameState.CREATING or record.hostname_id is None:
            after = _provision(deps, provider, record, now)
        else:
            after = _check(deps, provider, record, now, revalidate=True)
        if after.failures:
            counts["retrying"] += 1
        elif after.state in (HostnameState.ACTIVE, HostnameState.FAILED):
            counts[after.state.value] += 1
        else:
            counts["pending"] += 1
    return RunSummary(**counts)
