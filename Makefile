# Entry points of the registry. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

WORKERS ?= $(shell echo $$(( $$(nproc) * 2 + 1 )))

.PHONY: install run serve test reliability lint format clean bench bench-serve

$(BIN)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-virtualenv -r requirements.lock
	touch $@

install: $(BIN)/.installed

run: install
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py load_demo
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py ensure_local_admin
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py compiletranslations
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production-style serving: gunicorn, DEBUG off, whitenoise's compressed and hashed
# static files. Needs SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL in the environment;
# behind plain HTTP (no TLS proxy) also SECURE_SSL_REDIRECT=false.
# The access log leaves out query strings, so an `api_key` parameter is never logged.
serve: install
	$(BIN)/python manage.py compiletranslations
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/gunicorn registry.wsgi --bind $(HOST):$(PORT) --workers $(WORKERS) \
		--max-requests 10000 --max-requests-jitter 1000 --graceful-timeout 20 \
		--access-logfile - --access-logformat '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'

# Tests need a SECRET_KEY only because settings refuse to start without one when DEBUG is off.
test: install
	SECRET_KEY=$${SECRET_KEY:-insecure-key-for-tests-only} $(BIN)/python -m pytest $(PYTEST_ARGS)

# Speed at 10,000 and 100,000 synthetic deposits against the database's own time
# (docs/performance.md). PostgreSQL: DATABASE_URL, or the local registry_bench (created).
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

# Throughput of gunicorn over loopback with wrk, against a fixed-JSON floor view.
bench-serve: install
	$(BIN)/python -m bench.serve

# The load test through a PostgreSQL restart, alone (it restarts the local cluster).
reliability: install
	SECRET_KEY=$${SECRET_KEY:-insecure-key-for-tests-only} $(BIN)/python -m pytest tests/test_reliability.py -s

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 test-artifacts
