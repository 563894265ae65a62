"""The content bucket forgets what is only kept for a while: data-subject export bundles and
the records of inbound messages that were never fetched expire by lifecycle rules."""

from __future__ import annotations

from chalicelib.settings import get_settings
from infra.template import (
    EXPORTS_RETENTION_DAYS,
    REFUSED_INBOUND_RETENTION_DAYS,
    build_resource_template,
)


def test_exports_and_refused_inbound_records_expire_and_nothing_else_does() -> None:
    resources = build_resource_template(get_settings())["Resources"]
    [bucket] = [r for r in resources.values() if r["Type"] == "AWS::S3::Bucket"]
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert {(r["Prefix"], r["ExpirationInDays"], r["Status"]) for r in rules} == {
        ("exports/", EXPORTS_RETENTION_DAYS, "Enabled"),
        ("inbound/refused/", REFUSED_INBOUND_RETENTION_DAYS, "Enabled"),
    }
