#!/usr/bin/env bash
# make demo: builds openim-supervisor and the stand-in, writes a config into a
# temporary directory with `init --root`, and runs the supervisor unprivileged
# over a STAND-IN OpenIM process set (cmd/openim-standin, not OpenIM): status
# table, a crash (kill -9 of a push instance) and its restart, logs, clean stop.
# Needs only Go. DEMO_KEEP=1 leaves the supervisor running in the foreground
# (Ctrl-C stops it). Exits non-zero when any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

# Bold headings only on a terminal, and not with NO_COLOR set (no-color.org).
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-dumb}" != dumb ]; then
  step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
else
  step() { printf '\n==> %s\n' "$*"; }
fi
die() {
  echo "demo: FAILED: $*" >&2
  if [ -n "${sup_pid:-}" ] && kill -0 "$sup_pid" 2>/dev/null; then
    echo "--- status:" >&2; ctl status >&2 || true
  fi
  [ -n "${sup_log:-}" ] && [ -f "$sup_log" ] && { echo "--- supervisor log:" >&2; tail -n 30 "$sup_log" >&2; }
  exit 1
}

step "build"
scripts/build.sh
sup="$repo/bin/openim-supervisor"
standin="$repo/bin/openim-standin"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/openim-demo.XXXXXX")
sup_pid=
cleanup() {
  if [ -n "$sup_pid" ] && kill -0 "$sup_pid" 2>/dev/null; then
    kill -TERM "$sup_pid" 2>/dev/null || true
    wait "$sup_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
cfg="$tmp/config.yaml"
sup_log="$tmp/supervisor.log"
ctl() { "$sup" --config "$cfg" "$@"; }

step "openim-supervisor init --root $tmp"
ctl init --root "$tmp" --force || die "init"
if [ ! -f "$cfg" ]; then # init may have put it elsewhere under the root
  cfg=$(find "$tmp" -name config.yaml -print -quit)
  [ -n "$cfg" ] || die "init wrote no config.yaml under $tmp"
fi
yaml_path() { # yaml_path KEY: a path from the generated config's paths section
  sed -n "s/^  $1: *'\{0,1\}\([^' #]*\)'\{0,1\}.*/\1/p" "$cfg" | head -n1
}
bin_dir=$(yaml_path binDir)
conf_dir=$(yaml_path openimConfigDir)
[ -n "$bin_dir" ] && [ -n "$conf_dir" ] || die "cannot read binDir/openimConfigDir from $cfg"
mkdir -p "$bin_dir" "$conf_dir"

# The stand-in plays every OpenIM service and pre-start tool by its file name.
services=(openim-api openim-rpc-auth openim-rpc-user openim-rpc-friend openim-rpc-group
  openim-rpc-conversation openim-rpc-third openim-rpc-msg openim-push openim-msgtransfer
  openim-msggateway openim-crontask)
for name in "${services[@]}" check-free-memory check-component seq; do
  cp "$standin" "$bin_dir/$name"
done

# Free loopback ports for the two services that listen (api, msggateway).
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() { local p=$1; while ! port_free "$p"; do p=$((p + 1)); done; echo "$p"; }
api_port=$(pick_port 10002)
gw_port=$(pick_port 11001)
sed -i.bak -e "s/ports: \[10002\]/ports: [$api_port]/" -e "s/ports: \[10001\]/ports: [$gw_port]/" \
  -e "s/^    after: 2s/    after: 500ms/" "$cfg" && rm -f "$cfg.bak"
cat > "$conf_dir/standin.yaml" <<YAML
# Ports of the stand-in services (this demo only).
services:
  openim-api: {ports: [$api_port]}
  openim-msggateway: {ports: [$gw_port]}
YAML
# OpenIM's own config must name the same ports: an operator overrides them
# in the env file (IMENV_<FILE>_<KEY>, as OpenIM reads them).
cat >> "$(dirname "$cfg")/openim.env" <<ENV
IMENV_OPENIM_API_API_PORTS=$api_port
IMENV_OPENIM_MSGGATEWAY_LONGCONNSVR_PORTS=$gw_port
ENV
ctl config check || die "config check"
# The stand-ins keep no data: record that the data is at the shipped OpenIM
# version, as `upgrade` does on a real installation, so that run's data gate
# does not wait for a MongoDB the demo does not have.
ctl upgrade --from "$(ctl --version | sed -n 's/.*(OpenIM \([^)]*\)).*/\1/p')" --yes >/dev/null || die "upgrade (record the data version)"

step "openim-supervisor run (in the background; its log: $sup_log)"
"$sup" --config "$cfg" run >"$sup_log" 2>&1 &  # the binary itself, so $! is its pid
sup_pid=$!

# wait_for DESC SECONDS CMD...: re-runs CMD every 0.2 s until it succeeds.
wait_for() {
  local desc=$1 secs=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    kill -0 "$sup_pid" 2>/dev/null || die "the supervisor exited while waiting for $desc"
    [ $SECONDS -lt $end ] || die "timed out after ${secs}s waiting for $desc"
    sleep 0.2
  done
}
all_running() { ctl status | awk 'NR>1 && NF>=7 {n++; if ($4=="running") r++} END {exit !(n>0 && n==r)}'; }
wait_for "every instance to be running" 40 all_running

step "openim-supervisor status"
ctl status || die "status"

row() { { ctl status || true; } | awk -v n="$1" -v i="$2" '$1==n && $2==i'; }
victim=$(row openim-push 3)
old_pid=$(awk '{print $3}' <<<"$victim")
[ -n "$old_pid" ] && [ "$old_pid" != "-" ] || die "no pid for openim-push:3"

step "crash openim-push:3: kill -9 $old_pid"
kill -9 "$old_pid"
restarted() { local r; r=$(row openim-push 3); [ "$(awk '{print $4}' <<<"$r")" = running ] && [ "$(awk '{print $3}' <<<"$r")" != "$old_pid" ] && [ "$(awk '{print $6}' <<<"$r")" = 1 ]; }
wait_for "openim-push:3 to be restarted" 20 restarted

step "openim-supervisor status (openim-push:3: new pid, 1 restart, last exit signal KILL)"
ctl status || die "status"
new_row=$(row openim-push 3)
echo
echo "openim-push:3 was pid $old_pid, now pid $(awk '{print $3}' <<<"$new_row"), restarts $(awk '{print $6}' <<<"$new_row")"

step "openim-supervisor logs openim-api -n 5"
ctl logs openim-api -n 5 || die "logs"

if [ "${DEMO_KEEP:-}" = 1 ]; then
  step "DEMO_KEEP=1: the supervisor keeps running (Ctrl-C stops it)"
  cat <<EOT
Try, in another terminal:
  $sup --config $cfg status
  $sup --config $cfg restart --rolling openim-push
  $sup --config $cfg logs openim-push -f
  kill -HUP $sup_pid     # reload $cfg
Its own log: $sup_log
EOT
  trap 'kill -TERM "$sup_pid" 2>/dev/null || true' INT TERM
  wait "$sup_pid" || true
  wait "$sup_pid" 2>/dev/null || true
  echo "stopped"
  exit 0
fi

step "stop the supervisor (SIGTERM: every process stops in reverse order)"
kill -TERM "$sup_pid"
rc=0
wait "$sup_pid" || rc=$?
sup_pid=
[ "$rc" = 0 ] || die "the supervisor exited with $rc after SIGTERM"
tail -n 3 "$sup_log"
ctl status >/dev/null 2>&1 && die "status still answers after the stop"
left=$(pgrep -f "$bin_dir/" || true)
[ -z "$left" ] || die "processes left behind: $left"
echo
echo "demo: ok (the supervisor exited 0; nothing left running)"
