#!/usr/bin/env bash
# End-to-end CLI suite: the demo (build, init, run over stand-ins, crash and
# restart, logs, clean stop) and the exit codes a script relies on, run with
# the real binaries. Needs only Go; cleans up after itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/openim-cli-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

check() { # check NAME CMD...: runs CMD and counts the result
  local name=$1; shift
  if "$@"; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"
  fi
}

demo() {
  local t0=$SECONDS
  if ! bash scripts/demo.sh >"$tmp/demo.log" 2>&1; then
    tail -n 40 "$tmp/demo.log"; return 1
  fi
  grep -q "demo: ok" "$tmp/demo.log" || return 1
  grep -q "signal KILL (137)" "$tmp/demo.log" || { echo "no KILL exit shown"; return 1; }
  # Not a terminal: no escape codes (issue 9, item 6).
  if grep -q $'\033' "$tmp/demo.log"; then echo "escape codes in the demo's piped output"; return 1; fi
  echo "     demo took $((SECONDS - t0)) s (including the build)"
}
check "make demo: start, status, crash and restart, logs, clean stop" demo

sup=bin/openim-supervisor

not_running() {
  local out rc=0
  out=$("$sup" status --socket "$tmp/none.sock" 2>&1) || rc=$?
  [ "$rc" = 4 ] || { echo "exit $rc, want 4"; return 1; }
  [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || { echo "more than one line: $out"; return 1; }
  grep -q "is not running (no control socket at $tmp/none.sock); start it with: " <<<"$out" || { echo "$out"; return 1; }
}
check "status without a supervisor: one line, exit 4" not_running

invalid_config() {
  local rc=0 out
  printf 'version: 2\nprocesses:\n  - name: x\n    instances: 0\n    bogus: 1\n' >"$tmp/bad.yaml"
  out=$("$sup" --config "$tmp/bad.yaml" run 2>&1) || rc=$?
  [ "$rc" = 3 ] || { echo "exit $rc, want 3: $out"; return 1; }
  grep -q "$tmp/bad.yaml:" <<<"$out" || { echo "$out"; return 1; }
}
check "run with an invalid config: file:line error, exit 3" invalid_config

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
