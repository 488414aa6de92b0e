#!/usr/bin/env bash
# `openim-supervisor upgrade` as package scripts call it: exit codes of the
# real binary (plan, refusals, confirmation), and the pkgtest step of a
# -tags pkgtest build (OpenIM 3.8.4) that needs no database: a failing step
# exits 6 and is not marked done; the re-run finishes it; `run`'s gate sees it.
# Data migrations against real servers are covered by `go test ./internal/upgrade`.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
check() { # check NAME WANT_EXIT CMD...
  local name=$1 want=$2; shift 2
  local got=0
  "$@" >"$work/out" 2>&1 || got=$?
  if [ "$got" = "$want" ]; then pass=$((pass + 1)); echo "ok   $name (exit $got)"
  else fail=$((fail + 1)); echo "FAIL $name: exit $got, want $want"; sed 's/^/     /' "$work/out"; fi
}
contains() { # contains NAME PATTERN
  if grep -q -- "$2" "$work/out"; then pass=$((pass + 1)); echo "ok   $1"
  else fail=$((fail + 1)); echo "FAIL $1: output lacks '$2'"; sed 's/^/     /' "$work/out"; fi
}

mod=github.com/openim-supervisor/openim-supervisor
go build -o "$work/ois" ./cmd/openim-supervisor
go build -tags pkgtest -ldflags "-X $mod/internal/buildinfo.OpenIMVersion=3.8.4" -o "$work/ois-384" ./cmd/openim-supervisor

mkdir -p "$work"/{bin,log,run,state,openim}
cat >"$work/config.yaml" <<EOT
version: 2
paths:
  binDir: $work/bin
  openimConfigDir: $work/openim
  logDir: $work/log
  runtimeDir: $work/run
  stateDir: $work/state
processes:
  - name: placeholder
    command: /bin/sleep
    args: ["60"]
EOT
c=(--config "$work/config.yaml")

check "plan 3.4 -> 3.8.3" 0 "$work/ois" "${c[@]}" upgrade --from 3.4.2 --plan
contains "plan lists the MySQL step" "3.5.0/mysql-to-mongo"
check "plan 3.7 (package version 3.7.1-1) -> 3.8.3" 0 "$work/ois" "${c[@]}" upgrade --from 3.7.1-1 --plan
contains "plan lists the seq step" "3.8.0/redis-seq-to-mongo"
check "nothing to do for 3.8.3-patch.16" 0 "$work/ois" "${c[@]}" upgrade --from v3.8.3-patch.16 --yes
contains "says nothing to do" "Nothing to do"
rm -rf "$work/state/upgrade"
check "downgrade refused" 5 "$work/ois" "${c[@]}" upgrade --from 3.9.0 --yes
check "OpenIM 2.x refused" 5 "$work/ois" "${c[@]}" upgrade --from 2.3.9 --yes
check "unknown target refused" 5 "$work/ois" "${c[@]}" upgrade --from 3.7.0 --to 3.9.9 --yes
check "no terminal, no --yes" 2 "$work/ois" "${c[@]}" upgrade --from 3.7.0 </dev/null
check "Mongo unreachable: step fails" 6 "$work/ois" "${c[@]}" upgrade --from 3.7.0 --yes --mongo-uri mongodb://127.0.0.1:1/ --lock-timeout 5s
contains "names the re-run command" "re-run: openim-supervisor upgrade"
rm -rf "$work/state/upgrade" "$work/state/backup"

# pkgtest: the 3.8.4 test package's step needs no database.
touch "$work/state/pkgtest-fail"
check "pkgtest step fails while pkgtest-fail exists" 6 "$work/ois-384" "${c[@]}" upgrade --from 3.8.3-1 --yes
contains "failure names the log" "upgrade.log"
rm "$work/state/pkgtest-fail"
check "pkgtest re-run (no --from: state record)" 0 "$work/ois-384" "${c[@]}" upgrade --yes
check "pkgtest third run: nothing to do" 0 "$work/ois-384" "${c[@]}" upgrade --yes
contains "third run says nothing to do" "Nothing to do"
runs=$(wc -l <"$work/state/pkgtest-runs.log")
if [ "$runs" = 2 ]; then pass=$((pass + 1)); echo "ok   pkgtest step ran twice (failed, then done)"
else fail=$((fail + 1)); echo "FAIL pkgtest step ran $runs times, want 2"; fi
check "older binary refused on newer data" 5 "$work/ois" "${c[@]}" upgrade --yes

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
