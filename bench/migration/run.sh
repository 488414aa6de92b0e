#!/usr/bin/env bash
# Migration benchmark (not part of `make test`): seeds ROWS users and ROWS
# group_members in MariaDB and migrates them to MongoDB (FerretDB) with the
# real openim-supervisor binary and with a faithful re-implementation of
# OpenIM's up35, side by side; prints a markdown table (rows/s, peak RSS).
#   ROWS=1000000 UP35_ROWS=0 bench/migration/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/test-services.sh start
# shellcheck disable=SC1091
. .cache/test-env.sh
out=.cache/bench-migration
mkdir -p "$out"
go build -o "$out/openim-supervisor" ./cmd/openim-supervisor
go build -o "$out/migration-bench" ./bench/migration
exec "$out/migration-bench" -rows "${ROWS:-1000000}" -up35-rows "${UP35_ROWS:-0}" -bin "$out/openim-supervisor"
