"""The sub-processor registry against the emulator: the store, the operator's command
(`python -m infra.subprocessors`, its main() run as an operator would) and the public pages
and JSON that show what it recorded."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from chalice.test import Client

from chalicelib.privacy.model import ChangeKind
from chalicelib.privacy.ports import ChangeAlreadyRecorded
from chalicelib.store.subprocessor_changes_repo import (
    PARTITION,
    DynamoSubprocessorChanges,
)
from infra import subprocessors as command
from tests.stages import TEST_STAGE
from tests.subprocessor_fakes import AWS, change, provider

HOSTING_FILE = Path(command.__file__).parent / "subprocessor_changes" / "aws-hosting.json"


def _forget_every_change(aws) -> None:
    dynamodb = aws.client("dynamodb")
    found = dynamodb.query(
        TableName=aws.table_name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": PARTITION}},
        ProjectionExpression="PK, SK",
    )["Items"]
    for key in found:
        dynamodb.delete_item(TableName=aws.table_name, Key=key)


@pytest.fixture(scope="module")
def registry(aws):
    """The emulator's table without planned changes, and the app's test client."""
    from app import app

    _forget_every_change(aws)
    with Client(app, stage_name=TEST_STAGE) as client:
        yield client
    _forget_every_change(aws)


def _change_file(tmp_path: Path, **override) -> Path:
    raw = json.loads(HOSTING_FILE.read_text(encoding="utf-8"))
    raw.update(override)
    path = tmp_path / "change.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def _in(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = command.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_store_keeps_each_change_once_and_reads_them_soonest_first(registry):
    store = DynamoSubprocessorChanges()
    later = change(
        ChangeKind.ADD, datetime(2031, 1, 1, tzinfo=UTC), subprocessor=provider("zeta"), id="Z1"
    )
    sooner = change(
        ChangeKind.REPLACE,
        datetime(2030, 1, 1, tzinfo=UTC),
        subprocessor=AWS,
        replaces=("vultr", "neon"),
        id="S1",
    )
    store.record_change(later)
    store.record_change(sooner)
    with pytest.raises(ChangeAlreadyRecorded):
        store.record_change(later)

    assert store.all_changes() == [sooner, later]
    assert store.get_change("S1") == sooner
    assert store.get_change("S1").summary.fr == "résumé replace"
    assert store.get_change("missing") is None
    _forget_every_change_by_store_ids(store, ["Z1", "S1"])


def _forget_every_change_by_store_ids(store, ids):
    from chalicelib.store.subprocessor_changes_repo import SubprocessorChangeItem, change_sk

    for change_id in ids:
        SubprocessorChangeItem(PARTITION, change_sk(change_id)).delete()
    assert store.all_changes() == []


def test_the_operator_plans_the_hosting_move_and_the_public_pages_announce_it(
    registry, tmp_path, capsys
):
    store = DynamoSubprocessorChanges()
    # Refused, nothing recorded: too soon for a change processing Workspace content...
    code, _, err = _run(
        capsys, "plan", "--file", str(_change_file(tmp_path, effective_at=_in(10))), "--yes"
    )
    assert code == 1 and "notice_too_short" in err and "nothing was recorded" in err
    # ... replacing a provider that is not listed, adding one that is.
    code, _, err = _run(
        capsys,
        "plan",
        "--file",
        str(_change_file(tmp_path, effective_at=_in(40), replaces=["vultr", "linode"])),
        "--yes",
    )
    assert code == 1 and "unknown_subprocessor" in err and "linode" in err
    mailgun = {**json.loads(HOSTING_FILE.read_text())["subprocessor"], "id": "mailgun"}
    code, _, err = _run(
        capsys,
        "plan",
        "--file",
        str(
            _change_file(
                tmp_path, effective_at=_in(40), kind="add", replaces=[], subprocessor=mailgun
            )
        ),
        "--yes",
    )
    assert code == 1 and "already_listed" in err
    code, _, err = _run(
        capsys, "plan", "--file", str(_change_file(tmp_path, effective_at="next month")), "--yes"
    )
    assert code == 1 and "effective_at" in err
    # Without --yes (and no terminal to ask), only the preview.
    path = _change_file(tmp_path, effective_at=_in(40))
    code, out, _ = _run(capsys, "plan", "--file", str(path))
    assert code == 0 and "Nothing was recorded" in out
    assert store.all_changes() == []

    code, out, err = _run(capsys, "plan", "--file", str(path), "--yes")

    assert code == 0, err
    assert "helptal-test" in err  # says which table it writes to
    assert "leaving the list: Vultr, DigitalOcean, Neon and Upstash" in out
    assert "Amazon Web Services" in out and "owners may object" in out
    [planned] = store.all_changes()
    assert planned.kind is ChangeKind.REPLACE
    assert planned.replaces == ("vultr", "digitalocean", "neon", "upstash")
    assert planned.planned_by.startswith("arn:aws:")  # from STS GetCallerIdentity
    assert f"Recorded change {planned.id}" in out

    code, out, _ = _run(capsys, "list")
    assert code == 0 and "Upcoming changes:" in out and "Vultr [vultr]" in out
    code, out, _ = _run(capsys, "show", "vultr")
    assert code == 0 and "listed on" in out and planned.id in out
    code, out, _ = _run(capsys, "show", planned.id)
    assert code == 0 and "aws-ap-southeast-1" in out
    assert _run(capsys, "show", "nobody")[0] == 1

    # Public JSON: upcoming, the operator never named, cacheable.
    answer = registry.http.get("/v1/public/subprocessors")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "public, max-age=300"
    body = json.loads(answer.body)
    assert "planned_by" not in answer.body.decode() and "arn:aws" not in answer.body.decode()
    assert "vultr" in [p["id"] for p in body["subprocessors"]]
    [upcoming] = body["upcoming"]
    assert upcoming["id"] == planned.id and upcoming["processes_workspace_content"] is True
    assert [r["name"] for r in upcoming["replaces"]] == ["Vultr", "DigitalOcean", "Neon", "Upstash"]
    assert upcoming["subprocessor"]["location"] == {"en": "Singapore", "fr": "Singapour"}
    assert body["notice_days"] == 30 and body["last_updated"].startswith("2026-05-20")
    assert {i["id"] for i in body["integrations"]} >= {"zoom", "slack", "hubspot"}
    changelog = json.loads(registry.http.get("/v1/public/subprocessors/changelog").body)
    assert changelog["changes"] == [] and [c["id"] for c in changelog["upcoming"]] == [planned.id]

    # The pages, in French: the change as upcoming, the terms, the form.
    page = registry.http.get("/legal/subprocessors?lang=fr")
    html = page.body.decode()
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "<script" not in html
    assert '<html lang="fr">' in html
    assert "La version anglaise fait juridiquement foi." in html
    assert "Changements à venir" in html and "Amazon Web Services" in html
    assert "Vultr, DigitalOcean, Neon et Upstash" in html
    assert html.count("Quitte la liste le") == 4  # on each provider that leaves
    assert "trente (30) jours" in html and "rembourserons" in html
    assert 'action="/legal/subprocessors/subscribe"' in html
    assert 'name="email"' in html and 'name="lang"' in html
    assert "Intégrations autorisées par le client (pas des sous-traitants)" in html
    assert "/legal/subprocessors/changelog?lang=fr" in html


def test_a_change_in_force_shows_in_the_list_and_the_changelog(registry):
    store = DynamoSubprocessorChanges()
    yesterday = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    removal = change(ChangeKind.REMOVE, yesterday, replaces=("tappay",), id="01REMOVEDTAPPAY")
    store.record_change(removal)

    body = json.loads(registry.http.get("/v1/public/subprocessors").body)
    assert "tappay" not in [p["id"] for p in body["subprocessors"]]
    assert body["last_updated"].startswith(yesterday.strftime("%Y-%m-%d"))
    changelog = json.loads(registry.http.get("/v1/public/subprocessors/changelog").body)
    assert [c["id"] for c in changelog["changes"]] == ["01REMOVEDTAPPAY"]
    assert changelog["changes"][0]["replaces"] == [{"id": "tappay", "name": "TapPay"}]
    since = datetime.fromisoformat(changelog["since"])
    assert 729 <= (datetime.fromisoformat(changelog["at"]) - since).days <= 731

    page = registry.http.get("/legal/subprocessors/changelog", headers={"Accept-Language": "en"})
    html = page.body.decode()
    assert page.status_code == 200 and '<html lang="en">' in html
    assert "Removal" in html and "TapPay" in html and "In force since" in html
    assert "the list as first published" in html and "20 May 2026" in html
    assert "juridiquement" not in html


@pytest.mark.parametrize(
    ("case", "query", "headers", "language"),
    [
        ("no language asked", "", {}, "en"),
        ("the browser's language", "", {"Accept-Language": "fr-CA,fr;q=0.9"}, "fr"),
        ("?lang wins over the browser", "?lang=en", {"Accept-Language": "fr"}, "en"),
        ("an unknown language", "?lang=de", {}, "en"),
        ("markup as the language", "?lang=%3Cscript%3Ealert(1)%3C/script%3E", {}, "en"),
        ("a language repeated", "?lang=fr&lang=en", {}, None),
        ("a very long query", "?lang=" + "x" * 5000, {}, "en"),
        ("an unknown parameter", "?utm_source=mail", {}, "en"),
    ],
)
def test_the_pages_answer_any_query_with_a_page_in_a_language_they_have(
    registry, case, query, headers, language
):
    for path in ("/legal/subprocessors", "/legal/subprocessors/changelog"):
        page = registry.http.get(path + query, headers=headers)
        html = page.body.decode()
        assert page.status_code == 200, (case, path)
        assert "<script" not in html.lower(), (case, path)
        if language:
            assert f'<html lang="{language}">' in html, (case, path)


def test_an_unchanged_page_answers_304_to_its_etag(registry):
    first = registry.http.get("/legal/subprocessors?lang=en")
    tag = first.headers["ETag"]
    again = registry.http.get("/legal/subprocessors?lang=en", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.body in (b"", "")
    assert first.headers["Vary"] == "Accept-Language"
    other = registry.http.get("/legal/subprocessors?lang=fr", headers={"If-None-Match": tag})
    assert other.status_code == 200


def test_the_command_names_the_login_when_sts_cannot_say_who_runs_it(monkeypatch):
    import boto3
    from botocore.exceptions import NoCredentialsError

    class NoSts:
        def get_caller_identity(self):
            raise NoCredentialsError()

    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: NoSts())
    monkeypatch.setenv("USER", "ops-person")
    assert command.caller_identity() == "ops-person"
