"""Knowledge-base request and response schemas: articles, versions, categories, images."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from chalicelib.api.schemas.common import Incoming, Locale, Outgoing, QueryParams
from chalicelib.api.schemas.tickets import Tag

ArticleStatusName = Literal["draft", "published", "internal"]
ArticleTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
ArticleBody = Annotated[str, StringConstraints(max_length=30_000)]
Slug = Annotated[
    str,
    StringConstraints(min_length=1, max_length=80, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$"),
]
Id = Annotated[str, StringConstraints(min_length=26, max_length=26)]
STATUS_HELP = (
    "`draft` (members only), `published` (public help centre) or `internal` "
    "(agents and the AI only)."
)
BODY_HELP = (
    "Markdown (CommonMark with GitHub's tables, strikethrough, autolinks and task lists); "
    "raw HTML is shown as text, never run."
)


class ArticleIn(Incoming):
    title: ArticleTitle
    body: ArticleBody = Field(default="", description=BODY_HELP)
    locale: Locale = "en"
    slug: Slug | None = Field(
        default=None, description="Unique per workspace and locale; default: from the title."
    )
    status: ArticleStatusName = Field(default="draft", description=STATUS_HELP)
    category_id: Id | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    translation_of: Id | None = Field(
        default=None,
        description="An article this one translates: both join one translation group.",
    )


class ArticlePatchIn(Incoming):
    title: ArticleTitle | None = None
    body: ArticleBody | None = Field(default=None, description=BODY_HELP)
    slug: Slug | None = Field(default=None, description="The old slug keeps redirecting here.")
    status: ArticleStatusName | None = Field(default=None, description=STATUS_HELP)
    category_id: Id | None = Field(default=None, description="`null` takes it out of its category.")
    tags: list[Tag] | None = Field(default=None, max_length=20)


class ArticleQuery(QueryParams):
    status: ArticleStatusName | None = None
    locale: Locale | None = None
    category: str | None = Field(default=None, max_length=26, description="a category id")
    cursor: str | None = Field(default=None, max_length=4096)
    limit: int = Field(default=25, ge=1, le=100)


class TranslationOut(Outgoing):
    locale: Locale
    article_id: str


class ArticlePreviewIn(Incoming):
    body: ArticleBody = Field(description=BODY_HELP)


class ArticlePreviewOut(Outgoing):
    html: str


class ArticleOut(Outgoing):
    id: str
    title: str
    body: str = Field(description="Markdown, as written.")
    html: str = Field(description="The body rendered and sanitised: safe to show.")
    locale: Locale
    slug: str
    status: ArticleStatusName
    category_id: str | None
    tags: list[str]
    author: str
    updated_by: str
    translation_group: str
    version: int = Field(description="Number of the latest saved version.")
    created_at: datetime
    updated_at: datetime


class FeedbackOut(Outgoing):
    helpful: int
    not_helpful: int


class ArticleDetailOut(ArticleOut):
    translations: list[TranslationOut] = Field(description="The same article in other locales.")
    feedback: FeedbackOut = Field(
        description='Help-centre visitors\' answers to "Was this article helpful?"'
    )


class ArticlesOut(Outgoing):
    articles: list[ArticleOut]
    next_cursor: str | None


class ArticleVersionOut(Outgoing):
    number: int
    title: str
    body: str
    html: str
    slug: str
    status: ArticleStatusName
    category_id: str | None
    tags: list[str]
    saved_by: str
    saved_at: datetime


class ArticleVersionsOut(Outgoing):
    versions: list[ArticleVersionOut]
    next_cursor: str | None


class VersionQuery(QueryParams):
    cursor: str | None = Field(default=None, max_length=4096)
    limit: int = Field(default=25, ge=1, le=100)


class SlugOut(Outgoing):
    article_id: str
    locale: Locale
    slug: str = Field(description="The article's current slug.")
    redirect: bool = Field(description="The slug asked for is an old one: go to `slug`.")


CategoryName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)
]
CategoryDescription = Annotated[str, StringConstraints(max_length=500)]
TRANSLATIONS_HELP = (
    "The category on the help centre in other locales (`en`, `fr`); a locale without one "
    "shows `name` and `description`."
)


class CategoryTranslationIn(Incoming):
    name: CategoryName
    description: CategoryDescription = Field(
        default="", description="Empty: the category's own description."
    )
    slug: Slug | None = Field(default=None, description="Default: from the name.")


class CategoryIn(Incoming):
    name: CategoryName
    description: CategoryDescription = ""
    position: int = Field(default=0, ge=0, le=10_000, description="Lower comes first.")
    translations: dict[Locale, CategoryTranslationIn] = Field(
        default_factory=dict, description=TRANSLATIONS_HELP
    )


class CategoryPatchIn(Incoming):
    name: CategoryName | None = None
    description: CategoryDescription | None = None
    position: int | None = Field(default=None, ge=0, le=10_000)
    translations: dict[Locale, CategoryTranslationIn | None] | None = Field(
        default=None,
        description="Replaces the translation of each locale given; `null` removes it.",
    )


class CategoryTranslationOut(Outgoing):
    name: str
    description: str
    slug: str = Field(description="Its URL on the help centre in that locale.")


class CategoryOut(Outgoing):
    id: str
    name: str
    description: str
    slug: str = Field(
        description="Its URL on the help centre in a locale it has no translation for."
    )
    position: int
    translations: dict[str, CategoryTranslationOut] = Field(description=TRANSLATIONS_HELP)
    created_at: datetime
    updated_at: datetime


class CategoriesOut(Outgoing):
    categories: list[CategoryOut] = Field(description="By position, then name.")


class ImageUploadIn(Incoming):
    filename: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    content_type: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="image/png, image/jpeg, image/gif or image/webp."
    )
    size: int = Field(ge=1, description="Bytes; at most 5 MB.")


class ImageUploadOut(Outgoing):
    method: Literal["POST"] = "POST"
    upload_url: str = Field(
        description="POST a multipart form here: every entry of `fields`, then the file "
        "as `file`. S3 refuses other types and sizes."
    )
    fields: dict[str, str]
    key: str
    public_url: str = Field(description="Where the article links the image.")
    max_bytes: int
    expires_at: datetime
