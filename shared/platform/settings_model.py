"""The settings model (see shared.platform.config for how and when it is read)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, populate_by_name=True)

    souq_env: Literal["local", "test", "dev", "staging", "production"] = "production"

    database_url: str = Field(min_length=1)
    database_auth: Literal["password", "entra"] = "password"
    database_read_url: str | None = None
    database_pgbouncer: bool = False
    database_entra_user: str | None = None
    database_pool_min: int = Field(default=1, ge=0, le=50)
    database_pool_max: int = Field(default=10, ge=1, le=100)
    database_connect_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    database_pool_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    database_idle_seconds: float = Field(default=30.0, gt=0)
    database_max_lifetime_seconds: float = Field(default=1800.0, gt=0)
    database_statement_timeout_ms: int = Field(default=5000, ge=0)
    database_application_name: str = "souq-api"

    redis_url: str = Field(min_length=1)
    redis_auth: Literal["password", "entra"] = "password"
    redis_key_prefix: str = "souq:"
    redis_timeout_ms: int = Field(default=100, ge=1, le=10000)
    redis_connect_timeout_ms: int = Field(default=300, ge=1, le=10000)

    cache_product_ttl_seconds: int = Field(default=3600, ge=1)
    cache_listing_ttl_seconds: int = Field(default=300, ge=1)
    cache_availability_ttl_seconds: int = Field(default=60, ge=1)
    cache_lock_ttl_ms: int = Field(default=2000, ge=10, le=60000)
    cache_breaker_failures: int = Field(default=3, ge=1)
    cache_breaker_cooldown_seconds: float = Field(default=5.0, gt=0)
    cache_warm_top_products: int = Field(default=200, ge=0, le=10000)

    azure_client_id: str | None = None

    auth_issuer: str = Field(min_length=1)
    auth_audience: str = Field(min_length=1)
    auth_jwks_url: str = Field(min_length=1)
    auth_leeway_seconds: int = Field(default=30, ge=0, le=300)
    auth_jwks_min_refresh_seconds: float = Field(default=60.0, ge=0)

    domain_events_queue: str = "domain-events"
    order_events_queue: str = "order-events"

    order_vat_rate: Decimal = Field(default=Decimal("0.15"), ge=0, le=1)
    order_delivery_fee: Decimal = Field(default=Decimal("15.00"), ge=0)
    order_free_delivery_threshold: Decimal = Field(default=Decimal("200.00"), ge=0)
    # le= are the ceilings shared.orders.models validates against before the configured limits
    order_max_lines: int = Field(default=50, ge=1, le=200)
    order_max_quantity_per_line: int = Field(default=100, ge=1, le=10000)
    order_payment_window_minutes: int = Field(default=15, ge=1, le=1440)
    order_currency: str = Field(default="SAR", pattern=r"^[A-Z]{3}$")
    outbox_relay_batch_size: int = Field(default=100, ge=1, le=1000)

    # The chat widget (shared.inbox.widget): visitor tokens are HS256, signed with a key derived per
    # connection from WIDGET_TOKEN_SECRET (a Key Vault reference in Azure; empty there: the widget
    # answers 503; empty locally: a fixed development secret). Sending is limited per visitor.
    widget_token_secret: str = ""
    widget_visitor_token_days: int = Field(default=90, ge=1, le=365)
    widget_messages_per_minute: int = Field(default=20, ge=1, le=600)

    # Prescriptions (shared.prescriptions): a private container, files up to 10 MB, signed URLs of
    # at most 5 minutes, and how long a paid child order may wait for a pending prescription.
    prescriptions_container: str = Field(default="prescriptions", pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
    prescription_max_bytes: int = Field(default=10_485_760, ge=1024, le=10_485_760)
    prescription_url_seconds: int = Field(default=300, ge=30, le=300)
    prescription_hold_hours: int = Field(default=48, ge=1, le=720)
    # The Blob endpoint clients reach, when it is not the app's own (a proxy, a container network).
    uploads_public_blob_endpoint: str | None = None
    # Threads (shared.threads): how long a sender may edit or delete a message, when a quiet
    # thread is archived, and the private container of message attachments.
    thread_edit_window_minutes: int = Field(default=15, ge=1, le=1440)
    thread_archive_after_days: int = Field(default=180, ge=1, le=3650)
    thread_attachments_container: str = Field(default="attachments", pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
    # Retention of monthly partitions (shared.data.partitions): a month is dropped once it ended
    # this many days ago. The outbox: published events are kept a month for investigation (a
    # month holding an unpublished event is never dropped). Notifications: half a year, as long
    # as a quiet thread stays unarchived (THREAD_ARCHIVE_AFTER_DAYS).
    outbox_retention_days: int = Field(default=30, ge=1, le=3650)
    notification_retention_days: int = Field(default=180, ge=1, le=3650)
    # Dedupe keys (shared.data.key_retention): a consumer's processed event must outlive any
    # redelivery of its queue message (7 days at most), a thread post's client id its retries.
    processed_event_retention_days: int = Field(default=30, ge=8, le=3650)
    message_client_id_retention_days: int = Field(default=30, ge=1, le=3650)
    # Payments (shared.payments.gateways): which gateway new checkouts use (unset: the sandbox in
    # local, test and dev, else Moyasar), and each one's wire.
    payment_gateway: Literal["moyasar", "sandbox"] = "moyasar"
    moyasar_base_url: str = "https://api.moyasar.com/v1"
    moyasar_secret_key: str = ""
    moyasar_publishable_key: str = ""
    moyasar_webhook_secret: str = ""
    sandbox_gateway_base_url: str = "http://127.0.0.1:7071/.sandbox/moyasar/v1"
    sandbox_webhook_secret: str = "local-sandbox-webhook-secret"  # opens only the sandbox, never offered in production
    payment_http_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    payment_events_queue: str = "payment-events"
    payment_callback_url: str = "http://localhost:7071/.sandbox/moyasar/return"

    # Backups (shared.backups, docs/backups.md): the Blob container, and how many daily, weekly and
    # monthly backups the retention timer keeps (the newest one always stays).
    backup_container: str = Field(default="backups", pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
    backup_keep_daily: int = Field(default=7, ge=0, le=366)
    backup_keep_weekly: int = Field(default=4, ge=0, le=520)
    backup_keep_monthly: int = Field(default=12, ge=0, le=1200)
    # The daily database health check (shared.ops.reports, timer report_database_health) warns on these.
    ops_unused_index_warn_bytes: int = Field(default=10_485_760, ge=0)
    ops_dead_ratio_warn: float = Field(default=0.2, gt=0, le=1)
    ops_connections_warn_ratio: float = Field(default=0.8, gt=0, le=1)
    # Inbox (shared.inbox): the channel secrets' key ring (a Key Vault reference in Azure; see
    # shared.inbox.secrets), the channels' API bases, the queues between webhooks, consumer and
    # senders, and the optional auto-close of quiet conversations (0: never).
    channel_secrets_key: str = ""
    meta_graph_base_url: str = "https://graph.facebook.com/v21.0"
    telegram_api_base_url: str = "https://api.telegram.org"
    channel_inbound_queue: str = "channel-inbound"
    channel_outbound_queue: str = "channel-outbound"
    channel_inbound_container: str = Field(default="channel-inbound", pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
    channel_http_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    inbox_auto_close_after_hours: int = Field(default=0, ge=0, le=8760)

    # Files go to Blob through upload URLs, never through the API: a bigger body is refused (413) unread.
    max_request_body_bytes: int = Field(default=262_144, ge=1024, le=104_857_600)

    log_format: Literal["auto", "json", "text", "azure"] = "auto"  # see shared.platform.logs
    log_level: str = "INFO"
    applicationinsights_connection_string: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _gateway_by_environment(cls, data: object) -> object:
        if isinstance(data, dict) and not data.get("payment_gateway"):
            local = str(data.get("souq_env") or "production") in ("local", "test", "dev")
            return {**data, "payment_gateway": "sandbox" if local else "moyasar"}
        return data

    @field_validator(
        "database_read_url",
        "database_entra_user",
        "uploads_public_blob_endpoint",
        "azure_client_id",
        "applicationinsights_connection_string",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("auth_jwks_url")
    @classmethod
    def _jwks_over_https(cls, value: str) -> str:
        url = urlparse(value)
        if url.scheme == "https" or (url.scheme == "http" and url.hostname in LOCAL_HOSTS):
            return value
        raise ValueError("must be an https URL (plain http only for localhost)")

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if self.database_pool_min > self.database_pool_max:
            raise ValueError("DATABASE_POOL_MIN must not exceed DATABASE_POOL_MAX")
        if self.souq_env == "production" and urlparse(self.auth_jwks_url).scheme != "https":
            raise ValueError("AUTH_JWKS_URL must be https in production")
        if self.souq_env in ("staging", "production") and self.payment_gateway == "sandbox":
            raise ValueError("PAYMENT_GATEWAY=sandbox is for local, test and dev only")
        return self
