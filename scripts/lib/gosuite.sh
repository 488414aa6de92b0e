# shellcheck shell=bash
# gosuite.sh: a suite that is one `go test -v` run. Source it, then
#
#   go_suite DIR SHOW -- GO_TEST_ARGS...
#
# runs `go test -count=1 -v GO_TEST_ARGS` in DIR, prints the output lines
# matching the extended regex SHOW (all of them when SHOW is empty; the last
# 50 lines too when it fails), then "N passed, N failed, N skipped" from
# the top-level and subtest results, and returns go test's status (a failed
# build counts as one failure).
go_suite() {
	local dir=$1 show=$2 out rc pass fail skip
	shift 3
	out=$(mktemp)
	(cd "$dir" && go test -count=1 -v "$@") >"$out" 2>&1
	rc=$?
	if [ -n "$show" ]; then grep -E "$show" "$out"; else cat "$out"; fi
	[ $rc = 0 ] || [ -z "$show" ] || tail -50 "$out"
	pass=$(grep -cE -- '^\s*--- PASS' "$out")
	fail=$(grep -cE -- '^\s*--- FAIL' "$out")
	skip=$(grep -cE -- '^\s*--- SKIP' "$out")
	rm -f "$out"
	[ $rc = 0 ] || [ "$fail" -gt 0 ] || fail=1
	echo "$pass passed, $fail failed, $skip skipped"
	return $rc
}

# with_test_env: the variables of scripts/test-services.sh, starting the
# servers when they are not running.
with_test_env() {
	if [ ! -f .cache/test-env.sh ]; then
		scripts/test-services.sh start || return 1
	fi
	# shellcheck disable=SC1091
	. .cache/test-env.sh
}
