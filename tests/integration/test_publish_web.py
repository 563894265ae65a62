"""`python -m infra.publish_web` puts the built web client in the stage's bucket (moto)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from infra.publish_web import main as publish_web
from infra.web_build import IMMUTABLE, build_web_client


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    return build_web_client(tmp_path_factory.mktemp("web") / "webapp")


@pytest.fixture()
def stage_stack(aws):
    """A stack with the web client's outputs, its bucket and a distribution, on moto."""
    cloudfront = aws.client("cloudfront")
    distribution = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": uuid.uuid4().hex,
            "Comment": "web client",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "webapp-bucket",
                        "DomainName": "web.s3.ap-southeast-1.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "webapp-bucket",
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
        }
    )["Distribution"]
    name = f"helptal-publish-{uuid.uuid4().hex[:8]}"
    template = {
        "Resources": {"WebAppBucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {
            "WebAppBucketName": {"Value": {"Ref": "WebAppBucket"}},
            "WebAppDistributionId": {"Value": distribution["Id"]},
            "AppBaseUrl": {"Value": "https://app.example.test"},
            "PublicBaseUrl": {"Value": "https://api.example.test"},
        },
    }
    cloudformation = aws.client("cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
    outputs = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    bucket = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "WebAppBucketName")
    return name, bucket, distribution["Id"]


def _put_keys(aws) -> tuple[object, list[str]]:
    """An S3 client for the publish step, and the keys of the PutObjects it sends, in order."""
    import boto3

    seen: list[str] = []
    original = boto3.session.Session.client

    def client(self, service, *args, **kwargs):
        made = original(self, service, *args, **kwargs)
        if service == "s3":
            made.meta.events.register(
                "provide-client-params.s3.PutObject", lambda params, **_: seen.append(params["Key"])
            )
        return made

    return client, seen


def test_publish_uploads_every_file_with_its_type_and_caching_index_last(
    aws, stage_stack, built, monkeypatch, capsys
):
    name, bucket, distribution_id = stage_stack
    client, put_keys = _put_keys(aws)
    monkeypatch.setattr("boto3.session.Session.client", client)

    assert publish_web(["--stack-name", name, "--build", str(built.out)]) == 0

    s3 = aws.client("s3")
    assert put_keys[-1] == "index.html"
    assert set(put_keys) == set(built.files)
    for key in built.files:
        head = s3.head_object(Bucket=bucket, Key=key)
        if key.startswith(f"assets/{built.version}/"):
            assert head["CacheControl"] == IMMUTABLE == "public, max-age=31536000, immutable"
        else:
            assert head["CacheControl"] == "no-cache", key
        if key.endswith((".js", ".mjs")):
            assert head["ContentType"] == "text/javascript; charset=utf-8", key
    assert s3.head_object(Bucket=bucket, Key="index.html")["ContentType"].startswith("text/html")
    assert s3.head_object(Bucket=bucket, Key=f"assets/{built.version}/app.css")[
        "ContentType"
    ].startswith("text/css")
    index = s3.get_object(Bucket=bucket, Key="index.html")["Body"].read().decode()
    assert '<base href="/">' in index
    assert '<meta name="helptal-api" content="https://api.example.test">' in index
    invalidations = aws.client("cloudfront").list_invalidations(DistributionId=distribution_id)
    assert invalidations["InvalidationList"]["Quantity"] >= 1
    assert "index.html last" in capsys.readouterr().out


def test_publishing_again_uploads_only_what_is_at_stable_urls(aws, stage_stack, built, monkeypatch):
    name, _, _ = stage_stack
    assert publish_web(["--stack-name", name, "--build", str(built.out)]) == 0
    client, put_keys = _put_keys(aws)
    monkeypatch.setattr("boto3.session.Session.client", client)

    assert publish_web(["--stack-name", name, "--build", str(built.out)]) == 0

    assert put_keys[-1] == "index.html"
    assert not [key for key in put_keys if key.startswith("assets/")]


def test_an_app_base_url_with_a_path_is_refused(aws, built, tmp_path: Path, capsys):
    from infra.publish_web import PublishError, Target, publish

    target = Target("bucket", None, "https://example.test/app", "https://api.example.test")
    with pytest.raises(PublishError, match="root of its own host"):
        publish(aws.client("s3"), None, built.out, target)
