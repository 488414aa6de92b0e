#!/usr/bin/env bash
# Supervision suite with the real binaries (the Go tests of internal/process,
# internal/supervisor, internal/logs and internal/restart run in `go test`):
# the stand-in's contract, no orphan (grandchildren included) within 2 s
# after `run` itself is SIGKILLed (Pdeathsig + the guardian, which is the
# real binary re-executed), and a 300-instance start/stop smoke test that
# prints the supervisor's PSS.
# Needs only Go and /proc (Linux); cleans up after itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/openim-supervision-test.XXXXXX")
sup_pid=
cleanup() {
  if [ -n "$sup_pid" ] && kill -0 "$sup_pid" 2>/dev/null; then kill -KILL "$sup_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

check() { # check NAME CMD...: runs CMD and counts the result
  local name=$1; shift
  if "$@"; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"
  fi
}

if [ "$(uname -s)" != Linux ]; then
  echo "supervision suite needs Linux (/proc, Pdeathsig)"; echo "0 passed, 0 failed"; exit 0
fi

scripts/build.sh >/dev/null
sup=$(pwd)/bin/openim-supervisor
standin=$(pwd)/bin/openim-standin

standin_contract() {
  mkdir -p "$tmp/sc"
  ln -sf "$standin" "$tmp/sc/openim-api"
  ln -sf "$standin" "$tmp/sc/seq"
  printf 'services:\n  openim-api: {ports: [1]}\nfailTools: [seq]\n' >"$tmp/sc/standin.yaml"
  local out rc=0
  out=$("$tmp/sc/openim-api" -h 2>&1) || true
  grep -q "STAND-IN for an OpenIM service" <<<"$out" || { echo "usage does not name it a stand-in: $out"; return 1; }
  out=$("$tmp/sc/openim-api" -i 1 -c "$tmp/sc" 2>&1) || rc=$?
  [ "$rc" = 1 ] && grep -q "index 1 out of range" <<<"$out" || { echo "index past ports: rc=$rc $out"; return 1; }
  rc=0; out=$("$tmp/sc/seq" -c "$tmp/sc" 2>&1) || rc=$?
  [ "$rc" = 1 ] && grep -q "failing as configured" <<<"$out" || { echo "failTools: rc=$rc $out"; return 1; }
  rm "$tmp/sc/standin.yaml"
  out=$("$tmp/sc/seq" -c "$tmp/sc") && grep -q "seq (stand-in): ok" <<<"$out" || { echo "tool mode: $out"; return 1; }
}
check "stand-in: usage, index past ports, tool mode and failTools" standin_contract

# make_config DIR N [ENV]: a config with N instances of one stand-in service.
make_config() {
  local dir=$1 n=$2 env=${3:-"{}"}
  mkdir -p "$dir/bin" "$dir/config"
  cp "$standin" "$dir/bin/openim-push"
  : >"$dir/openim.env"
  chmod 600 "$dir/openim.env" # run refuses an env file others can read
  cat >"$dir/config.yaml" <<YAML
version: 2
paths:
  binDir: $dir/bin
  openimConfigDir: $dir/config
  logDir: $dir/logs
  runtimeDir: $dir/run
  stateDir: $dir/state
envFile: $dir/openim.env
defaults:
  restart: always
  stopSignal: TERM
  stopTimeout: 10s
  ready: {after: 0s, timeout: 1m}
  backoff: {initial: 500ms, max: 30s, stableAfter: 30s, maxFailures: 10, window: 5m, cooldown: 10m}
preStart: []
processes:
  # The stand-in under its own command (same argv as an OpenIM service), so
  # that OpenIM's config checks, which a stand-in set cannot pass at 300
  # instances, do not apply.
  - name: openim-push
    command: $dir/bin/openim-push
    args: [-i, "{index}", -c, $dir/config]
    instances: $n
    env: $env
    ready: {after: 300ms}
log: {target: file, maxSize: 10MiB, maxFiles: 2, buffer: 100}
YAML
}

# wait_running CFG N SECONDS: until status shows N running instances.
wait_running() {
  local cfg=$1 n=$2 end=$((SECONDS + $3))
  until [ "$("$sup" --config "$cfg" status 2>/dev/null | grep -c ' running ')" = "$n" ]; do
    kill -0 "$sup_pid" 2>/dev/null || { echo "supervisor exited"; return 1; }
    [ $SECONDS -lt $end ] || { echo "timed out waiting for $n running"; return 1; }
    sleep 0.1
  done
}

no_orphans_after_sigkill() {
  local d=$tmp/orphan
  make_config "$d" 5 "{STANDIN_GRANDCHILD: '1'}"
  "$sup" --config "$d/config.yaml" run >"$d/sup.log" 2>&1 &
  sup_pid=$!
  wait_running "$d/config.yaml" 5 60 || { tail -n 20 "$d/sup.log"; return 1; }
  local pids
  pids=$("$sup" --config "$d/config.yaml" status --json | grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$' | grep -vx "$sup_pid")
  [ "$(wc -w <<<"$pids")" = 5 ] || { echo "pids: $pids"; return 1; }
  local gcs
  gcs=$(grep -ho 'grandchild pid [0-9]*' "$d"/logs/openim-push.*.log | grep -o '[0-9]*$')
  [ "$(wc -w <<<"$gcs")" = 5 ] || { echo "grandchildren: $gcs"; return 1; }
  [ -s "$d/state/children.json" ] || { echo "no children.json"; return 1; }
  pgrep -f "^$sup -test.run" >/dev/null || { echo "no guardian process"; return 1; }
  local t0 p left
  t0=$(date +%s%N)
  kill -KILL "$sup_pid"
  wait "$sup_pid" 2>/dev/null || true
  sup_pid=
  # Until every child and grandchild is gone (or a zombie nobody reaps), at
  # most 2 s.
  while :; do
    left=""
    for p in $pids $gcs; do
      if [ -e "/proc/$p" ] && ! grep -q ') Z ' "/proc/$p/stat" 2>/dev/null; then left="$left $p"; fi
    done
    [ -n "$left" ] && [ $(($(date +%s%N) - t0)) -lt 2000000000 ] || break
    sleep 0.05
  done
  if [ -n "$left" ]; then
    echo "alive 2 s after the supervisor was SIGKILLed:$left (children: $(echo $pids); grandchildren: $(echo $gcs))"
    for p in $left; do
      echo "  pid $p: stat: $(cat "/proc/$p/stat" 2>&1); cmdline: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>&1)"
    done
    echo "  guardian: $(pgrep -af "^$sup -test.run" || echo gone)"
    echo "  supervisor's log:"; tail -n 30 "$d/sup.log"
    return 1
  fi
  echo "     every child and grandchild gone $((($(date +%s%N) - t0) / 1000000)) ms after the SIGKILL"
  grep -q "guardian: the supervisor is gone; killed pid" "$d/sup.log" || { echo "the guardian said nothing"; return 1; }
}
check "no orphan, grandchildren included, 2 s after 'run' is SIGKILLed" no_orphans_after_sigkill

scale_smoke() {
  local d=$tmp/scale n=300
  make_config "$d" $n
  local t0 t1
  t0=$(date +%s%N)
  "$sup" --config "$d/config.yaml" run >"$d/sup.log" 2>&1 &
  sup_pid=$!
  wait_running "$d/config.yaml" $n 120 || { tail -n 20 "$d/sup.log"; return 1; }
  t1=$(date +%s%N)
  sleep 2
  local pss
  pss=$(awk '/^Pss:/ {print $2}' "/proc/$sup_pid/smaps_rollup")
  local t2 t3
  t2=$(date +%s%N)
  kill -TERM "$sup_pid"
  wait "$sup_pid" || { echo "run exited non-zero on SIGTERM"; tail -n 20 "$d/sup.log"; return 1; }
  sup_pid=
  t3=$(date +%s%N)
  echo "     N=$n: start-all (as seen by status polling) $(((t1 - t0) / 1000000)) ms, supervisor PSS ${pss} kB, stop-all $(((t3 - t2) / 1000000)) ms"
  [ "$(grep -c . "$d/logs/openim-push.299.log")" -ge 1 ] || { echo "no output captured for the last instance"; return 1; }
  pgrep -f "$d/bin/openim-push" >/dev/null && { echo "children left after stop"; return 1; }
  return 0
}
check "300 instances: start all, capture output, stop all" scale_smoke

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
