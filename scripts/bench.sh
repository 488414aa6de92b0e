#!/usr/bin/env bash
# Supervision benchmark (`make bench`; not part of the tests): openim-supervisor
# against runit, s6 and supervisord (Debian packages), N = 10, 100, 1000
# children of one tiny static program, all peers in one run. Prints a
# markdown table with ours/peer ratios; bench/README.md explains the metrics.
# Run as root on Debian (installs runit, s6, supervisor and gcc). Extra
# arguments go to the harness, e.g. `scripts/bench.sh -n 10,100 -kills 20`.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

if [ "$(id -u)" -ne 0 ]; then
  echo "bench.sh: run as root (installs Debian packages, runs 3000+ processes)" >&2
  exit 1
fi
pkgs=()
command -v runsvdir >/dev/null || pkgs+=(runit)
command -v s6-svscan >/dev/null || pkgs+=(s6)
command -v supervisord >/dev/null || pkgs+=(supervisor)
command -v gcc >/dev/null || pkgs+=(gcc libc6-dev)
if [ ${#pkgs[@]} -gt 0 ]; then
  # runit alone: not runit-init/runit-systemd (they would replace init).
  apt-get update -qq -o DPkg::Lock::Timeout=600 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "${pkgs[@]}"
fi

out=$repo/.cache/bench
mkdir -p "$out" bin
# As packaged (scripts/packages.sh): static, stripped. A build with cgo and
# debug info starts a few ms slower, which users never run.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o bin/openim-supervisor ./cmd/openim-supervisor
go build -o "$out/supervision" ./bench/supervision
# The child every peer runs: pause() forever, static, no shell in between.
printf '#include <unistd.h>\nint main(void) { for (;;) pause(); }\n' >"$out/bench-child.c"
gcc -O2 -static -o "$out/bench-child" "$out/bench-child.c"
# The flood child: waits for SIGUSR1, writes argv[1] bytes of 100-byte lines
# in 64 KiB writes, then pauses; "0" only pauses (the victim).
cat >"$out/flood-child.c" <<'C'
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static volatile sig_atomic_t go;
static void on(int s) { (void)s; go = 1; }
int main(int argc, char **argv) {
  long long left = argc > 1 ? atoll(argv[1]) : 0;
  static char buf[65500];
  if (left > 0) {
    signal(SIGUSR1, on);
    for (int i = 0; i < 655; i++) { memset(buf + i * 100, 'F', 99); buf[i * 100 + 99] = '\n'; }
    while (!go) pause();
    while (left > 0) {
      long n = left < (long long)sizeof buf ? (long)left : (long)sizeof buf;
      for (long off = 0; off < n;) { ssize_t w = write(1, buf + off, n - off); if (w <= 0) return 1; off += w; }
      left -= n;
    }
  }
  for (;;) pause();
}
C
gcc -O2 -static -o "$out/flood-child" "$out/flood-child.c"

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs" >&2
"$out/supervision" -child "$out/bench-child" -flood "$out/flood-child" -openim-supervisor bin/openim-supervisor \
  -markdown "$out/supervision.md" "$@"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# Start to usable for the real OpenIM 3.8.3 set (26 instances) on the
# servers of scripts/test-services.sh (started here when .cache/test-env.sh
# is missing; set OPENIM_TEST_*_PORT to move them), under `run` with the
# shipped config and under OpenIM's own `mage start`. BENCH_OPENIM=0 skips it.
if [ "${BENCH_OPENIM:-1}" != 0 ]; then
  [ -f .cache/test-env.sh ] || scripts/test-services.sh start >&2
  # shellcheck disable=SC1091
  . .cache/test-env.sh
  runs=${BENCH_OPENIM_RUNS:-3}
  go test -count=1 -run '^$' -bench StartToUsable -benchtime 1x -count "$runs" -timeout 40m ./test/realopenim \
    >"$out/openim-start.txt" 2>&1 || { tail -40 "$out/openim-start.txt" >&2; exit 1; }
  # table STARTER METRIC: "each run | median" of METRIC for sub-benchmark STARTER.
  table() {
    awk -v b="$1" -v metric="$2" '
      $1 ~ "^BenchmarkStartToUsable/" b "-[0-9]+$" {
        for (i = 2; i < NF; i++) { if ($(i+1) == metric) u[n++] = $i; if ($(i+1) == "s-mage-returned") r = r (r ? ", " : "") $i }
      }
      END {
        if (n == 0) { printf "did not run (see openim-start.txt) | | "; exit }
        line = ""; for (i = 0; i < n; i++) { line = line (i ? ", " : "") u[i]; v[i] = u[i] + 0 }
        for (i = 1; i < n; i++) for (j = i; j > 0 && v[j-1] > v[j]; j--) { t = v[j]; v[j] = v[j-1]; v[j-1] = t }
        printf "%s | %.2f | %s", line, v[int((n - 1) / 2)], (r ? r : "(runs until stopped)")
      }' "$out/openim-start.txt"
  }
  # med STARTER METRIC: the median of METRIC over the runs of STARTER.
  med() {
    awk -v b="$1" -v metric="$2" '
      $1 ~ "^BenchmarkStartToUsable/" b "-[0-9]+$" { for (i = 2; i < NF; i++) if ($(i+1) == metric) v[n++] = $i + 0 }
      END {
        if (n == 0) { printf "-"; exit }
        for (i = 1; i < n; i++) for (j = i; j > 0 && v[j-1] > v[j]; j--) { t = v[j]; v[j] = v[j-1]; v[j-1] = t }
        printf "%g", v[int((n - 1) / 2)]
      }' "$out/openim-start.txt"
  }
  name() { [ "$1" = mage-start ] && echo "OpenIM's mage start (no readiness)" || echo "openim-supervisor run, shipped config"; }
  {
    printf '\nThe real OpenIM 3.8.3 set (26 instances), start to usable (openim-api serves a request through every RPC service), every component up, %s runs\n\n' "$runs"
    printf '| starter | start to usable (s), each run | median | starter returned (s) | every instance ready, READY=1 (s), median |\n|---|---|---|---|---|\n'
    for b in openim-supervisor mage-start; do
      printf '| %s | %s | %s |\n' "$(name $b)" "$(table $b s-to-usable)" "$(med $b s-to-all-ready)"
    done
    printf '\nWhat OpenIM itself did by the moment it was usable (every component up; medians of the runs above; from /proc): its CPU time and the sockets it held. OpenIM 3.8.3'"'"'s etcd discovery dials every registered service again whenever one registers, so both grow with the services already running at each registration.\n\n'
    printf '| starter | instances running | OpenIM CPU time (s) | sockets | the starter'"'"'s own CPU time (s) |\n|---|---|---|---|---|\n'
    for b in openim-supervisor mage-start; do
      printf '| %s | %s | %s | %s | %s |\n' "$(name $b)" "$(med $b instances)" "$(med $b cpu-s-openim)" "$(med $b sockets)" "$(med $b cpu-s-supervisor)"
    done
    printf '\nThe same, with one component (the slowest) reachable only 3 s after the start: from that moment to usable, %s runs\n\n' "$runs"
    printf '| late component | starter | reachable to usable (s), each run | median | starter returned (s) | reachable to every instance ready (s), median |\n|---|---|---|---|---|---|\n'
    for c in redis kafka; do
      for b in openim-supervisor mage-start; do
        printf '| %s | %s | %s | %s |\n' "$c" "$(name $b)" "$(table $b-$c-late s-after-component)" "$(med $b-$c-late s-all-ready-after-component)"
      done
    done
  } | tee -a "$out/supervision.md"
fi
echo "table also in $out/supervision.md" >&2
