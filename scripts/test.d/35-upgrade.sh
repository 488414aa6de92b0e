#!/usr/bin/env bash
# `openim-supervisor upgrade` as package scripts call it: exit codes of the
# real binary (plan, refusals, confirmation), and the pkgtest step of a
# -tags pkgtest build (OpenIM 3.8.4) that needs no database: a failing step
# exits 6 and is not marked done; the re-run finishes it; `run`'s gate sees it.
# Data migrations against real servers are covered by `go test ./internal/upgrade`.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
check() { # check NAME WANT_EXIT CMD...
  local name=$1 want=$2; shift 2
  local got=0
  "$@" >"$work/out" 2>&1 || got=$?
  if [ "$got" = "$want" ]; then pass=$((pass + 1)); echo "ok   $name (exit $got)"
  else fail=$((fail + 1)); echo "FAIL $name: exit $got, want $want"; sed 's/^/     /' "$work/out"; fi
}
contains() { # contains NAME PATTERN
  if grep -q -- "$2" "$work/out"; then pass=$((pass + 1)); echo "ok   $1"
  else fail=$((fail + 1)); echo "FAIL $1: output lacks '$2'"; sed 's/^/     /' "$work/out"; fi
}

mod=github.com/openim-supervisor/openim-supervisor
go build -o "$work/ois" ./cmd/openim-supervisor
go build -tags pkgtest -ldflags "-X $mod/internal/buildinfo.OpenIMVersion=3.8.4" -o "$work/ois-384" ./cmd/openim-supervisor

mkdir -p "$work"/{bin,log,run,state,openim}
cat >"$work/config.yaml" <<EOT
version: 2
paths:
  binDir: $work/bin
  openimConfigDir: $work/openim
  logDir: $work/log
  runtimeDir: $work/run
  stateDir: $work/state
processes:
  - name: placeholder
    command: /bin/sleep
    args: ["60"]
EOT
c=(--config "$work/config.yaml")

check "plan 3.4 -> 3.8.3" 0 "$work/ois" "${c[@]}" upgrade --from 3.4.2 --plan
contains "plan lists the MySQL step" "3.5.0/mysql-to-mongo"
check "plan 3.7 (package version 3.7.1-1) -> 3.8.3" 0 "$work/ois" "${c[@]}" upgrade --from 3.7.1-1 --plan
contains "plan lists the seq step" "3.8.0/redis-seq-to-mongo"
check "nothing to do for 3.8.3-patch.16" 0 "$work/ois" "${c[@]}" upgrade --from v3.8.3-patch.16 --yes
contains "says nothing to do" "Nothing to do"
rm -rf "$work/state/upgrade"
check "downgrade refused" 5 "$work/ois" "${c[@]}" upgrade --from 3.9.0 --yes
check "OpenIM 2.x refused" 5 "$work/ois" "${c[@]}" upgrade --from 2.3.9 --yes
check "unknown target refused" 5 "$work/ois" "${c[@]}" upgrade --from 3.7.0 --to 3.9.9 --yes
check "no terminal, no --yes" 2 "$work/ois" "${c[@]}" upgrade --from 3.7.0 </dev/null
check "Mongo unreachable: step fails" 6 "$work/ois" "${c[@]}" upgrade --from 3.7.0 --yes --mongo-uri mongodb://127.0.0.1:1/ --lock-timeout 5s
contains "names the re-run command" "re-run: openim-supervisor upgrade"
rm -rf "$work/state/upgrade" "$work/state/backup"

# pkgtest: the 3.8.4 test package's step needs no database. That build also
# bumps our config schema (as a future release would), so it gets the config
# migrated the way its postinst does; the state dir stays shared.
for384() { # for384 NAME: NAME.yaml copied to NAME-384.yaml in the pkgtest build's schema
  cp "$work/$1.yaml" "$work/$1-384.yaml"
  check "pkgtest build migrates $1.yaml's schema" 0 "$work/ois-384" --config "$work/$1-384.yaml" config migrate
}
for384 config
c384=(--config "$work/config-384.yaml")
touch "$work/state/pkgtest-fail"
check "pkgtest step fails while pkgtest-fail exists" 6 "$work/ois-384" "${c384[@]}" upgrade --from 3.8.3-1 --yes
contains "failure names the log" "upgrade.log"
rm "$work/state/pkgtest-fail"
check "pkgtest re-run (no --from: state record)" 0 "$work/ois-384" "${c384[@]}" upgrade --yes
check "pkgtest third run: nothing to do" 0 "$work/ois-384" "${c384[@]}" upgrade --yes
contains "third run says nothing to do" "Nothing to do"
runs=$(wc -l <"$work/state/pkgtest-runs.log")
if [ "$runs" = 2 ]; then pass=$((pass + 1)); echo "ok   pkgtest step ran twice (failed, then done)"
else fail=$((fail + 1)); echo "FAIL pkgtest step ran $runs times, want 2"; fi
check "older binary refused on newer data" 5 "$work/ois" "${c[@]}" upgrade --yes

# upgrade.log holds the whole failed run, not just milestones.
log=$work/state/upgrade/upgrade.log
cp "$log" "$work/out"
contains "upgrade.log: run header" "===== upgrade .* pid="
contains "upgrade.log: the plan" "3.8.4/pkgtest"
contains "upgrade.log: step start" 'msg="step start" step=3.8.4/pkgtest'
contains "upgrade.log: the failure's cause" "pkgtest-fail exists"
contains "upgrade.log: the outcome" "upgrade failed: step 3.8.4/pkgtest failed"
contains "upgrade.log: the summary" "Summary:"

# --plan needs only the database connections: no supervisor config at all,
# or one whose OpenIM binaries are not installed yet.
check "plan without a supervisor config" 0 "$work/ois" --config "$work/absent.yaml" upgrade --plan --from 3.7.0
contains "plan without config lists the seq step" "3.8.0/redis-seq-to-mongo"
sed -e "s#^processes:#preStart:\n  - name: check-free-memory\nprocesses:#" -e "s#command: /bin/sleep#command: $work/bin/absent#" \
  "$work/config.yaml" >"$work/nobin.yaml"
check "config check fails: binaries absent" 3 "$work/ois" --config "$work/nobin.yaml" config check
check "plan with the OpenIM binaries absent" 0 "$work/ois" --config "$work/nobin.yaml" upgrade --plan --from 3.4.2 --state-dir "$work/plan-state"
contains "plan lists data steps with their kind" "3.5.0/mysql-to-mongo  *data"

# A running supervisor: upgrade refuses with the command to run, or stops
# OpenIM through the control socket with --stop-openim.
mkdir -p "$work/sup"/{run,state,log}
sed -e "s#runtimeDir: .*#runtimeDir: $work/sup/run#" -e "s#stateDir: .*#stateDir: $work/sup/state#" \
  -e "s#logDir: .*#logDir: $work/sup/log#" "$work/config.yaml" >"$work/sup.yaml"
for384 sup
"$work/ois" --config "$work/sup.yaml" run >"$work/sup/run.out" 2>&1 &
sup=$!
for _ in $(seq 100); do "$work/ois" --config "$work/sup.yaml" status >/dev/null 2>&1 && break; sleep 0.1; done
check "upgrade refused while OpenIM runs" 5 "$work/ois-384" --config "$work/sup-384.yaml" upgrade --from 3.8.3-1 --yes
contains "refusal names the command" "openim-supervisor stop all"
check "upgrade --stop-openim stops OpenIM and runs" 0 "$work/ois-384" --config "$work/sup-384.yaml" upgrade --from 3.8.3-1 --yes --stop-openim
contains "says OpenIM stays stopped" "stays stopped"
check "status after the upgrade (stopped: not up, exit 10)" 10 "$work/ois" --config "$work/sup.yaml" status
contains "placeholder is stopped" "placeholder  *0  *-  *stopped"
kill "$sup" 2>/dev/null; wait "$sup" 2>/dev/null

# run's version gate on an unmigrated OpenIM 3.7 dataset (test servers).
if [ -z "${OPENIM_TEST_REDIS_ADDR:-}" ] && [ -f .cache/test-env.sh ]; then . .cache/test-env.sh; fi
if [ -n "${OPENIM_TEST_REDIS_ADDR:-}" ] && [ -n "${OPENIM_TEST_MONGO_URI:-}" ]; then
  mkdir -p "$work/g37"/{run,state,log,openim}
  rdb=$((RANDOM % 900 + 50)) mdb="gate37_$RANDOM"
  printf 'uri: %s\ndatabase: %s\n' "$OPENIM_TEST_MONGO_URI" "$mdb" >"$work/g37/openim/mongodb.yml"
  printf 'address: [%s]\ndb: %s\n' "$OPENIM_TEST_REDIS_ADDR" "$rdb" >"$work/g37/openim/redis.yml"
  redis-cli -h "${OPENIM_TEST_REDIS_ADDR%:*}" -p "${OPENIM_TEST_REDIS_ADDR#*:}" -n "$rdb" SET MAX_SEQ:si_a_b 42 >/dev/null
  sed -e "s#runtimeDir: .*#runtimeDir: $work/g37/run#" -e "s#stateDir: .*#stateDir: $work/g37/state#" \
    -e "s#logDir: .*#logDir: $work/g37/log#" -e "s#openimConfigDir: .*#openimConfigDir: $work/g37/openim#" \
    "$work/config.yaml" >"$work/g37.yaml"
  check "run refuses an unmigrated 3.7 dataset" 5 timeout 60 "$work/ois" --config "$work/g37.yaml" run
  contains "gate names the upgrade command" "run .openim-supervisor upgrade. first"
  contains "gate names the seq key" "MAX_SEQ:si_a_b"
  check "upgrade the 3.7 dataset" 0 "$work/ois" --config "$work/g37.yaml" upgrade --from 3.7.1 --yes
  "$work/ois" --config "$work/g37.yaml" run >"$work/g37/run.out" 2>&1 &
  sup=$!
  ok=0
  for _ in $(seq 100); do "$work/ois" --config "$work/g37.yaml" status >/dev/null 2>&1 && { ok=1; break; }; sleep 0.1; done
  if [ $ok = 1 ]; then pass=$((pass + 1)); echo "ok   run starts after the upgrade"
  else fail=$((fail + 1)); echo "FAIL run does not start after the upgrade"; sed 's/^/     /' "$work/g37/run.out"; fi
  kill "$sup" 2>/dev/null; wait "$sup" 2>/dev/null
  redis-cli -h "${OPENIM_TEST_REDIS_ADDR%:*}" -p "${OPENIM_TEST_REDIS_ADDR#*:}" -n "$rdb" FLUSHDB >/dev/null
elif [ "${OPENIM_TEST_STRICT:-}" = 1 ]; then
  fail=$((fail + 1)); echo "FAIL gate test: test servers not configured (scripts/test-services.sh start)"
else
  echo "skip gate test: test servers not configured"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
