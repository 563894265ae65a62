"""Knowledge base for agents: articles, their versions and slugs, categories, images."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.accounts.model import MANAGERS
from chalicelib.api.routing import Call, operation
from chalicelib.errors import NotFound
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        ArticleDetailOut,
        ArticleIn,
        ArticleOut,
        ArticlePatchIn,
        ArticlePreviewIn,
        ArticlePreviewOut,
        ArticleQuery,
        ArticlesOut,
        ArticleVersionOut,
        ArticleVersionsOut,
        CategoriesOut,
        CategoryIn,
        CategoryOut,
        CategoryPatchIn,
        ImageUploadIn,
        ImageUploadOut,
        SlugOut,
        VersionQuery,
    )
    from chalicelib.kb.model import Article, ArticleVersion, Category

# Loaded by the first request that needs them, not when `app` is imported (cold start).
schemas = lazy_module("chalicelib.api.schemas")
articles = lazy_module("chalicelib.kb.articles")
categories = lazy_module("chalicelib.kb.categories")
helpcentre_site = lazy_module("chalicelib.kb.helpcentre_site")
uploads = lazy_module("chalicelib.kb.uploads")
model = lazy_module("chalicelib.kb.model")
bp = Blueprint(__name__)
TAG = "knowledge-base"


def article_fields(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "title": article.title,
        "body": article.body,
        "html": article.html,
        "locale": article.locale,
        "slug": article.slug,
        "status": article.status.value,
        "category_id": article.category_id,
        "tags": article.tags,
        "author": article.author,
        "updated_by": article.updated_by,
        "translation_group": article.translation_group,
        "version": article.version,
        "created_at": article.created_at,
        "updated_at": article.updated_at,
    }


def article_out(article: Article) -> ArticleOut:
    return schemas.ArticleOut(**article_fields(article))


def version_out(version: ArticleVersion) -> ArticleVersionOut:
    return schemas.ArticleVersionOut(
        number=version.number,
        title=version.title,
        body=version.body,
        html=version.html,
        slug=version.slug,
        status=version.status.value,
        category_id=version.category_id,
        tags=version.tags,
        saved_by=version.saved_by,
        saved_at=version.saved_at,
    )


def category_out(category: Category) -> CategoryOut:
    return schemas.CategoryOut(
        id=category.id,
        name=category.name,
        description=category.description,
        slug=helpcentre_site.category_slug(category),
        position=category.position,
        translations={
            locale: {
                "name": translation.name,
                "description": translation.description,
                "slug": helpcentre_site.category_slug(category, locale),
            }
            for locale, translation in category.translations.items()
        },
        created_at=category.created_at,
        updated_at=category.updated_at,
    )


# -- articles ------------------------------------------------------------------------------


@operation(
    bp,
    "POST",
    "/v1/kb/articles",
    summary="Write an article (Markdown); `translation_of` links it to another locale's",
    tag=TAG,
    body="ArticleIn",
    response="ArticleOut",
    status=201,
    errors=(400, 401, 404, 409, 422),
)
def create_article(call: Call) -> ArticleOut:
    body: ArticleIn = call.body
    draft = articles.ArticleDraft(
        title=body.title,
        body=body.body,
        locale=body.locale,
        slug=body.slug,
        status=model.ArticleStatus(body.status),
        category_id=body.category_id,
        tags=body.tags,
        translation_of=body.translation_of,
    )
    return article_out(articles.create_article(bootstrap.kb_deps(), call.member, draft))


@operation(
    bp,
    "POST",
    "/v1/kb/preview",
    summary="Render Markdown as the help centre shows it, without saving (the editor's live "
    "preview)",
    tag=TAG,
    body="ArticlePreviewIn",
    response="ArticlePreviewOut",
    errors=(400, 401, 413, 415, 422),
)
def preview_article(call: Call) -> ArticlePreviewOut:
    body: ArticlePreviewIn = call.body
    return schemas.ArticlePreviewOut(html=articles.preview(body.body))


@operation(
    bp,
    "GET",
    "/v1/kb/articles",
    summary="Articles by status, locale, then newest update; filters `status`, `locale`, "
    "`category`",
    tag=TAG,
    query="ArticleQuery",
    response="ArticlesOut",
    errors=(400, 401, 422),
)
def list_articles(call: Call) -> ArticlesOut:
    query: ArticleQuery = call.query
    page = articles.list_articles(
        bootstrap.kb_deps(),
        call.member.workspace_id,
        model.ArticleStatus(query.status) if query.status else None,
        query.locale,
        query.category,
        query.cursor,
        query.limit,
    )
    return schemas.ArticlesOut(
        articles=[article_out(a) for a in page.articles], next_cursor=page.next_cursor
    )


@operation(
    bp,
    "GET",
    "/v1/kb/articles/{article_id}",
    summary="An article with its translations",
    tag=TAG,
    response="ArticleDetailOut",
    errors=(401, 404),
)
def get_article(call: Call) -> ArticleDetailOut:
    deps = bootstrap.kb_deps()
    article = articles.get_article(deps, call.member.workspace_id, call.params["article_id"])
    from chalicelib.kb.helpcentre_content import feedback_of

    helpful, not_helpful = feedback_of(bootstrap.helpcentre_store(), article)
    return schemas.ArticleDetailOut(
        **article_fields(article),
        feedback={"helpful": helpful, "not_helpful": not_helpful},
        translations=[
            schemas.TranslationOut(locale=t.locale, article_id=t.article_id)
            for t in articles.translations_of(deps, article)
        ],
    )


@operation(
    bp,
    "PATCH",
    "/v1/kb/articles/{article_id}",
    summary="Edit, publish or unpublish an article (saved as a new version)",
    tag=TAG,
    body="ArticlePatchIn",
    response="ArticleOut",
    errors=(400, 401, 404, 409, 422),
)
def patch_article(call: Call) -> ArticleOut:
    body: ArticlePatchIn = call.body
    changes = articles.ArticleChanges(
        title=body.title,
        body=body.body,
        slug=body.slug,
        status=model.ArticleStatus(body.status) if body.status else None,
        category_id=body.category_id,
        clear_category="category_id" in body.model_fields_set and body.category_id is None,
        tags=body.tags,
    )
    return article_out(
        articles.update_article(
            bootstrap.kb_deps(), call.member, call.params["article_id"], changes
        )
    )


@operation(
    bp,
    "DELETE",
    "/v1/kb/articles/{article_id}",
    summary="Delete an article with its versions; its slugs become free (owners and admins)",
    tag=TAG,
    status=204,
    roles=MANAGERS,
    errors=(401, 403, 404, 409),
)
def delete_article(call: Call) -> None:
    articles.delete_article(
        bootstrap.kb_deps(), call.member.workspace_id, call.params["article_id"]
    )


@operation(
    bp,
    "GET",
    "/v1/kb/articles/{article_id}/versions",
    summary="Saved versions of an article, newest first",
    tag=TAG,
    query="VersionQuery",
    response="ArticleVersionsOut",
    errors=(400, 401, 404, 422),
)
def list_versions(call: Call) -> ArticleVersionsOut:
    query: VersionQuery = call.query
    page = articles.list_versions(
        bootstrap.kb_deps(),
        call.member.workspace_id,
        call.params["article_id"],
        query.cursor,
        query.limit,
    )
    return schemas.ArticleVersionsOut(
        versions=[version_out(v) for v in page.versions], next_cursor=page.next_cursor
    )


@operation(
    bp,
    "POST",
    "/v1/kb/articles/{article_id}/versions/{number}/restore",
    summary="Save an old version's title, body, category and tags as the newest version",
    tag=TAG,
    response="ArticleOut",
    errors=(401, 404, 409),
)
def restore_version(call: Call) -> ArticleOut:
    number = call.params["number"]
    if not (number.isascii() and number.isdigit()) or len(number) > 6:
        raise NotFound("The article has no such version.", code="version_not_found")
    return article_out(
        articles.restore_version(
            bootstrap.kb_deps(), call.member, call.params["article_id"], int(number)
        )
    )


@operation(
    bp,
    "GET",
    "/v1/kb/slugs/{locale}/{slug}",
    summary="The article a slug leads to (an old slug redirects to the current one)",
    tag=TAG,
    response="SlugOut",
    errors=(401, 404),
)
def find_slug(call: Call) -> SlugOut:
    target = articles.find_by_slug(
        bootstrap.kb_deps(), call.member.workspace_id, call.params["locale"], call.params["slug"]
    )
    return schemas.SlugOut(
        article_id=target.article_id,
        locale=target.locale,
        slug=target.slug,
        redirect=target.redirect,
    )


# -- categories ----------------------------------------------------------------------------


def _category_translations(given: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        locale: None
        if translation is None
        else model.CategoryTranslation(
            name=translation.name,
            description=translation.description,
            slug=translation.slug or "",
        )
        for locale, translation in given.items()
    }


@operation(
    bp,
    "POST",
    "/v1/kb/categories",
    summary="Add a category",
    tag=TAG,
    body="CategoryIn",
    response="CategoryOut",
    status=201,
    errors=(400, 401, 409, 422),
)
def create_category(call: Call) -> CategoryOut:
    body: CategoryIn = call.body
    draft = categories.CategoryDraft(
        name=body.name,
        description=body.description,
        position=body.position,
        translations=_category_translations(body.translations),
    )
    return category_out(categories.create_category(bootstrap.kb_deps(), call.member, draft))


@operation(
    bp,
    "GET",
    "/v1/kb/categories",
    summary="Categories by position, then name",
    tag=TAG,
    response="CategoriesOut",
    errors=(401,),
)
def list_categories(call: Call) -> CategoriesOut:
    found = categories.list_categories(bootstrap.kb_deps(), call.member.workspace_id)
    return schemas.CategoriesOut(categories=[category_out(c) for c in found])


@operation(
    bp,
    "GET",
    "/v1/kb/categories/{category_id}",
    summary="A category",
    tag=TAG,
    response="CategoryOut",
    errors=(401, 404),
)
def get_category(call: Call) -> CategoryOut:
    return category_out(
        categories.get_category(
            bootstrap.kb_deps(), call.member.workspace_id, call.params["category_id"]
        )
    )


@operation(
    bp,
    "PATCH",
    "/v1/kb/categories/{category_id}",
    summary="Rename, describe, translate or move a category",
    tag=TAG,
    body="CategoryPatchIn",
    response="CategoryOut",
    errors=(400, 401, 404, 409, 422),
)
def patch_category(call: Call) -> CategoryOut:
    body: CategoryPatchIn = call.body
    changes = categories.CategoryChanges(
        name=body.name,
        description=body.description,
        position=body.position,
        translations=None
        if body.translations is None
        else _category_translations(body.translations),
    )
    return category_out(
        categories.update_category(
            bootstrap.kb_deps(), call.member.workspace_id, call.params["category_id"], changes
        )
    )


@operation(
    bp,
    "DELETE",
    "/v1/kb/categories/{category_id}",
    summary="Delete an empty category (owners and admins)",
    tag=TAG,
    status=204,
    roles=MANAGERS,
    errors=(401, 403, 404, 409),
)
def delete_category(call: Call) -> None:
    categories.delete_category(
        bootstrap.kb_deps(), call.member.workspace_id, call.params["category_id"]
    )


# -- images --------------------------------------------------------------------------------


@operation(
    bp,
    "POST",
    "/v1/kb/uploads",
    summary="Start an image upload: a presigned S3 POST (PNG, JPEG, GIF, WebP; at most 5 MB)",
    tag=TAG,
    body="ImageUploadIn",
    response="ImageUploadOut",
    status=201,
    errors=(400, 401, 413, 422),
)
def start_upload(call: Call) -> ImageUploadOut:
    body: ImageUploadIn = call.body
    upload = uploads.start_image_upload(
        bootstrap.kb_deps(), call.member.workspace_id, body.filename, body.content_type, body.size
    )
    return schemas.ImageUploadOut(
        upload_url=upload.upload_url,
        fields=upload.fields,
        key=upload.key,
        public_url=upload.public_url,
        max_bytes=upload.max_bytes,
        expires_at=upload.expires_at,
    )


@operation(
    bp,
    "GET",
    "/v1/kb/images/{workspace_id}/{name}",
    summary="An article image (public; redirects to a link valid for an hour)",
    tag=TAG,
    status=302,
    auth=False,
    errors=(404,),
)
def article_image(call: Call) -> Response:
    url = uploads.image_link(bootstrap.kb_deps(), call.params["workspace_id"], call.params["name"])
    return Response(
        body="",
        status_code=302,
        headers={"Location": url, "Cache-Control": "public, max-age=1800"},
    )
