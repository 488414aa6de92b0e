#!/usr/bin/env bash
# The migrations judged by OpenIM 3.8.3's own code (test/openimmodels, a
# module of its own so OpenIM's dependencies stay out of the supervisor):
# our model mirror equals OpenIM's types field by field, our index files
# create exactly the indexes OpenIM's constructors create, and every document
# a real 3.4 -> 3.8.3 upgrade writes decodes into OpenIM's real model types.
# Needs the test servers (scripts/test-services.sh; scripts/test.sh starts them).
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${OPENIM_TEST_MONGO_URI:-}" ] && [ -f .cache/test-env.sh ]; then
  # shellcheck disable=SC1091
  . .cache/test-env.sh
fi
pass=0 fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
(cd test/openimmodels && go test -count=1 -v ./...) >"$out" 2>&1
rc=$?
pass=$(grep -c '^--- PASS' "$out")
fail=$(grep -c '^--- FAIL' "$out")
grep -E '^(--- |ok|FAIL|panic)' "$out"
if [ "$rc" != 0 ] && [ "$fail" = 0 ]; then
  fail=1
  tail -30 "$out"
elif [ "$fail" != 0 ]; then
  grep -v '^\s*models_test.go:[0-9]*: time=\|^\s*log_test.go' "$out" | tail -60
fi
echo "$pass passed, $fail failed"
[ "$rc" = 0 ] && [ "$fail" = 0 ]
