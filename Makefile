# The two commands of the README: `make demo` and `make test`. Each sets itself up on a fresh machine.
PY      ?= python3.11
VENV    ?= .venv
BIN     := $(VENV)/bin
# The product alone is what `make demo` needs (no compiler, no system packages); the test extras come on top for
# `make test`, bench, lint and reliability (mysqlclient among them compiles against BUILD_PACKAGES).
STAMP      := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
BUILD_PACKAGES  := libmariadb-dev pkg-config
SYSTEM_PACKAGES := mariadb-server postgresql chromium $(BUILD_PACKAGES)

.PHONY: demo test setup setup-demo system-packages apt-install bench bench-quick lint clean reliability

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(BUILD_PACKAGES)"
	$(BIN)/pip install -q -e '.[test]'
	touch $(TEST_STAMP)

setup-demo: $(STAMP)

setup: $(TEST_STAMP)

# Test-time system packages (MariaDB for the source tests, PostgreSQL for the ledger tests on both dialects,
# Chromium for the browser test), when missing.
system-packages:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(SYSTEM_PACKAGES)"

# Installs the Debian packages named in PACKAGES that are missing (root, else sudo).
apt-install:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

demo: $(STAMP)
	$(BIN)/bkntc-sms demo

# One pytest-xdist worker per CPU (at most 4), each taking whole test files: a file's servers, ports (each worker
# probes its own share of a file's range) and module fixtures stay in one process.
test: system-packages $(TEST_STAMP)
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile

lint: $(TEST_STAMP)
	$(BIN)/ruff check orchestration console tests bench

bench: system-packages $(TEST_STAMP)
	$(BIN)/python -m bench.run_all

bench-quick: $(TEST_STAMP)
	$(BIN)/python -m bench.run_all --quick

# The reliability suite, then RELIABILITY.md from the figures it wrote, stamped with the commit it measured (taken
# before the run: HEAD, "dirty" when sender/gateway/simulator code had uncommitted changes), the date and the machine.
# Old figures are removed first, so the report holds only this run's; a failing suite leaves RELIABILITY.md as it was.
# The contention load lasts at least $BKNTC_RELIABILITY_SECONDS (default here 60; 0: just until its counts are met).
# BKNTC_RELIABILITY_FULL=1 runs every scenario at the size the report describes (`make test` runs smaller ones).
reliability: system-packages $(TEST_STAMP)
	rm -rf test-artifacts/reliability
	@stamp=$$($(BIN)/python -m tests.reliability.report --print-stamp) && \
	  BKNTC_RELIABILITY_FULL=1 BKNTC_RELIABILITY_SECONDS=$${BKNTC_RELIABILITY_SECONDS:-60} \
	    $(BIN)/python -m pytest tests/reliability -p no:cacheprovider && \
	  $(BIN)/python -m tests.reliability.report --stamp "$$stamp"

clean:
	rm -rf .bkntc-sms test-artifacts
