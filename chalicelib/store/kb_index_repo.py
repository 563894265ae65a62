"""Where knowledge-base search indexes live: a manifest item per workspace naming the
index's segments, the segments S3 objects (chalicelib/kb/indexing.py).

| access pattern                  | served by                                                 |
|---------------------------------|-----------------------------------------------------------|
| the index's manifest            | GetItem PK=WS#<ws>, SK=KBINDEX                            |
| a segment                       | S3 GetObject ws/<ws>/kb/index/<shard>-<content hash>.seg  |
| a new manifest                  | PutItem KBINDEX, condition: version as read (or absent)   |
| a replaced segment              | S3 DeleteObject                                           |
| a failed or weak search query   | UpdateItem ADD PK=WS#<ws>, SK=KBGAP#<query>               |
| the top failed queries          | Query PK=WS#<ws>, SK begins_with KBGAP#                   |
"""

from __future__ import annotations

import json
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError

from chalicelib.kb.indexing import IndexManifest, SegmentGone, StaleIndex
from chalicelib.store import keys
from chalicelib.store.blobs import S3BlobStore
from chalicelib.store.models import Item

GAP_KEPT_SECONDS = 90 * 24 * 3600
MAX_GAPS_READ = 500
INDEX_SK = "KBINDEX"


class KbIndexPointer(Item, discriminator="kb_index_pointer"):
    version = UnicodeAttribute()
    embedding_model = UnicodeAttribute(null=True)
    # JSON list, one segment name (or null) per shard; absent on an index of the older
    # one-blob format, which is rebuilt on the next change.
    segments = UnicodeAttribute(null=True)


class SearchGapItem(Item, discriminator="kb_search_gap"):
    text = UnicodeAttribute()
    searches = NumberAttribute(default=0)
    last_at = UTCDateTimeAttribute(null=True)


class S3IndexStore:
    def __init__(self, blobs: S3BlobStore) -> None:
        self._blobs = blobs

    @staticmethod
    def _key(workspace_id: str, name: str) -> str:
        return f"ws/{workspace_id}/kb/index/{name}.seg"

    def manifest(self, workspace_id: str) -> IndexManifest | None:
        try:
            item = KbIndexPointer.get(keys.workspace_pk(workspace_id), INDEX_SK)
        except KbIndexPointer.DoesNotExist:
            return None
        segments = tuple(json.loads(item.segments)) if item.segments else ()
        return IndexManifest(str(item.version), item.embedding_model, segments)

    def load_segment(self, workspace_id: str, name: str) -> bytes:
        blob = self._blobs.get_if_exists(self._key(workspace_id, name))
        if blob is None:
            raise SegmentGone(name)
        return blob

    def save_segment(self, workspace_id: str, name: str, blob: bytes) -> None:
        self._blobs.put(self._key(workspace_id, name), blob, "application/octet-stream")

    def switch(self, workspace_id: str, manifest: IndexManifest, replacing: str | None) -> None:
        item = KbIndexPointer(
            keys.workspace_pk(workspace_id),
            INDEX_SK,
            version=manifest.version,
            embedding_model=manifest.embedding_model,
            segments=json.dumps(list(manifest.segments), separators=(",", ":")),
        )
        condition = (
            KbIndexPointer.pk.does_not_exist()
            if replacing is None
            else KbIndexPointer.version == replacing
        )
        try:
            item.save(condition=condition)
        except PutError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                raise StaleIndex(workspace_id) from e
            raise

    def delete_segment(self, workspace_id: str, name: str) -> None:
        self._blobs.delete(self._key(workspace_id, name))


class DynamoSearchGaps:
    def record(self, workspace_id: str, folded_query: str, query: str, at: datetime) -> None:
        item = SearchGapItem(keys.workspace_pk(workspace_id), f"KBGAP#{folded_query[:200]}")
        item.update(
            actions=[
                SearchGapItem.searches.add(1),
                SearchGapItem.text.set(query[:200]),
                SearchGapItem.last_at.set(at),
                SearchGapItem.kind.set(SearchGapItem),
                SearchGapItem.expires_at.set(int(at.timestamp()) + GAP_KEPT_SECONDS),
            ]
        )

    def top(self, workspace_id: str, limit: int) -> list[tuple[str, int, datetime | None]]:
        """The most searched failed queries among the first `MAX_GAPS_READ` gap items, which
        are in the order of their text (a workspace with more distinct failed queries in the
        retention window is ranked on part of them; a count-sorted index would lift that)."""
        items = SearchGapItem.query(
            keys.workspace_pk(workspace_id),
            SearchGapItem.sk.startswith("KBGAP#"),
            limit=MAX_GAPS_READ,
        )
        ranked = sorted(items, key=lambda i: int(i.searches), reverse=True)[:limit]
        return [(i.text, int(i.searches), i.last_at) for i in ranked]
