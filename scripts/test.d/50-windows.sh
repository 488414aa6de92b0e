#!/usr/bin/env bash
# Windows service under wine: openim-supervisor.exe service install, start,
# status, control over the named pipe, stop, uninstall, and the recovery
# actions. Needs root (installs wine64 and mingw from Debian) unless they are
# already there. Prints "N passed, N failed" last.
#
# wine facts this relies on (../shared/facts/packaging.md):
# - Go >= 1.22 executables import ProcessPrng from bcryptprimitives.dll, which
#   wine 8 lacks: test/windows/processprng.c is built into the prefix.
# - wine runs services in session 1, so `run --service` enters the service
#   dispatcher itself (svc.IsWindowsService reports false there).
# - wine's SCM accepts SERVICE_CONFIG_FAILURE_ACTIONS but does not store it
#   (services.exe logs "fixme: ... not implemented: period N"), and cannot
#   query it back: the recovery check reads that log line; the values set are
#   covered by internal/service's unit test of the kardianos config.
# - wine's service manager restarts auto-start services on the next wine
#   command: the state is checked right after stopping.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

passed=0
failed=0
skipped=0
ok() { passed=$((passed + 1)); echo "PASS: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
finish() {
  [ "$skipped" -eq 0 ] || echo "$skipped skipped (reasons above)"
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

strict=${OPENIM_TEST_STRICT:-}
[ "${CI:-}" = "true" ] && strict=1

need_pkgs=()
command -v wine >/dev/null || need_pkgs+=(wine64 wine)
command -v x86_64-w64-mingw32-gcc >/dev/null || need_pkgs+=(gcc-mingw-w64-x86-64-win32)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    if [ -n "$strict" ]; then bad "needs root to install ${need_pkgs[*]}"; finish; exit 1; fi
    echo "SKIP: not root and ${need_pkgs[*]} missing"; echo "0 passed, 0 failed"; exit 0
  fi
  echo "installing ${need_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "${need_pkgs[@]}" >/dev/null
fi

tmp=$(mktemp -d /tmp/openim-wine.XXXXXX)
export WINEPREFIX=$tmp/prefix WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
cleanup() {
  timeout 30 wineserver -k >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# w: every wine command with a bound; stdin closed (CI has none). Output goes
# through a file, never a pipe: wine may start helpers (winedevice.exe) that
# inherit the pipe and keep a $(...) waiting forever.
w() {
  local rc=0
  timeout -k 10 "${WTIMEOUT:-90}" wine "$@" </dev/null >"$tmp/w.out" 2>&1 || rc=$?
  cat "$tmp/w.out"
  return $rc
}

echo "== prefix and binaries"
t0=$SECONDS
timeout 300 wineboot -i </dev/null >/dev/null 2>&1 || { bad "wineboot -i"; finish; exit 1; }
sys32=$WINEPREFIX/drive_c/windows/system32
app=$WINEPREFIX/drive_c/openim
mkdir -p "$app/bin" "$app/config" "$app/logs" "$app/run" "$app/state"
if ! x86_64-w64-mingw32-gcc -shared -O2 -o "$sys32/bcryptprimitives.dll" \
  test/windows/processprng.c test/windows/processprng.def -ladvapi32 ||
  ! GOOS=windows GOARCH=amd64 go build -o "$app/openim-supervisor.exe" ./cmd/openim-supervisor ||
  ! GOOS=windows GOARCH=amd64 go build -o "$app/bin/openim-push.exe" ./cmd/openim-standin; then
  bad "build of the DLL or the Windows executables"; finish; exit 1
fi
echo "prefix and builds in $((SECONDS - t0)) s"

sup() { w 'C:\openim\openim-supervisor.exe' --config 'C:\openim\config.yaml' "$@"; }

cat >"$app/config.yaml" <<'EOF'
version: 2
paths:
  binDir: 'C:\openim\bin'
  openimConfigDir: 'C:\openim\config'
  logDir: 'C:\openim\logs'
  runtimeDir: 'C:\openim\run'
  stateDir: 'C:\openim\state'
defaults:
  stopTimeout: 5s
  ready:
    after: 0s
preStart: []
processes:
  - name: openim-push
    command: 'C:\openim\bin\openim-push.exe'
    args: [-i, '{index}', -c, 'C:\openim\config']
    instances: 2
log:
  target: file
EOF
: >"$app/openim.env"

if out=$(sup --version 2>&1); then ok "openim-supervisor.exe runs under wine ($out)"; else bad "openim-supervisor.exe --version: $out"; fi

# Count the stand-ins wine runs (their Unix command lines name the .exe).
standins() { ps -eo args | grep -c '[o]penim-push.exe' || true; }

echo "== service install"
# A fresh wineserver whose services.exe logs FIXMEs of the service RPCs to
# install.err, so the failure-actions request can be seen.
timeout 30 wineserver -k >/dev/null 2>&1 || true
if WINEDEBUG=fixme+service timeout -k 10 90 wine 'C:\openim\openim-supervisor.exe' --config 'C:\openim\config.yaml' \
  service install </dev/null >"$tmp/install.out" 2>"$tmp/install.err"; then
  ok "service install: $(head -1 "$tmp/install.out")"
else
  bad "service install: $(cat "$tmp/install.out" "$tmp/install.err" | grep -v fixme | tail -3)"
fi
img=$(w reg query 'HKLM\System\CurrentControlSet\Services\openim-server' /v ImagePath 2>/dev/null | tr -d '\r' || true)
if grep -q 'openim-supervisor.exe run --service --config C:\\openim\\config.yaml' <<<"$img"; then
  ok "registered command line: run --service --config C:\\openim\\config.yaml"
else
  bad "service ImagePath: $img"
fi
start=$(w reg query 'HKLM\System\CurrentControlSet\Services\openim-server' /v Start 2>/dev/null | tr -d '\r' || true)
if grep -q '0x2' <<<"$start"; then ok "start type automatic"; else bad "start type: $start"; fi
if grep -q 'SERVICE_CONFIG_FAILURE_ACTIONS not implemented: period 86400' "$tmp/install.err"; then
  ok "recovery actions (restart, reset 86400 s) sent to the SCM (wine logs and drops them)"
else
  bad "no failure-actions request seen by wine's SCM: $(grep -i failure "$tmp/install.err" | head -3)"
fi
if out=$(sup service install 2>&1); then
  grep -q unchanged <<<"$out" && ok "install again: unchanged" || bad "install again: $out"
else
  bad "install again failed: $out"
fi
# another registration (a config that exists, so the pre-install checks pass)
cp "$app/config.yaml" "$WINEPREFIX/drive_c/other.yaml"
if out=$(w 'C:\openim\openim-supervisor.exe' --config 'C:\other.yaml' service install 2>&1); then
  bad "install with another config succeeded: $out"
else
  grep -q 'already installed' <<<"$out" && ok "install with another config refused" || bad "install with another config: $out"
fi

echo "== service start"
if out=$(WTIMEOUT=120 sup service start --timeout 90s 2>&1); then ok "service start"; else bad "service start: $out"; fi
if out=$(sup service status 2>&1) && grep -q ': running' <<<"$out"; then
  ok "service status: $out"
else
  bad "service status after start: $out"
fi
# The supervisor starts the stand-ins; wait for both (bounded).
for _ in $(seq 1 60); do [ "$(standins)" -ge 2 ] && break; sleep 0.5; done
n=$(standins)
if [ "$n" -eq 2 ]; then ok "2 stand-in instances running under the service"; else bad "$n stand-ins running, want 2"; fi
# Known wine 8 limitation: a go-winio named pipe connects but every write on
# it times out, even client and server in one minimal program; so the control
# commands cannot be exercised here. That exact failure is a skip, any other
# failure is a failure.
if out=$(sup status --timeout 5s 2>&1); then
  if grep -q 'openim-push' <<<"$out"; then ok "status over the named pipe lists the instances"; else bad "status output: $out"; fi
elif grep -q 'send request on .*deadline exceeded' <<<"$out"; then
  skipped=$((skipped + 1))
  echo "SKIP: status over the named pipe: writes on go-winio pipes time out under wine 8 ($(tail -1 <<<"$out"))"
else
  bad "status over the named pipe: $out"
fi

echo "== service stop"
if out=$(WTIMEOUT=120 sup service stop --timeout 90s 2>&1); then ok "service stop"; else bad "service stop: $out"; fi
# Right after stopping (see the header).
out=$(sup service status 2>&1 || true)
if grep -q ': stopped' <<<"$out"; then ok "service status after stop: stopped"; else bad "service status after stop: $out"; fi
for _ in $(seq 1 20); do [ "$(standins)" -eq 0 ] && break; sleep 0.5; done
n=$(standins)
if [ "$n" -eq 0 ]; then ok "no stand-in left after stop"; else bad "$n stand-ins left after stop"; fi

echo "== service uninstall"
if out=$(sup service uninstall 2>&1); then ok "service uninstall"; else bad "service uninstall: $out"; fi
out=$(sup service status 2>&1 || true)
if grep -q 'not-installed' <<<"$out"; then ok "service status after uninstall: not-installed"; else bad "status after uninstall: $out"; fi

# run --service outside the SCM must fail, not hang.
rc=0; out=$(WTIMEOUT=30 sup run --service 2>&1) || rc=$?
case $rc in
  0) bad "run --service outside the service manager succeeded: $out" ;;
  124) bad "run --service outside the service manager hangs" ;;
  *) ok "run --service outside the service manager fails (exit $rc): $(tail -1 <<<"$out")" ;;
esac

echo "total $((SECONDS)) s"
finish
