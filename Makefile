# Entry points of the registry. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

WORKERS ?= $(shell echo $$(( $$(nproc) * 2 + 1 )))

.PHONY: install install-dev lock audit run manage serve test reliability lint format clean bench \
	bench-serve bench-map bench-access bench-peer bench-paging messages

# Two locks from pyproject.toml (`make lock`): requirements.lock holds what the registry
# runs, requirements-dev.lock adds the tools that test, lint, measure and audit it.
# Serving installs the first only; each install has its own stamp.
define install_lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-virtualenv -r $(1)
	touch $@
endef

$(BIN)/.installed-runtime: requirements.lock
	$(call install_lock,requirements.lock)

# The dev lock holds every pin of the runtime lock (tests/test_dependencies.py), so
# installing it installs the runtime too.
$(BIN)/.installed-dev: requirements.lock requirements-dev.lock
	$(call install_lock,requirements-dev.lock)
	touch $(BIN)/.installed-runtime

install: $(BIN)/.installed-runtime

# The test tools that come from the npm registry (package-lock.json): axe-core, which the
# accessibility audit runs in Chromium. Nothing from node_modules is served.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

install-dev: $(BIN)/.installed-dev node_modules/.installed

# Re-pin after a change to pyproject.toml. Versions already locked are kept (pip-compile
# prefers the pins of its output file); the dev lock is held to the runtime lock's pins.
LOCK_OPTIONS := --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links
lock: install-dev
	$(BIN)/pip-compile $(LOCK_OPTIONS) -o requirements.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_OPTIONS) --extra dev -c requirements.lock \
		-o requirements-dev.lock pyproject.toml

# Both locks against the advisory database (pip-audit; PyPI's, or AUDIT_ARGS="-s osv").
# It needs that database: where it cannot be reached, each package it could not check
# fails the audit (--strict), and the whole run is bounded by AUDIT_SECONDS.
AUDIT_SECONDS ?= 300
AUDIT_ARGS ?=
audit: install-dev
	@for lock in requirements.lock requirements-dev.lock; do \
		echo "== pip-audit $$lock"; \
		timeout $(AUDIT_SECONDS) $(BIN)/pip-audit --strict --no-deps --disable-pip \
			--progress-spinner off --timeout 15 $(AUDIT_ARGS) -r $$lock; status=$$?; \
		if [ $$status -eq 124 ]; then \
			echo "make audit: no answer from the advisory database within $(AUDIT_SECONDS) s;" \
				"run it where pypi.org (or api.osv.dev) is reachable (docs/reliability.md)." >&2; \
			exit 1; \
		elif [ $$status -ne 0 ]; then \
			echo "make audit: $$lock failed: a known vulnerability is listed above, or a" \
				"package could not be checked because the advisory database is unreachable;" \
				"see docs/reliability.md." >&2; \
			exit 1; \
		fi; \
	done

# A local run: DEBUG on unless DEBUG is set, the embedded SQLite file unless DATABASE_URL
# is set, the virtualenv's python.
MANAGE := DEBUG=$${DEBUG:-1} $(BIN)/python manage.py

# The task worker (webhook deliveries, reports/webhooks.py) runs beside the server and
# stops with it: the queue is a table of the same database, so nothing else is needed.
TASK_WORKERS ?= 1
WORKER_OPTIONS := --no-reload --interval 1 --queue-name '*'
define with_task_workers
	pids=""; for i in $$(seq $(TASK_WORKERS)); do $(1) db_worker $(WORKER_OPTIONS) & \
		pids="$$pids $$!"; done; trap 'kill $$pids 2>/dev/null' EXIT INT TERM; $(2)
endef

run: install
	$(MANAGE) migrate --noinput
	$(MANAGE) load_demo
	$(MANAGE) ensure_local_admin
	$(MANAGE) compiletranslations
	$(call with_task_workers,$(MANAGE),$(MANAGE) runserver $(HOST):$(PORT))

# Any management command with the settings `make run` uses, so the commands the README
# and docs/ show work as written on a fresh clone (tests/test_readme_commands.py):
#   make manage ARGS="issue_api_token KIGAM"
# On a server it reads the server's environment as `make serve` does; DEBUG stays on
# unless set, which no command but `check --deploy` notices (docs/deployment.md).
manage: install
	@$(MANAGE) $(ARGS)

# Bring the translation catalogues (locale/*/LC_MESSAGES/django.po) in line with the strings
# marked in the sources, keeping their translations; Babel does it, so no GNU gettext is
# needed. Translate what arrives, then `manage.py compiletranslations` (docs/translation.md).
messages: install-dev
	$(MANAGE) extracttranslations

# Production-style serving: gunicorn and TASK_WORKERS task workers, DEBUG off, whitenoise's compressed and hashed
# static files. Needs SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL in the environment;
# behind plain HTTP (no TLS proxy) also SECURE_SSL_REDIRECT=false.
# The access log leaves out query strings, so an `api_key` parameter is never logged.
serve: install
	$(BIN)/python manage.py compiletranslations
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py migrate --noinput
	$(call with_task_workers,$(BIN)/python manage.py,$(BIN)/gunicorn registry.wsgi \
		--bind $(HOST):$(PORT) --workers $(WORKERS) \
		--max-requests 10000 --max-requests-jitter 1000 --graceful-timeout 20 \
		--access-logfile - --access-logformat '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms')

# Tests need a SECRET_KEY only because settings refuse to start without one when DEBUG is off.
test: install-dev
	SECRET_KEY=$${SECRET_KEY:-insecure-key-for-tests-only} $(BIN)/python -m pytest $(PYTEST_ARGS)

# Speed at 10,000 and 100,000 synthetic deposits against the database's own time
# (docs/performance.md). PostgreSQL: DATABASE_URL, or the local registry_bench (created).
bench: install-dev
	$(BIN)/python -m bench $(BENCH_ARGS)

# The pages' map at 10,000 and 100,000 deposits: its data request and Chromium drawing it
# (on the databases `make bench` made; docs/performance.md, "The map").
bench-map: install-dev
	$(BIN)/python -m bench.map $(BENCH_ARGS)

# Deep pages by offset and by cursor, and single records, timed in process; reads only
# (docs/performance.md, "Deep pages and single features").
bench-paging: install-dev
	$(BIN)/python -m bench.paging $(BENCH_ARGS)

# Throughput of gunicorn over loopback with wrk, against a fixed-JSON floor view.
bench-serve: install-dev
	$(BIN)/python -m bench.serve

# The registry's OGC API - Features against pygeoapi over a PostGIS table of the same
# deposits, with wrk (docs/performance.md, "Against pygeoapi"). Installs what it needs:
# PostGIS and wrk (apt-get), pygeoapi in .bench-peer/venv (bench/peer-requirements.txt).
bench-peer: install-dev
	$(BIN)/python -m bench.peer

# The worker CPU the access record adds to a partner's read (docs/performance.md), on
# DATABASE_URL or the local registry_bench_access (created).
bench-access: install-dev
	$(BIN)/python -m bench.access $(BENCH_ARGS)

# The load test through a PostgreSQL restart, alone (it restarts the local cluster).
reliability: install-dev
	SECRET_KEY=$${SECRET_KEY:-insecure-key-for-tests-only} $(BIN)/python -m pytest tests/test_reliability.py -s

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) node_modules db.sqlite3 test-artifacts
