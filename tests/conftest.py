"""Test-wide setup: an isolated AWS environment, markers by folder, no sockets in unit tests.

The environment is set when this file is imported, before any test imports `chalicelib`
(whose settings are read once). `AWS_ENDPOINT_URL` points at a moto server on a free port,
started only when a test asks for the `aws` fixture; set `AWS_ENDPOINT_URL` yourself (e.g.
LocalStack on http://127.0.0.1:4566) and the tests use that endpoint instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from devstack.emulator import MotoServer, free_port  # noqa: E402

TEST_MAILGUN_WEBHOOK_SIGNING_KEY = "test-mailgun-webhook-signing-key"
TEST_TWO_FACTOR_KEY = "11" * 32  # 32 bytes in hex: seals two-factor secrets in the tests
# Set when the tests own the emulator (moto); unset when the user gave AWS_ENDPOINT_URL.
OWN_EMULATOR_FLAG = "HELPTAL_TEST_OWN_EMULATOR"


def _configure_environment() -> None:
    # Each test process (pytest-xdist gives each worker one) owns its emulator: a worker
    # inherits the first process's environment, port included, so it picks its own.
    own = os.environ.get(OWN_EMULATOR_FLAG) == "1"
    if not os.environ.get("AWS_ENDPOINT_URL") or (own and os.environ.get("PYTEST_XDIST_WORKER")):
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
        os.environ[OWN_EMULATOR_FLAG] = "1"
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "ap-southeast-1",
            "AWS_REGION": "ap-southeast-1",
            "RESOURCE_PREFIX": "helptal-test",
            "MAILGUN_API_KEY": "key-test",
            "MAILGUN_WEBHOOK_SIGNING_KEY": TEST_MAILGUN_WEBHOOK_SIGNING_KEY,
            "REPLY_ADDRESS_SECRET": "test-reply-address-secret",
            "DOMAIN_VERIFICATION_SECRET": "test-domain-verification-secret",
            "TWO_FACTOR_KEY": TEST_TWO_FACTOR_KEY,
            "CARD_TOKEN_KEY": "22" * 32,
            "PUBLIC_BASE_URL": "https://api.helptal.test",
            "APP_BASE_URL": "https://app.helptal.test",
            # Cheap argon2id: the tests hash hundreds of passwords; honoured only behind the
            # emulator (chalicelib/settings.py `fast_password_hashing`).
            "PASSWORD_HASHING": "fast",
        }
    )
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "TWO_FACTOR_KEY_PREVIOUS",
    ):
        os.environ.pop(name, None)


_configure_environment()


# --- markers and sockets -----------------------------------------------------------------

_FOLDER_MARKERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests_dir = Path(__file__).resolve().parent
    for item in items:
        try:
            folder = item.path.resolve().relative_to(tests_dir).parts[0]
        except ValueError:
            continue
        if folder in _FOLDER_MARKERS:
            item.add_marker(getattr(pytest.mark, folder))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Unit tests must not reach any server; pytest-socket lifts this at teardown.
    if item.get_closest_marker("unit") is not None:
        import pytest_socket

        pytest_socket.disable_socket(allow_unix_socket=True)


# --- AWS ------------------------------------------------------------------------------------


@dataclass
class AwsResources:
    """The emulator endpoint and the test resources created on it."""

    endpoint: str
    region: str
    table_name: str
    bucket: str
    queue_urls: dict[str, str] = field(default_factory=dict)
    dlq_urls: dict[str, str] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        """A boto3 client for `service` on the emulator."""
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name=self.region)


@pytest.fixture(scope="session")
def aws() -> Iterator[AwsResources]:
    """The AWS emulator with every resource of the stage created (RESOURCE_PREFIX helptal-test).

    Starts moto on the port chosen at import time unless AWS_ENDPOINT_URL was given.
    """
    from chalicelib.settings import get_settings
    from devstack.resources import create_resources

    endpoint = os.environ["AWS_ENDPOINT_URL"]
    moto: MotoServer | None = None
    if os.environ.get(OWN_EMULATOR_FLAG):
        port = int(endpoint.rsplit(":", 1)[1])
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        log_name = f"moto-{worker}.log" if worker else "moto.log"
        moto = MotoServer(port=port, log_path=PROJECT_DIR / "test-artifacts" / log_name)
        moto.start()
    try:
        created = create_resources(get_settings(), endpoint_url=endpoint)
        yield AwsResources(
            endpoint=endpoint,
            region=created.region,
            table_name=created.table_name,
            bucket=created.bucket,
            queue_urls=dict(created.queue_urls),
            dlq_urls=dict(created.dlq_urls),
        )
    finally:
        if moto is not None:
            moto.stop()


def _empty_table(dynamodb: Any, table_name: str) -> None:
    # Test-only: product code never scans.
    paginator = dynamodb.get_paginator("scan")
    for page in paginator.paginate(TableName=table_name, ProjectionExpression="PK, SK"):
        keys = [{"PK": item["PK"], "SK": item["SK"]} for item in page.get("Items", [])]
        for start in range(0, len(keys), 25):
            dynamodb.batch_write_item(
                RequestItems={
                    table_name: [
                        {"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]
                    ]
                }
            )


def _empty_bucket(s3: Any, bucket: str) -> None:
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket):
        objects = [
            {"Key": entry["Key"], "VersionId": entry["VersionId"]}
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if objects:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})


def _empty_queue(sqs: Any, queue_url: str) -> None:
    from botocore.exceptions import ClientError

    try:
        sqs.purge_queue(QueueUrl=queue_url)
    except ClientError as e:
        if e.response["Error"]["Code"] not in (
            "PurgeQueueInProgress",
            "AWS.SimpleQueueService.PurgeQueueInProgress",
        ):
            raise
        while messages := sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages"):
            for message in messages:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def clean_aws(aws: AwsResources) -> AwsResources:
    """`aws`, with the table, the bucket and every queue (and DLQ) emptied first."""
    _empty_table(aws.client("dynamodb"), aws.table_name)
    _empty_bucket(aws.client("s3"), aws.bucket)
    sqs = aws.client("sqs")
    for queue_url in [*aws.queue_urls.values(), *aws.dlq_urls.values()]:
        _empty_queue(sqs, queue_url)
    return aws
