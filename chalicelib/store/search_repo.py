"""The ticket search index in the table (see chalicelib/tickets/search.py)."""

from __future__ import annotations

import re

from chalicelib.errors import InvalidCursor
from chalicelib.store import keys
from chalicelib.store.models import SearchPostingItem

_TICKET_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


class DynamoSearchIndex:
    def add(self, workspace_id: str, ticket_id: str, words: list[str]) -> None:
        """BatchWriteItem, 25 postings a call; writing a posting twice changes nothing."""
        with SearchPostingItem.batch_write() as batch:
            for word in words:
                batch.save(SearchPostingItem(keys.search_term_pk(workspace_id, word), ticket_id))

    def postings(
        self, workspace_id: str, word: str, below: str | None, limit: int
    ) -> tuple[list[str], bool]:
        if below is not None and not _TICKET_ID.match(below):
            raise InvalidCursor("The cursor is not valid for this search.")
        condition = SearchPostingItem.sk < below if below else None
        result = SearchPostingItem.query(
            keys.search_term_pk(workspace_id, word),
            condition,
            scan_index_forward=False,
            limit=limit,
        )
        ids = [item.sk for item in result]
        return ids, result.last_evaluated_key is not None
