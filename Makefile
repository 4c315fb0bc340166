# The project's commands. `make test` is what CI runs (.ci/run); it installs what it
# needs on a fresh Debian machine with the Rust toolchain.

CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: test deps fmt lint unit run dev bench clean

## Every check: formatting, lints, and every test of the workspace.
test: deps fmt lint unit

## Tools the checks need (rustfmt and clippy ship with the toolchain).
deps:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (rustup) first"; exit 1; }
	@$(CARGO) fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@$(CARGO) clippy --version >/dev/null 2>&1 || rustup component add clippy

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

unit:
	$(CARGO) test --workspace --locked

## Start the app on the embedded default (SQLite in ./lb_data, http://127.0.0.1:8090).
run:
	$(CARGO) run --release -- serve

## Start the app and restart it whenever a source, template or migration changes.
dev:
	@command -v watchexec >/dev/null || $(CARGO) install watchexec-cli --locked
	watchexec --restart --watch crates --watch migrations --watch templates --watch admin-ui \
		--exts rs,sql,html,css,js,toml -- $(CARGO) run -- serve --dev

## Benchmarks (release builds); each prints a table.
bench:
	$(CARGO) bench -p litebase --bench group_commit

clean:
	$(CARGO) clean
