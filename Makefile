# openim-supervisor. The README documents these targets.
SHELL := /bin/bash
.PHONY: all build demo test unit bench packages clean

all: build

build:
	scripts/build.sh

# Set-up and demo: builds everything, runs the supervisor unprivileged on a
# stand-in OpenIM set in a temp dir, shows status, a crash and its restart.
demo:
	scripts/demo.sh

# The whole test suite (what CI runs). Installs what it needs when root.
test:
	scripts/test.sh

# Only the Go unit/integration tests, no system packages, no servers.
unit:
	go test -race -count=1 ./...

# Benchmarks (not part of the tests): supervision vs runit/s6/supervisord,
# migration vs OpenIM's up35.
bench:
	scripts/bench.sh

# deb, rpm, apk, archlinux, Windows zip and macOS tar.gz into dist/.
packages:
	scripts/packages.sh

clean:
	rm -rf bin dist .cache
