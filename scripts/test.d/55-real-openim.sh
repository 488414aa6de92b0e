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
. scripts/lib/gosuite.sh
with_test_env || { echo "0 passed, 1 failed"; exit 1; }
go_suite . '' -- -timeout 20m ./test/realopenim
