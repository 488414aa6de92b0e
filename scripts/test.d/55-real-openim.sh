#!/usr/bin/env bash
# The real OpenIM 3.8.3 under `openim-supervisor run` (test/realopenim): the
# 26-instance set on the servers of scripts/test-services.sh, an API smoke
# test through OpenIM's HTTP API (users, friend, group, messages sent and
# read back by seq, also from Mongo), kill -9 of an openim-api and an
# openim-msgtransfer with both back, messages sent meanwhile all stored, the
# whole round again, and no process left at the end (checked in /proc).
# Prints the start -> usable time. About 1 min once OpenIM is built.
# OPENIMTEST_KEEP_LOGS=DIR: on a message failure, copy the deployment (OpenIM's
# logs) to DIR.
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ ! -f .cache/test-env.sh ]; then
  scripts/test-services.sh start || { echo "0 passed, 1 failed"; exit 1; }
fi
# shellcheck disable=SC1091
. .cache/test-env.sh
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -count=1 -v -timeout 20m ./test/realopenim 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
pass=$(grep -c -- '^--- PASS' "$out")
fail=$(grep -c -- '^--- FAIL' "$out")
skip=$(grep -c -- '^--- SKIP' "$out")
[ "$rc" != 0 ] && [ "$fail" = 0 ] && fail=1
echo "$pass passed, $fail failed, $skip skipped"
[ "$rc" = 0 ]
