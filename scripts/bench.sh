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
go build -o bin/openim-supervisor ./cmd/openim-supervisor
go build -o "$out/supervision" ./bench/supervision
# The child every peer runs: pause() forever, static, no shell in between.
printf '#include <unistd.h>\nint main(void) { for (;;) pause(); }\n' >"$out/bench-child.c"
gcc -O2 -static -o "$out/bench-child" "$out/bench-child.c"

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs" >&2
"$out/supervision" -child "$out/bench-child" -openim-supervisor bin/openim-supervisor \
  -markdown "$out/supervision.md" "$@"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "table also in $out/supervision.md" >&2
