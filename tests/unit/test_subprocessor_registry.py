"""The sub-processor registry's rules: the list at a moment (seed + changes in force), upcoming
changes, the changelog's order and 24-month window, and the refusals of `plan_change`."""

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.errors import NotFound
from chalicelib.privacy.model import Category, ChangeKind, Words
from chalicelib.privacy.registry import (
    ChangeDraft,
    ChangeRefused,
    change_named,
    in_notice_period,
    known_providers,
    months_before,
    plan_change,
    published,
    view,
)
from chalicelib.privacy.subprocessors import (
    CATEGORY_NOTES,
    CATEGORY_TITLES,
    INTEGRATIONS,
    SEED,
    SEED_DATE,
)
from tests.subprocessor_fakes import (
    AWS,
    HOSTING_REPLACED,
    InMemorySubprocessorChanges,
    change,
    provider,
)

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
SUMMARY = Words("Hosting moves to AWS.", "L'hébergement passe chez AWS.")


def _ids(listed):
    return [p.id for p in listed]


def _draft(kind, effective_at, subprocessor=None, replaces=()):
    return ChangeDraft(
        kind=kind,
        effective_at=effective_at,
        summary=SUMMARY,
        subprocessor=subprocessor,
        replaces=tuple(replaces),
        planned_by="arn:aws:iam::123456789012:user/ops",
    )


def _refusal(store, draft, now=NOW):
    before = list(store.all_changes())
    with pytest.raises(ChangeRefused) as refused:
        plan_change(store, draft, now)
    assert store.all_changes() == before, "a refused change was recorded"
    return refused.value.code


# -- the seed ----------------------------------------------------------------------------------


def test_the_seed_holds_every_provider_of_the_published_page_with_both_languages():
    assert [p.name for p in SEED] == [
        "Vultr",
        "DigitalOcean",
        "Neon",
        "Upstash",
        "Cloudflare",
        "Mailgun",
        "Stripe",
        "TapPay",
        "PayPal",
        "Anthropic",
        "OpenAI",
    ]
    assert len({p.id for p in SEED}) == len(SEED)
    for p in SEED:
        assert p.legal_entity and p.location.en and p.location.fr, p.id
        assert p.purpose.en and p.purpose.fr and p.purpose.en != p.purpose.fr, p.id
    by_id = {p.id: p for p in SEED}
    assert by_id["tappay"].location.en == "Taiwan"
    assert {p.id for p in SEED if p.category is Category.AI} == {"anthropic", "openai"}
    assert not any(by_id[i].processes_workspace_content for i in ("stripe", "tappay", "paypal"))
    assert all(by_id[i].processes_workspace_content for i in (*HOSTING_REPLACED, "mailgun"))
    assert set(CATEGORY_TITLES) == set(CATEGORY_NOTES) == set(Category)
    assert datetime(2026, 5, 20, tzinfo=UTC) == SEED_DATE


def test_integrations_are_listed_apart_and_never_as_sub_processors():
    names = {i.name for i in INTEGRATIONS}
    assert {"Zoom", "HubSpot", "Salesforce", "Slack", "Microsoft Teams"} <= names
    shown = view([], NOW)
    assert shown.integrations == INTEGRATIONS
    assert not {i.id for i in INTEGRATIONS} & set(_ids(shown.current))


def test_without_changes_the_list_is_the_seed_last_updated_on_its_date():
    shown = view(InMemorySubprocessorChanges(), NOW)
    assert shown.current == SEED
    assert shown.upcoming == () and shown.changelog == ()
    assert shown.last_updated == SEED_DATE


# -- the list at and around effective dates --------------------------------------------------


def test_a_replacement_is_upcoming_until_its_effective_moment_then_takes_the_replaced_place():
    effective = NOW + timedelta(days=40)
    store = InMemorySubprocessorChanges()
    planned = plan_change(store, _draft(ChangeKind.REPLACE, effective, AWS, HOSTING_REPLACED), NOW)

    for moment in (NOW, effective - timedelta(seconds=1)):
        shown = view(store, moment)
        assert shown.current == SEED, moment
        assert shown.upcoming == (planned,), moment
        assert shown.last_updated == SEED_DATE
    shown = view(store, effective)
    assert _ids(shown.current) == [
        "aws-ap-southeast-1",
        "cloudflare",
        "mailgun",
        "stripe",
        "tappay",
        "paypal",
        "anthropic",
        "openai",
    ]
    assert shown.upcoming == ()
    assert shown.changelog == (planned,)
    assert shown.last_updated == effective


def test_a_change_is_not_shown_before_it_was_announced():
    planned = change(
        ChangeKind.ADD,
        NOW + timedelta(days=40),
        subprocessor=provider("newco"),
        announced_at=NOW,
    )
    assert view([planned], NOW - timedelta(seconds=1)).upcoming == ()
    assert view([planned], NOW).upcoming == (planned,)


def test_an_addition_goes_last_and_a_removal_leaves_from_its_effective_moment():
    added_at, removed_at = NOW + timedelta(days=31), NOW + timedelta(days=2)
    store = InMemorySubprocessorChanges()
    newco = provider("newco", category=Category.EMAIL)
    addition = plan_change(store, _draft(ChangeKind.ADD, added_at, newco), NOW)
    removal = plan_change(store, _draft(ChangeKind.REMOVE, removed_at, replaces=["tappay"]), NOW)

    assert view(store, NOW).upcoming == (removal, addition)
    at_removal = view(store, removed_at)
    assert "tappay" not in _ids(at_removal.current) and "newco" not in _ids(at_removal.current)
    assert at_removal.upcoming == (addition,)
    assert "tappay" in _ids(view(store, removed_at - timedelta(microseconds=1)).current)
    at_addition = view(store, added_at)
    assert _ids(at_addition.current)[-1] == "newco"
    assert at_addition.changelog == (addition, removal)


def test_a_provider_replaced_by_itself_is_described_anew_in_its_place():
    moved = provider("mailgun", category=Category.EMAIL)
    store = InMemorySubprocessorChanges()
    plan_change(
        store, _draft(ChangeKind.REPLACE, NOW + timedelta(days=30), moved, ["mailgun"]), NOW
    )
    shown = view(store, NOW + timedelta(days=30))
    assert _ids(shown.current) == _ids(SEED)
    assert shown.current[_ids(SEED).index("mailgun")] == moved


# -- refusals --------------------------------------------------------------------------------


def test_a_change_that_processes_workspace_content_needs_thirty_days_notice():
    store = InMemorySubprocessorChanges()
    for effective in (
        NOW + timedelta(days=10),
        NOW + timedelta(days=30) - timedelta(seconds=1),
    ):
        draft = _draft(ChangeKind.REPLACE, effective, AWS, HOSTING_REPLACED)
        assert _refusal(store, draft) == "notice_too_short"
        content_addition = _draft(ChangeKind.ADD, effective, provider("newco"))
        assert _refusal(store, content_addition) == "notice_too_short"
    planned = plan_change(
        store, _draft(ChangeKind.REPLACE, NOW + timedelta(days=30), AWS, HOSTING_REPLACED), NOW
    )
    assert planned.announced_at == NOW and planned.effective_at == NOW + timedelta(days=30)
    assert planned.planned_by.startswith("arn:aws:iam::")
    assert store.get_change(planned.id) == planned


def test_changes_that_process_no_workspace_content_may_take_effect_sooner():
    store = InMemorySubprocessorChanges()
    payments = provider("adyen", content=False, category=Category.PAYMENTS)
    plan_change(store, _draft(ChangeKind.ADD, NOW, payments), NOW)
    plan_change(store, _draft(ChangeKind.REMOVE, NOW + timedelta(hours=1), replaces=["neon"]), NOW)
    assert "adyen" in _ids(view(store, NOW).current)
    assert "neon" not in _ids(view(store, NOW + timedelta(hours=1)).current)


def test_an_effective_date_in_the_past_is_refused():
    past = NOW - timedelta(minutes=1)
    store = InMemorySubprocessorChanges()
    assert _refusal(store, _draft(ChangeKind.REMOVE, past, replaces=["tappay"])) == (
        "effective_in_the_past"
    )


@pytest.mark.parametrize(
    ("case", "draft", "code"),
    [
        (
            "replace an unknown provider",
            _draft(ChangeKind.REPLACE, NOW + timedelta(days=40), AWS, ["vultr", "linode"]),
            "unknown_subprocessor",
        ),
        (
            "remove an unknown provider",
            _draft(ChangeKind.REMOVE, NOW + timedelta(days=1), replaces=["linode"]),
            "unknown_subprocessor",
        ),
        (
            "add a provider that is listed",
            _draft(ChangeKind.ADD, NOW + timedelta(days=40), provider("mailgun")),
            "already_listed",
        ),
        (
            "replace with a provider that is listed elsewhere",
            _draft(ChangeKind.REPLACE, NOW + timedelta(days=40), provider("neon"), ["vultr"]),
            "already_listed",
        ),
        (
            "an addition that replaces",
            _draft(ChangeKind.ADD, NOW + timedelta(days=40), AWS, ["vultr"]),
            "invalid_change",
        ),
        (
            "a replacement without newcomer",
            _draft(ChangeKind.REPLACE, NOW + timedelta(days=40), None, ["vultr"]),
            "invalid_change",
        ),
        (
            "a removal of nothing",
            _draft(ChangeKind.REMOVE, NOW + timedelta(days=40)),
            "invalid_change",
        ),
        (
            "a removal naming a provider twice",
            _draft(ChangeKind.REMOVE, NOW + timedelta(days=40), None, ["vultr", "vultr"]),
            "invalid_change",
        ),
    ],
)
def test_changes_that_do_not_fit_the_list_are_refused(case, draft, code):
    assert _refusal(InMemorySubprocessorChanges(), draft) == code, case


def test_the_list_a_change_is_checked_against_is_the_one_at_its_effective_date():
    store = InMemorySubprocessorChanges()
    effective = NOW + timedelta(days=40)
    plan_change(store, _draft(ChangeKind.REPLACE, effective, AWS, HOSTING_REPLACED), NOW)
    # Before the move, Vultr is still listed and AWS is not; after it, the other way round.
    assert _refusal(store, _draft(ChangeKind.ADD, NOW + timedelta(days=39), AWS)) == (
        "conflicts_with_planned"
    )
    later = effective + timedelta(days=1)
    assert _refusal(store, _draft(ChangeKind.REMOVE, later, replaces=["neon"])) == (
        "unknown_subprocessor"
    )
    assert _refusal(store, _draft(ChangeKind.ADD, later, AWS)) == "already_listed"
    plan_change(store, _draft(ChangeKind.REMOVE, later, replaces=["aws-ap-southeast-1"]), NOW)


def test_a_change_that_would_break_a_later_planned_one_is_refused():
    store = InMemorySubprocessorChanges()
    plan_change(
        store, _draft(ChangeKind.REPLACE, NOW + timedelta(days=40), AWS, HOSTING_REPLACED), NOW
    )
    removal = _draft(ChangeKind.REMOVE, NOW + timedelta(days=5), replaces=["upstash"])
    assert _refusal(store, removal) == "conflicts_with_planned"


# -- notice period, lookups, the changelog -----------------------------------------------------


def test_the_notice_period_runs_from_the_announcement_until_the_effective_moment():
    planned = change(ChangeKind.ADD, NOW + timedelta(days=40), subprocessor=AWS, announced_at=NOW)
    assert not in_notice_period(planned, NOW - timedelta(seconds=1))
    assert in_notice_period(planned, NOW)
    assert in_notice_period(planned, planned.effective_at - timedelta(seconds=1))
    assert not in_notice_period(planned, planned.effective_at)


def test_a_change_is_found_by_its_id_and_an_unknown_id_is_not_found():
    planned = change(ChangeKind.ADD, NOW + timedelta(days=40), subprocessor=AWS)
    store = InMemorySubprocessorChanges((planned,))
    assert change_named(store, planned.id) == planned
    with pytest.raises(NotFound) as missing:
        change_named(store, "01NOSUCHCHANGE")
    assert missing.value.code == "change_not_found" and missing.value.status == 404


def test_the_changelog_lists_changes_in_force_newest_first_over_twenty_four_months():
    at = datetime(2029, 3, 15, 12, 0, tzinfo=UTC)
    window_start = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)
    too_old = change(
        ChangeKind.REMOVE, window_start - timedelta(seconds=1), replaces=("tappay",), id="A"
    )
    oldest_kept = change(ChangeKind.REMOVE, window_start, replaces=("upstash",), id="B")
    middle = change(
        ChangeKind.REPLACE,
        datetime(2028, 1, 1, tzinfo=UTC),
        subprocessor=AWS,
        replaces=("vultr", "digitalocean", "neon"),
        id="C",
    )
    # Two changes at the same moment: the one announced later is the newer.
    same_time = datetime(2029, 1, 1, tzinfo=UTC)
    first = change(
        ChangeKind.ADD,
        same_time,
        subprocessor=provider("first"),
        announced_at=same_time - timedelta(days=60),
        id="D",
    )
    second = change(
        ChangeKind.ADD,
        same_time,
        subprocessor=provider("second"),
        announced_at=same_time - timedelta(days=50),
        id="E",
    )
    upcoming = change(ChangeKind.REMOVE, at + timedelta(days=3), replaces=("first",), id="F")
    store = InMemorySubprocessorChanges((upcoming, first, too_old, second, middle, oldest_kept))

    shown = view(store, at)

    assert [c.id for c in shown.changelog] == ["E", "D", "C", "B"]
    assert shown.upcoming == (upcoming,)
    assert shown.last_updated == same_time
    assert "tappay" not in _ids(shown.current)  # out of the changelog, still applied
    names = known_providers(store)
    assert names["vultr"].name == "Vultr" and names["second"].name == "Second"
    assert published(store, at).view == shown


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2028, 6, 15, tzinfo=UTC), 24, datetime(2026, 6, 15, tzinfo=UTC)),
        (datetime(2028, 2, 29, 8, tzinfo=UTC), 24, datetime(2026, 2, 28, 8, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 1, 10, tzinfo=UTC), 1, datetime(2025, 12, 10, tzinfo=UTC)),
    ],
)
def test_months_before_counts_calendar_months(moment, months, expected):
    assert months_before(moment, months) == expected
