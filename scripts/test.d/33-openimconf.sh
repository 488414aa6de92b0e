#!/usr/bin/env bash
# internal/openimconf against OpenIM 3.8.3 itself (test/openimconf, a separate
# Go module that imports OpenIM's config package): the mirror structs have
# OpenIM's keys, nesting and kinds; their `optional` marks match OpenIM's
# shipped files; and decoding a config dir with IMENV_ variables gives the
# values OpenIM's own LoadConfig gives. The first run downloads OpenIM's
# dependencies through the Go module proxy.
set -uo pipefail
cd "$(dirname "$0")/../../test/openimconf"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -count=1 -v ./... >"$out" 2>&1
rc=$?
grep -E '^(--- |=== RUN|ok|FAIL|panic)' "$out" | grep -v '=== RUN' | sed 's/^/  /'
[ $rc = 0 ] || tail -50 "$out"
pass=$(grep -c '^--- PASS' "$out")
fail=$(grep -c '^--- FAIL' "$out")
[ $rc = 0 ] || [ "$fail" -gt 0 ] || fail=1
echo "$pass passed, $fail failed"
[ $rc = 0 ]
