"""A Storage outage must cost a request seconds, not the SDK's default ~40 s of retries."""

from __future__ import annotations

import pytest

from shared import storage

UNREACHABLE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=ZGV2;"
    "QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;"
)


def _worst_case_backoff(policy) -> float:
    """Every retry's longest wait: the policy's own backoff formula at its jitter's top."""
    jitter, policy.random_jitter_range = policy.random_jitter_range, 0  # the formula's centre
    waits = [policy.get_backoff_time({"count": count}) for count in range(policy.total_retries)]
    return sum(waits) + policy.total_retries * jitter


@pytest.mark.parametrize("client", ["queue", "blob"])
async def test_the_clients_give_up_within_seconds(client, monkeypatch):
    monkeypatch.setenv("AzureWebJobsStorage", UNREACHABLE)
    made = storage.queue_client("q") if client == "queue" else storage.blob_service_client()
    try:
        policy = made._config.retry_policy
        assert policy.total_retries == 2
        assert _worst_case_backoff(policy) < 4
    finally:
        await storage.close_storage_clients()
