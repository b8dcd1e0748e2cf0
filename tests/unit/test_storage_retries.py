"""A Storage outage must cost a request seconds, not the SDK's default ~40 s of retries; and
no request pays for reading proxy variables that are not set."""

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


def _transport(client):
    transport = client._pipeline._transport
    return getattr(transport, "_transport", transport)  # the async wrapper a client may add


@pytest.mark.parametrize("proxy", [None, "http://proxy.example:3128"])
async def test_the_transport_reads_proxy_variables_only_when_one_is_set(proxy, monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "localhost")
    if proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.setenv("AzureWebJobsStorage", UNREACHABLE)
    try:
        for made in (storage.queue_client("q"), storage.blob_service_client()):
            assert _transport(made)._use_env_settings is bool(proxy)
    finally:
        await storage.close_storage_clients()
