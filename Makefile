# haproxy-rs: the two commands of the README, plus checks and benchmarks.
CARGO ?= $(shell command -v cargo 2>/dev/null || echo $(HOME)/.cargo/bin/cargo)
BIN := target/release/haproxy-rs

.PHONY: all build run test deps check bench clean

all: build

build:
	@bash contrib/install-deps.sh build
	$(CARGO) build --release

# Starts haproxy-rs in the foreground on the example config (Ctrl-C stops it).
run: build
	$(BIN) -db -f haproxy-rs.cfg.example

# Installs what the tests need (HAProxy 2.6 is the reference for some checks),
# then runs every unit and integration test on 127.0.0.1.
deps:
	@bash contrib/install-deps.sh build
	@bash contrib/install-deps.sh test

test: deps
	$(CARGO) test --release --no-fail-fast -- --test-threads=2

check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

bench: build
	bash benches/run.sh

clean:
	$(CARGO) clean
