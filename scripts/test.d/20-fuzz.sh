#!/usr/bin/env bash
# Short fuzzing runs of the config loader and the config schema migration.
# -fuzzminimizetime keeps minimisation of the large example seed short.
set -uo pipefail
cd "$(dirname "$0")/../.."
pass=0 fail=0
for target in "FuzzParse ./internal/config" "FuzzMigrate ./internal/config/migrate"; do
  set -- $target
  if go test -run '^$' -fuzz "^$1\$" -fuzztime "${FUZZTIME:-20s}" -fuzzminimizetime 5s "$2"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); echo "fuzz $1 FAILED"
  fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" = 0 ]
