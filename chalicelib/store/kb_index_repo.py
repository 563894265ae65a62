"""Where knowledge-base search indexes live: S3 objects and a pointer item per workspace.

| access pattern                  | served by                                   |
|---------------------------------|---------------------------------------------|
| current index version           | GetItem PK=WS#<ws>, SK=KBINDEX              |
| an index                        | S3 GetObject ws/<ws>/kb/index/<version>.bin |
| a failed or weak search query   | UpdateItem ADD PK=WS#<ws>, SK=KBGAP#<query> |
| the top failed queries          | Query PK=WS#<ws>, SK begins_with KBGAP#     |
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.store import keys
from chalicelib.store.blobs import S3BlobStore
from chalicelib.store.models import Item

GAP_KEPT_SECONDS = 90 * 24 * 3600
MAX_GAPS_READ = 500


class KbIndexPointer(Item, discriminator="kb_index_pointer"):
    version = UnicodeAttribute()


class SearchGapItem(Item, discriminator="kb_search_gap"):
    text = UnicodeAttribute()
    searches = NumberAttribute(default=0)
    last_at = UTCDateTimeAttribute(null=True)


class S3IndexStore:
    def __init__(self, blobs: S3BlobStore) -> None:
        self._blobs = blobs

    @staticmethod
    def _key(workspace_id: str, version: str) -> str:
        return f"ws/{workspace_id}/kb/index/{version}.bin"

    def current_version(self, workspace_id: str) -> str | None:
        try:
            return str(KbIndexPointer.get(keys.workspace_pk(workspace_id), "KBINDEX").version)
        except KbIndexPointer.DoesNotExist:
            return None

    def save(self, workspace_id: str, version: str, blob: bytes) -> None:
        self._blobs.put(self._key(workspace_id, version), blob, "application/octet-stream")
        KbIndexPointer(keys.workspace_pk(workspace_id), "KBINDEX", version=version).save()

    def load(self, workspace_id: str, version: str) -> bytes:
        return self._blobs.get(self._key(workspace_id, version))


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
