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
. scripts/lib/gosuite.sh
with_test_env || { echo "0 passed, 1 failed"; exit 1; }
go_suite . '^\s*(---|===|ok|FAIL|panic)|upgrade_test.go' -- -timeout 25m ./test/upgradeopenim
