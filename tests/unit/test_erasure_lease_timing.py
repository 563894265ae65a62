"""The erasure's run lease and its "job lost" delay against the privacy-jobs function and
queue as deployed (.chalice/config.json, infra/template.py): a lease outlives a run and has
lapsed when a failed delivery comes back; asking again re-queues only a job no delivery can
still bring back."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from chalicelib.privacy.erasure import RUN_LEASE, STALLED_AFTER
from infra.template import VISIBILITY_TIMEOUT_OVERRIDES

CONFIG = Path(__file__).resolve().parents[2] / ".chalice" / "config.json"
STAGES = sorted(json.loads(CONFIG.read_text())["stages"])


def _run_timeout(stage: str) -> timedelta:
    config = json.loads(CONFIG.read_text())
    function = config["stages"][stage]["lambda_functions"]["privacy_jobs_worker"]
    return timedelta(seconds=function["lambda_timeout"])


VISIBILITY = timedelta(seconds=VISIBILITY_TIMEOUT_OVERRIDES["privacy_jobs"])


@pytest.mark.parametrize("stage", STAGES)
def test_a_run_lease_outlives_a_run_and_lapses_before_a_failed_delivery_returns(stage: str) -> None:
    assert _run_timeout(stage) < RUN_LEASE < VISIBILITY


@pytest.mark.parametrize("stage", STAGES)
def test_an_erasure_counts_as_stalled_only_after_a_failed_delivery_would_have_run_again(
    stage: str,
) -> None:
    assert VISIBILITY + _run_timeout(stage) < STALLED_AFTER
