"""The knowledge-base index grows by what changed, through the events worker, S3 and DynamoDB
on the moto server: an edit embeds only its article's passages, a batch updates a workspace
once, and a container holding the index reads only the segment that changed."""

from __future__ import annotations

import json

import pytest

from app import app
from chalicelib import bootstrap
from chalicelib.kb.indexing import IndexManifest, SegmentGone, StaleIndex
from chalicelib.settings import get_settings
from devstack.pump import EventPump
from tests.integration.test_kb_ai_embeddings import fake_openai

__all__ = ["fake_openai"]  # fixture used by name

TOPICS = [
    "refunds",
    "invoices",
    "passwords",
    "exports",
    "webhooks",
    "calendars",
    "macros",
    "reports",
    "widgets",
    "domains",
    "tags",
    "inboxes",
]


def _body(topic: str) -> str:
    return "\n\n".join(
        f"## {topic.title()} step {n}\n" + " ".join(f"{topic} detail{n}x{i}" for i in range(70))
        for n in range(3)
    )


@pytest.fixture()
def kb(api, clean_aws):
    owner = api.sign_up()
    pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
    [worker] = [q for q in pump.queues if q.name == "search_indexer"]

    def run_events():
        while pump.poll_queue(worker).received:
            pass

    articles = {}
    for topic in TOPICS:
        status, body, _ = api.request(
            "POST",
            "/v1/kb/articles",
            {"title": f"All about {topic}", "body": _body(topic), "status": "published"},
            token=owner["token"],
        )
        assert status == 201, body
        articles[topic] = body
    run_events()
    return owner, articles, run_events


def _search(api, token, query):
    return [
        h["title"] for h in api.request("GET", f"/v1/kb/search?q={query}", token=token)[1]["hits"]
    ]


def _edit(api, token, article, **changes):
    status, body, _ = api.request("PATCH", f"/v1/kb/articles/{article['id']}", changes, token=token)
    assert status == 200, body
    return body


@pytest.fixture()
def s3_gets():
    """Keys of the S3 GetObject calls this process makes."""
    keys: list[str] = []

    def count(params, **_):
        keys.append(params["Key"])

    client = bootstrap.s3_client()
    client.meta.events.register("provide-client-params.s3.GetObject", count)
    yield keys
    client.meta.events.unregister("provide-client-params.s3.GetObject", count)


def test_with_ai_on_an_edit_embeds_only_the_edited_articles_passages(api, kb, fake_openai):
    owner, articles, run_events = kb
    api.request("PUT", "/v1/workspace/ai", {"enabled": True}, token=owner["token"])
    run_events()
    every_passage = len(fake_openai.embedded_texts)
    assert every_passage >= 3 * len(TOPICS)

    fake_openai.requests.clear()
    _edit(api, owner["token"], articles["webhooks"], title="Webhooks, signed and retried")
    run_events()

    embedded = fake_openai.embedded_texts
    assert len(embedded) == 3
    assert all(text.startswith("Webhooks, signed and retried") for text in embedded)
    assert _search(api, owner["token"], "signed retried")[0] == "Webhooks, signed and retried"


def test_two_article_events_in_one_batch_update_the_index_once(api, kb, monkeypatch):
    from chalice.test import Client

    from chalicelib.kb import indexing

    owner, articles, _ = kb
    workspace_id = owner["workspace"]["id"]
    _edit(api, owner["token"], articles["refunds"], title="Refunds within 30 days")
    _edit(api, owner["token"], articles["macros"], status="draft")
    updates = []
    real = indexing.update_index

    def counted(kb_deps, indexes, ws, embedder=None, article_ids=None):
        updates.append((ws, None if article_ids is None else sorted(article_ids)))
        return real(kb_deps, indexes, ws, embedder, article_ids)

    monkeypatch.setattr(indexing, "update_index", counted)
    bodies = [
        {"type": "article.published", "article_id": articles["refunds"]["id"]},
        {"type": "article.unpublished", "article_id": articles["macros"]["id"]},
    ]
    with Client(app) as client:
        result = client.lambda_.invoke(
            "search_indexer",
            client.events.generate_sqs_event(
                queue_name=get_settings().queues.events,
                message_bodies=[
                    json.dumps({"workspace_id": workspace_id, "locale": "en", **b}) for b in bodies
                ],
            ),
        )

    assert result.payload == {"batchItemFailures": []}
    assert updates == [
        (workspace_id, sorted([articles["refunds"]["id"], articles["macros"]["id"]]))
    ]
    assert _search(api, owner["token"], "refunds")[0] == "Refunds within 30 days"
    assert "All about macros" not in _search(api, owner["token"], "macros")


def test_a_container_holding_the_index_reads_only_the_changed_segment(api, kb, s3_gets):
    owner, articles, run_events = kb
    manifest = bootstrap.kb_index_store().manifest(owner["workspace"]["id"])
    segments = [name for name in manifest.segments if name]
    assert len(segments) > 5

    assert _search(api, owner["token"], "calendars")[0] == "All about calendars"
    assert len(s3_gets) == len(segments)

    _edit(api, owner["token"], articles["calendars"], body="Calendars sync with quokkas now.")
    run_events()
    s3_gets.clear()
    assert _search(api, owner["token"], "quokkas") == ["All about calendars"]
    assert len(s3_gets) == 1 and s3_gets[0].startswith(f"ws/{owner['workspace']['id']}/kb/index/")


def test_deleted_and_unpublished_articles_leave_the_index(api, kb):
    owner, articles, run_events = kb
    assert (
        api.request("DELETE", f"/v1/kb/articles/{articles['tags']['id']}", token=owner["token"])[0]
        == 204
    )
    _edit(api, owner["token"], articles["reports"], status="draft")
    run_events()
    assert "All about tags" not in _search(api, owner["token"], "tags")
    assert "All about reports" not in _search(api, owner["token"], "reports")
    assert _search(api, owner["token"], "widgets")[0] == "All about widgets"


def test_the_s3_index_store_switches_only_from_the_version_it_read(clean_aws):
    store = bootstrap.kb_index_store()
    first = IndexManifest("v1", None, ("00-abc", None))
    store.save_segment("ws_x", "00-abc", b"segment bytes")
    store.switch("ws_x", first, None)
    assert store.manifest("ws_x") == first
    assert store.load_segment("ws_x", "00-abc") == b"segment bytes"

    with pytest.raises(StaleIndex):
        store.switch("ws_x", IndexManifest("v2", None, (None, None)), None)
    with pytest.raises(StaleIndex):
        store.switch("ws_x", IndexManifest("v2", None, (None, None)), "v0")
    store.switch("ws_x", IndexManifest("v2", "model-a", (None, "01-def")), "v1")
    assert store.manifest("ws_x") == IndexManifest("v2", "model-a", (None, "01-def"))

    store.delete_segment("ws_x", "00-abc")
    with pytest.raises(SegmentGone):
        store.load_segment("ws_x", "00-abc")
    assert store.manifest("ws_other") is None


def test_an_index_of_the_older_format_is_rebuilt_after_the_first_search(api, kb):
    from chalicelib.store import keys
    from chalicelib.store.kb_index_repo import KbIndexPointer

    owner, _, run_events = kb
    workspace_id = owner["workspace"]["id"]
    KbIndexPointer(keys.workspace_pk(workspace_id), "KBINDEX", version="01OLDFORMAT").save()
    bootstrap.reset()  # a container that never saw the new format

    assert _search(api, owner["token"], "invoices") == []
    run_events()
    assert _search(api, owner["token"], "invoices")[0] == "All about invoices"
