#!/usr/bin/env bash
# The whole test suite: static checks, Go tests (with real MariaDB, Redis and a
# MongoDB-protocol server), then every suite in scripts/test.d/ in order.
# Run as root on a fresh machine it installs what it needs (Debian packages,
# Go modules). Non-root runs skip what needs root unless OPENIM_TEST_STRICT=1.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export PATH="$PATH:/usr/local/go/bin"
export PATH="$PATH:$(go env GOPATH)/bin"
if [ "${CI:-}" = "true" ]; then export OPENIM_TEST_STRICT=1; fi
# goreleaser: its config loader on .goreleaser.yaml always; the full snapshot release (15 OpenIM programs for
# 5 targets, about half an hour on 2 cores) only with GORELEASER_CHECK_ONLY=0.
export GORELEASER_CHECK_ONLY=${GORELEASER_CHECK_ONLY:-1}
# The suites install Debian packages as they need them; fresh package lists first
# (a new machine may have none or old ones).
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq -o DPkg::Lock::Timeout=600 || echo "warning: apt-get update failed" >&2
fi

failed=()
passed=0
step() { # step NAME CMD...: runs CMD, records the result
  local name=$1; shift
  echo "=== $name"
  local t0=$SECONDS
  if "$@"; then
    passed=$((passed + 1)); echo "=== $name: ok ($((SECONDS - t0)) s)"
  else
    failed+=("$name"); echo "=== $name: FAILED ($((SECONDS - t0)) s)"
  fi
}

static_checks() {
  local out
  out=$(gofmt -l $(git ls-files '*.go')) || return 1
  if [ -n "$out" ]; then echo "gofmt would change:"; echo "$out"; return 1; fi
  # vet with -race: the packages are compiled once, in the mode the race
  # tests below reuse from the build cache. Windows and macOS: what ships
  # there (cmd, internal, migrations; not the packaging and test tools,
  # whose dependencies would double the cold compile).
  local shipped=(./cmd/... ./internal/... ./migrations/...)
  go vet -race ./... && GOOS=windows go vet "${shipped[@]}" && GOOS=darwin go build "${shipped[@]}"
}

services_started=0
if [ -x scripts/test-services.sh ]; then
  if scripts/test-services.sh start; then
    services_started=1
    # shellcheck disable=SC1091
    [ -f .cache/test-env.sh ] && . .cache/test-env.sh
  else
    failed+=("test-services start")
  fi
fi

step "static checks (gofmt, go vet -race linux, go vet windows, darwin build)" static_checks
# test/realopenim and test/upgradeopenim run the real OpenIM 3.8.3; their own
# suites (55-real-openim, 57-upgrade-openim) run them once, without -race and
# without other packages' tests competing for the 2 cores.
race_pkgs() { go list ./... | grep -v -e '/test/realopenim$' -e '/test/upgradeopenim$'; }
step "go test -race ./... (real-OpenIM suites later)" go test -race -count=1 -timeout 25m $(race_pkgs)

for suite in scripts/test.d/*.sh; do
  [ -e "$suite" ] || continue
  step "$(basename "$suite")" bash "$suite"
done

[ $services_started = 1 ] && scripts/test-services.sh stop

# Last: no suite may have installed anything of ours on this machine (tests
# install packages only into containers and temp roots).
step "nothing of openim-server on the host" scripts/lib/host-clean.sh

echo
echo "suites: ${passed} passed, ${#failed[@]} failed"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
