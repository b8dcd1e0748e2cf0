#!/usr/bin/env bash
# azd postprovision hook: the PostgreSQL role for the app's managed identity, migrations and
# grants (infra/hooks/db_setup.py). Runs as the signed-in az CLI principal, which must be the
# server's Entra administrator (or a member of the administrator group).
#   SOUQ_DB_SETUP=all|principal|migrate|skip   (default all; CI runs "principal" here and
#                                               migrates in its own job)
set -euo pipefail
cd "$(dirname "$0")/../.."

# The inbox's channel-secrets key ring (CHANNEL_SECRETS_KEY is a Key Vault reference to it):
# made once with a random 32-byte key, never overwritten (rotation: docs/inbox.md).
if [ -n "${AZURE_KEY_VAULT_NAME:-}" ] && \
   ! az keyvault secret show --vault-name "$AZURE_KEY_VAULT_NAME" --name channel-secrets-key --output none 2>/dev/null; then
  az keyvault secret set --vault-name "$AZURE_KEY_VAULT_NAME" --name channel-secrets-key --output none \
    --value "k1:$(openssl rand -base64 32)" \
    || echo "[souq] could not create the Key Vault secret channel-secrets-key: create it as docs/inbox.md says" >&2
fi
# The chat widget's visitor-token secret (WIDGET_TOKEN_SECRET is a Key Vault reference to it):
# made once, never overwritten (a new value logs every widget visitor out; docs/widget.md).
if [ -n "${AZURE_KEY_VAULT_NAME:-}" ] && \
   ! az keyvault secret show --vault-name "$AZURE_KEY_VAULT_NAME" --name widget-token-secret --output none 2>/dev/null; then
  az keyvault secret set --vault-name "$AZURE_KEY_VAULT_NAME" --name widget-token-secret --output none \
    --value "$(openssl rand -base64 48)" \
    || echo "[souq] could not create the Key Vault secret widget-token-secret: create it as docs/widget.md says" >&2
fi

step="${SOUQ_DB_SETUP:-all}"
if [ "$step" = "skip" ]; then
  echo "[souq] SOUQ_DB_SETUP=skip: database setup skipped"
  exit 0
fi

# azd exports the Bicep outputs to hooks; fail with the variable's name if one is missing.
: "${POSTGRES_HOST:?run through azd (azd provision / azd up)}"
: "${POSTGRES_ADMIN_NAME:?}" "${POSTGRES_APP_ROLE:?}" "${POSTGRES_APP_PRINCIPAL_ID:?}" "${POSTGRES_DATABASE:?}"

if [ "${PRIVATE_NETWORKING:-false}" = "true" ] && [ -z "${SOUQ_RUNNER_IN_VNET:-}" ]; then
  echo "[souq] privateNetworking is on: PostgreSQL is reachable only inside the VNet." >&2
  echo "[souq] Run this hook from a machine in the VNet with SOUQ_RUNNER_IN_VNET=1 (docs/deploy.md)." >&2
  exit 1
fi

PYTHON="${PYTHON:-.venv/bin/python}"
if [ ! -x "$PYTHON" ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  PYTHON=.venv/bin/python
fi

# A fresh Entra token is the password; it is valid for about an hour and never stored.
PGPASSWORD="$(az account get-access-token --resource-type oss-rdbms --query accessToken --output tsv)"
export PGPASSWORD
exec "$PYTHON" -m infra.hooks.db_setup "$step"
