import pytest

from chalicelib.accounts.slugs import is_valid_slug, slugify, with_suffix


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Acme Support", "acme-support"),
        ("Équipe Café!", "equipe-cafe"),
        ("  --Hello__World--  ", "hello-world"),
        ("X", "x-team"),
        ("日本", "team"),
    ],
)
def test_slugify_makes_url_safe_lowercase_names(name, slug):
    assert slugify(name) == slug
    assert is_valid_slug(slug)


def test_reserved_and_malformed_slugs_are_invalid():
    for slug in ("admin", "postmaster", "-abc", "abc-", "a", "ab", "a--b", "ABC", "a_b"):
        assert not is_valid_slug(slug), slug


def test_suffix_keeps_slug_valid_and_differs():
    taken = "acme-support"
    variant = with_suffix(taken)
    assert variant.startswith("acme-support-") and variant != taken
    assert is_valid_slug(variant)
    assert is_valid_slug(with_suffix("a" * 40))
