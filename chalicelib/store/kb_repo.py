"""pynamodb implementation of `KnowledgeBaseStore`, and S3 storage of article images
(access patterns: models.py and docs/data-model.md, "Knowledge base").

An article is the collection `WS#<ws>#KB#<article>`: the current article (`ARTICLE`) and
one item per saved version (`VER#<n:06d>`).  Its slugs are claimed by `WS#<ws>` /
`KBSLUG#<locale>#<slug>` under `attribute_not_exists`; an old slug keeps its claim, so it
still leads to the article (a redirect) and no other article can take it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.kb.model import (
    Article,
    ArticlePage,
    ArticleStatus,
    ArticleVersion,
    Category,
    CategoryTranslation,
    SlugTarget,
    Translation,
    VersionPage,
)
from chalicelib.kb.ports import (
    CategoryInUse,
    SlugTaken,
    StaleArticle,
    TranslationExists,
)
from chalicelib.store import keys
from chalicelib.store.blobs import presigned_post
from chalicelib.store.models import (
    ArticleItem,
    ArticleSlugClaim,
    ArticleVersionItem,
    Item,
    KbCategoryItem,
    TranslationClaim,
)
from chalicelib.store.paging import SLICE_EVALUATED, decode_cursor, encode_cursor, one_slice
from chalicelib.store.transactions import CONDITION_FAILED, cancellation_reasons, transaction

CONFLICTS = ("TransactionConflict",)
# Old slugs remembered per article (redirects); the oldest is freed beyond this, which keeps
# deleting an article within one transaction.
MAX_SLUGS = 40
MAX_CATEGORIES = 200


def _sortable(article: Article) -> str:
    return keys.article_order(
        article.status.value,
        article.locale,
        article.updated_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        article.id,
    )


def _item(article: Article, slugs: list[str]) -> ArticleItem:
    ws = article.workspace_id
    order = _sortable(article)
    return ArticleItem(
        keys.article_pk(ws, article.id),
        keys.ARTICLE_SK,
        gsi1pk=keys.articles_view(ws),
        gsi1sk=order,
        gsi2pk=keys.articles_by_category(ws, article.category_id) if article.category_id else None,
        gsi2sk=order if article.category_id else None,
        article_id=article.id,
        workspace_id=ws,
        translation_group=article.translation_group,
        locale=article.locale,
        slug=article.slug,
        title=article.title,
        body=article.body,
        html=article.html,
        status=article.status.value,
        category_id=article.category_id,
        tags=list(article.tags),
        author=article.author,
        updated_by=article.updated_by,
        created_at=article.created_at,
        updated_at=article.updated_at,
        version=article.version,
        slugs=slugs,
    )


def _article(item: ArticleItem) -> Article:
    return Article(
        id=item.article_id,
        workspace_id=item.workspace_id,
        translation_group=item.translation_group,
        locale=item.locale,
        slug=item.slug,
        title=item.title,
        body=item.body or "",
        html=item.html or "",
        status=ArticleStatus(item.status),
        category_id=item.category_id,
        tags=[str(tag) for tag in item.tags or []],
        author=item.author,
        updated_by=item.updated_by,
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version or 1),
    )


def _version_item(workspace_id: str, version: ArticleVersion) -> ArticleVersionItem:
    return ArticleVersionItem(
        keys.article_pk(workspace_id, version.article_id),
        keys.article_version_sk(version.number),
        article_id=version.article_id,
        number=version.number,
        title=version.title,
        body=version.body,
        html=version.html,
        slug=version.slug,
        status=version.status.value,
        category_id=version.category_id,
        tags=list(version.tags),
        saved_by=version.saved_by,
        saved_at=version.saved_at,
    )


def _version(item: ArticleVersionItem) -> ArticleVersion:
    return ArticleVersion(
        article_id=item.article_id,
        number=int(item.number),
        title=item.title,
        body=item.body or "",
        html=item.html or "",
        slug=item.slug,
        status=ArticleStatus(item.status),
        category_id=item.category_id,
        tags=[str(tag) for tag in item.tags or []],
        saved_by=item.saved_by,
        saved_at=item.saved_at,
    )


def _slug_claim(article: Article, slug: str) -> ArticleSlugClaim:
    return ArticleSlugClaim(
        keys.workspace_pk(article.workspace_id),
        keys.article_slug_sk(article.locale, slug),
        article_id=article.id,
    )


def _translation_claim(article: Article) -> TranslationClaim:
    return TranslationClaim(
        keys.workspace_pk(article.workspace_id),
        keys.translation_sk(article.translation_group, article.locale),
        article_id=article.id,
    )


def _category_item(category: Category) -> KbCategoryItem:
    return KbCategoryItem(
        keys.workspace_pk(category.workspace_id),
        keys.kb_category_sk(category.id),
        category_id=category.id,
        workspace_id=category.workspace_id,
        name=category.name,
        description=category.description,
        position=category.position,
        created_at=category.created_at,
        updated_at=category.updated_at,
        revision=category.revision,
        translations=json.dumps(
            {locale: asdict(t) for locale, t in sorted(category.translations.items())},
            ensure_ascii=False,
        )
        if category.translations
        else None,
    )


def _category(item: KbCategoryItem) -> Category:
    return Category(
        id=item.category_id,
        workspace_id=item.workspace_id,
        name=item.name,
        description=item.description or "",
        position=int(item.position or 0),
        created_at=item.created_at,
        updated_at=item.updated_at,
        revision=int(item.revision or 0),
        translations={
            locale: CategoryTranslation(**fields)
            for locale, fields in json.loads(item.translations or "{}").items()
        },
    )


def _conflicted(reasons: list[str | None]) -> bool:
    return any(reason in CONFLICTS for reason in reasons)


class DynamoKnowledgeBaseStore:
    # -- articles --------------------------------------------------------------------------

    def create_article(self, article: Article, first: ArticleVersion) -> None:
        try:
            with transaction() as tx:
                tx.save(_item(article, [article.slug]), condition=Item.pk.does_not_exist())
                tx.save(
                    _version_item(article.workspace_id, first), condition=Item.pk.does_not_exist()
                )
                tx.save(_slug_claim(article, article.slug), condition=Item.pk.does_not_exist())
                tx.save(_translation_claim(article), condition=Item.pk.does_not_exist())
        except TransactWriteError as e:
            reasons = [*cancellation_reasons(e), None, None, None, None]
            if reasons[2] == CONDITION_FAILED:
                raise SlugTaken() from e
            if reasons[3] == CONDITION_FAILED:
                raise TranslationExists() from e
            if CONDITION_FAILED in reasons[:2] or _conflicted(reasons):
                raise StaleArticle() from e
            raise

    def _slugs(self, article: Article) -> list[str]:
        item = ArticleItem.get(
            keys.article_pk(article.workspace_id, article.id),
            keys.ARTICLE_SK,
            consistent_read=True,
            attributes_to_get=["slugs"],
        )
        return [str(slug) for slug in item.slugs or []] or [article.slug]

    def save_article(self, before: Article, after: Article, version: ArticleVersion) -> None:
        renamed = before.slug != after.slug
        slugs = self._slugs(before)
        freed: str | None = None
        if renamed:
            slugs = [s for s in slugs if s != after.slug] + [after.slug]
            if len(slugs) > MAX_SLUGS:
                freed, slugs = slugs[0], slugs[1:]
        try:
            # Cancellation reasons follow the order the items are added (store/transactions.py).
            with transaction() as tx:
                if freed is not None:
                    tx.delete(
                        _slug_claim(before, freed),
                        condition=ArticleSlugClaim.article_id == before.id,
                    )
                tx.save(_item(after, slugs), condition=ArticleItem.version == before.version)
                tx.save(
                    _version_item(after.workspace_id, version), condition=Item.pk.does_not_exist()
                )
                if renamed:
                    # Free, or an old slug of this same article taken back.
                    tx.save(
                        _slug_claim(after, after.slug),
                        condition=Item.pk.does_not_exist()
                        | (ArticleSlugClaim.article_id == after.id),
                    )
        except TransactWriteError as e:
            reasons = cancellation_reasons(e)
            if renamed and reasons and reasons[-1] == CONDITION_FAILED:
                raise SlugTaken() from e
            if CONDITION_FAILED in reasons or _conflicted(reasons):
                raise StaleArticle() from e
            raise

    def delete_article(self, article: Article) -> None:
        slugs = self._slugs(article)
        try:
            with transaction() as tx:
                tx.delete(_item(article, slugs), condition=ArticleItem.version == article.version)
                tx.delete(_translation_claim(article))
                for slug in slugs:
                    tx.delete(_slug_claim(article, slug))
        except TransactWriteError as e:
            reasons = cancellation_reasons(e)
            if CONDITION_FAILED in reasons or _conflicted(reasons):
                raise StaleArticle() from e
            raise
        # The history goes with it: one Query and BatchWrite per 100 versions of this article.
        pk = keys.article_pk(article.workspace_id, article.id)
        with ArticleVersionItem.batch_write() as batch:
            for item in ArticleVersionItem.query(
                pk, Item.sk.startswith(keys.ARTICLE_VERSION_PREFIX), page_size=100
            ):
                batch.delete(item)

    def get_article(self, workspace_id: str, article_id: str) -> Article | None:
        try:
            item = ArticleItem.get(
                keys.article_pk(workspace_id, article_id), keys.ARTICLE_SK, consistent_read=True
            )
        except ArticleItem.DoesNotExist:
            return None
        return _article(item)

    def list_articles(
        self,
        workspace_id: str,
        status: ArticleStatus | None,
        locale: str | None,
        category_id: str | None,
        cursor: str | None,
        limit: int,
    ) -> ArticlePage:
        prefix = f"{status.value}#{locale}#" if status and locale else ""
        if status and not locale:
            prefix = f"{status.value}#"
        if category_id:
            index: Any = Item.by_status_or_tag
            partition, pk_name, sk_name = (
                keys.articles_by_category(workspace_id, category_id),
                "GSI2PK",
                "GSI2SK",
            )
            sort_key: Any = ArticleItem.gsi2sk
        else:
            index = Item.by_user
            partition, pk_name, sk_name = keys.articles_view(workspace_id), "GSI1PK", "GSI1SK"
            sort_key = ArticleItem.gsi1sk
        start = decode_cursor(cursor, {pk_name: partition}, sort_prefix=(sk_name, prefix))
        # A locale without a status is no key prefix: one bounded slice, a short page + cursor.
        narrowed = bool(locale) and not status
        result = index.query(
            partition,
            sort_key.startswith(prefix) if prefix else None,
            filter_condition=(ArticleItem.locale == locale) if narrowed else None,
            scan_index_forward=False,
            limit=limit,
            page_size=SLICE_EVALUATED if narrowed else limit,
            last_evaluated_key=start,
        )
        found, last_key = one_slice(result, Item, limit)
        articles = [_article(item) for item in found if isinstance(item, ArticleItem)]
        return ArticlePage(articles, encode_cursor(last_key))

    def get_version(self, workspace_id: str, article_id: str, number: int) -> ArticleVersion | None:
        try:
            item = ArticleVersionItem.get(
                keys.article_pk(workspace_id, article_id),
                keys.article_version_sk(number),
                consistent_read=True,
            )
        except ArticleVersionItem.DoesNotExist:
            return None
        return _version(item)

    def list_versions(
        self, workspace_id: str, article_id: str, cursor: str | None, limit: int
    ) -> VersionPage:
        pk = keys.article_pk(workspace_id, article_id)
        start = decode_cursor(cursor, {"PK": pk}, sort_prefix=("SK", keys.ARTICLE_VERSION_PREFIX))
        result = ArticleVersionItem.query(
            pk,
            Item.sk.startswith(keys.ARTICLE_VERSION_PREFIX),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start,
        )
        found = [_version(item) for item in result]
        return VersionPage(found, encode_cursor(result.last_evaluated_key))

    def find_slug(self, workspace_id: str, locale: str, slug: str) -> SlugTarget | None:
        try:
            claim = ArticleSlugClaim.get(
                keys.workspace_pk(workspace_id), keys.article_slug_sk(locale, slug)
            )
        except ArticleSlugClaim.DoesNotExist:
            return None
        article = self.get_article(workspace_id, claim.article_id)
        if article is None:
            return None
        return SlugTarget(
            article.id, article.locale, article.slug, redirect=article.slug != slug, article=article
        )

    def translations(self, workspace_id: str, translation_group: str) -> list[Translation]:
        claims = TranslationClaim.query(
            keys.workspace_pk(workspace_id),
            Item.sk.startswith(keys.translation_prefix(translation_group)),
            limit=20,
        )
        return [Translation(locale=c.sk.rsplit("#", 1)[1], article_id=c.article_id) for c in claims]

    # -- categories ------------------------------------------------------------------------

    def create_category(self, category: Category) -> None:
        _category_item(category).save(condition=Item.pk.does_not_exist())

    def get_category(self, workspace_id: str, category_id: str) -> Category | None:
        try:
            item = KbCategoryItem.get(
                keys.workspace_pk(workspace_id),
                keys.kb_category_sk(category_id),
                consistent_read=True,
            )
        except KbCategoryItem.DoesNotExist:
            return None
        return _category(item)

    def list_categories(self, workspace_id: str) -> list[Category]:
        found = [
            _category(item)
            for item in KbCategoryItem.query(
                keys.workspace_pk(workspace_id),
                Item.sk.startswith(keys.KB_CATEGORY_PREFIX),
                limit=MAX_CATEGORIES,
            )
        ]
        return sorted(found, key=lambda c: (c.position, c.name.casefold(), c.id))

    def save_category(self, before: Category, after: Category) -> None:
        from pynamodb.exceptions import PutError

        try:
            _category_item(after).save(condition=KbCategoryItem.revision == before.revision)
        except PutError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                raise StaleArticle() from e
            raise

    def delete_category(self, category: Category) -> None:
        from pynamodb.exceptions import DeleteError

        in_use = Item.by_status_or_tag.query(
            keys.articles_by_category(category.workspace_id, category.id), limit=1
        )
        if next(iter(in_use), None) is not None:
            raise CategoryInUse()
        try:
            _category_item(category).delete(condition=KbCategoryItem.revision == category.revision)
        except DeleteError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                raise StaleArticle() from e
            raise


class S3ArticleImages:
    """Article images in the content bucket, uploaded by the browser through a presigned
    POST (a presigned PUT cannot limit the size; a POST policy's `content-length-range`
    can) and read through short-lived presigned GETs."""

    def __init__(self, client: Callable[[], Any], bucket: str) -> None:
        self._client = client  # built on first use (see S3BlobStore)
        self._bucket = bucket

    @property
    def _s3(self) -> Any:
        return self._client()

    def presign_upload(
        self, key: str, content_type: str, max_bytes: int, expires_seconds: int
    ) -> tuple[str, dict[str, str]]:
        return presigned_post(self._s3, self._bucket, key, content_type, max_bytes, expires_seconds)

    def download_url(self, key: str, expires_seconds: int) -> str:
        url: str = self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_seconds
        )
        return url
