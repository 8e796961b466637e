# The README's two commands: `make run` (the dashboard, on demo data without credentials)
# and `make test` (the whole suite). Each runs `make setup` first, which is idempotent.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
CHROMIUM := /usr/bin/chromium
REDIS_SERVER := /usr/bin/redis-server
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ARGS ?=

.PHONY: setup run test lint screenshot soak soak-redis chromium redis-server assets clean

setup: $(VENV)/.installed chromium redis-server assets

$(VENV)/.installed: requirements.txt pyproject.toml
	@$(PYTHON) -c "import ensurepip" 2>/dev/null || { \
	  echo "Installing Debian's python3-venv"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv >/dev/null; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

chromium:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Debian's chromium (browser tests use $(CHROMIUM))"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@test -x $(CHROMIUM) || { echo "error: $(CHROMIUM) is missing after install" >&2; exit 1; }

# The shared read cache's tests start Debian's redis-server on a free port (never as a service).
redis-server:
	@test -x $(REDIS_SERVER) || { \
	  echo "Installing Debian's redis-server (the shared-cache tests start $(REDIS_SERVER))"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq redis-server >/dev/null; }
	@test -x $(REDIS_SERVER) || { echo "error: $(REDIS_SERVER) is missing after install" >&2; exit 1; }

assets:
	@cd static/vendor && sha256sum --check --quiet SHA256SUMS

run: setup
	$(BIN)/dashboard serve $(ARGS)

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest $(ARGS)

screenshot: setup
	$(BIN)/python scripts/screenshot.py

# The soak test: gunicorn as the Procfile runs it, 50 + 10 viewers for 60 s; writes docs/RELIABILITY.md.
soak: setup
	$(BIN)/python scripts/soak.py $(ARGS)

# The shared cache under load: one instance without Redis, then two behind one Redis (and Redis
# stopped for 20 s mid-run); writes its section of docs/RELIABILITY.md.
soak-redis: setup
	$(BIN)/python scripts/soak_redis.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
