#!/usr/bin/env bash
# The migration judged by the real OpenIM 3.8.3 (test/upgradeopenim): an
# OpenIM 3.4 MySQL dataset of awkward values and 3.7 seqs in Redis, the real
# `openim-supervisor upgrade --from 3.4.0`, the real OpenIM 3.8.3 started on
# the result under `openim-supervisor run`, and users, friend lists (with
# order), blacklists, friend and group requests, groups and members,
# conversations and seqs read back through OpenIM's HTTP API and compared
# field by field with the source rows.
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ ! -f .cache/test-env.sh ]; then
  scripts/test-services.sh start || { echo "0 passed, 1 failed"; exit 1; }
fi
# shellcheck disable=SC1091
. .cache/test-env.sh
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -count=1 -v -timeout 25m ./test/upgradeopenim 2>&1 | tee "$out" | grep -E '^\s*(---|===|ok|FAIL|panic)|upgrade_test.go'
rc=${PIPESTATUS[0]}
pass=$(grep -c -- '--- PASS' "$out")
fail=$(grep -c -- '--- FAIL' "$out")
skip=$(grep -c -- '--- SKIP' "$out")
[ "$rc" != 0 ] && [ "$fail" = 0 ] && fail=1
echo "$pass passed, $fail failed, $skip skipped"
[ "$rc" = 0 ]
