#!/usr/bin/env bash
# Test servers for the upgrade tests and the real OpenIM 3.8.3, on loopback
# only, not as system services (port: default, and the variable that moves it):
#   MariaDB   13307 OPENIM_TEST_MYSQL_PORT  datadir .cache/services/mariadb
#   Redis     16380 OPENIM_TEST_REDIS_PORT  .cache/services/redis, no persistence, 1000 dbs
#   FerretDB  27018 OPENIM_TEST_MONGO_PORT  test/ferretdb, SQLite in .cache/services/ferretdb
#   etcd      23790 OPENIM_TEST_ETCD_PORT   Debian's etcd-server, .cache/services/etcd
#                   (peer port OPENIM_TEST_ETCD_PEER_PORT, default etcd port + 1)
#   Kafka     29094 OPENIM_TEST_KAFKA_PORT  test/components (kfake, in memory)
#   S3        29005 OPENIM_TEST_S3_PORT     test/components (gofakes3, in memory)
# A test that needs a Kafka with TLS and SASL starts one of its own, on a free
# port, from the same program (OPENIM_TEST_COMPONENTS_BIN, -secure-dir).
# and the real OpenIM 3.8.3 binaries and pristine config (scripts/openim-real.sh;
# OPENIM_TEST_OPENIM_BUILD=0 skips that build and leaves OPENIM_TEST_OPENIM_* unset).
# Usage: scripts/test-services.sh start|stop|status   (idempotent)
# `start` installs mariadb-server, redis-server, etcd-server and etcd-client with apt-get
# when missing (root only) and writes .cache/test-env.sh with the OPENIM_TEST_*
# variables (see the README, "Real OpenIM in tests").
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
base=$root/.cache/services
envfile=$root/.cache/test-env.sh
MYSQL_PORT=${OPENIM_TEST_MYSQL_PORT:-13307}
REDIS_PORT=${OPENIM_TEST_REDIS_PORT:-16380}
MONGO_PORT=${OPENIM_TEST_MONGO_PORT:-27018}
ETCD_PORT=${OPENIM_TEST_ETCD_PORT:-23790}
ETCD_PEER_PORT=${OPENIM_TEST_ETCD_PEER_PORT:-$((ETCD_PORT + 1))}
KAFKA_PORT=${OPENIM_TEST_KAFKA_PORT:-29094}
S3_PORT=${OPENIM_TEST_S3_PORT:-29005}
OPENIM_BUILD=${OPENIM_TEST_OPENIM_BUILD:-1}
# gofakes3 accepts any key; these only have to be consistent.
S3_ACCESS_KEY=openim-test
S3_SECRET_KEY=openim-test-secret

log() { echo "test-services: $*" >&2; }

alive() { # alive PIDFILE
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# running DIR PIDFILE PORT NAME: true when NAME already runs; it must be on
# PORT (DIR/port records the port it was started on), else start fails
# rather than write addresses that point nowhere.
running() {
  alive "$2" || return 1
  local had; had=$(cat "$1/port" 2>/dev/null || echo unknown)
  if [ "$had" != "$3" ]; then
    log "$4 already runs on port $had, not $3: run '$0 stop' first"; exit 1
  fi
}

wait_port() { # wait_port PORT NAME: up to 60 s
  local i
  for i in $(seq 1 120); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.5
  done
  log "$2 did not open port $1 in 60 s"; return 1
}

find_bin() { # first of the names found in PATH or /usr/sbin
  local n
  for n in "$@"; do
    if command -v "$n" >/dev/null 2>&1; then command -v "$n"; return 0; fi
    if [ -x "/usr/sbin/$n" ]; then echo "/usr/sbin/$n"; return 0; fi
  done
  return 1
}

install_pkgs() {
  local need=()
  find_bin mariadbd mysqld >/dev/null || need+=(mariadb-server)
  find_bin redis-server >/dev/null || need+=(redis-server)
  find_bin etcd >/dev/null || need+=(etcd-server)
  command -v etcdctl >/dev/null || need+=(etcd-client) # tests write etcd keys with it
  command -v patch >/dev/null || need+=(patch)
  [ ${#need[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    log "missing ${need[*]} and not root: cannot install"; return 1
  fi
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # No service may start at install time (PID 1 is not systemd here).
  local prc=/usr/sbin/policy-rc.d created=0
  if [ ! -e $prc ]; then printf '#!/bin/sh\nexit 101\n' >$prc; chmod +x $prc; created=1; fi
  local ok=0
  for _ in 1 2 3; do
    if apt-get install -y -q "${need[@]}" >/dev/null 2>"$base/apt.err" ||
       { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${need[@]}" >/dev/null 2>"$base/apt.err"; }; then
      ok=1; break
    fi
    sleep 5 # another apt may hold the lock
  done
  [ $created = 1 ] && rm -f $prc
  [ $ok = 1 ] || { cat "$base/apt.err" >&2; return 1; }
}

start_mariadb() {
  local d=$base/mariadb pid=$base/mariadb/mariadbd.pid
  if running "$d" "$pid" "$MYSQL_PORT" mariadb; then return 0; fi
  mkdir -p "$d"
  echo "$MYSQL_PORT" >"$d/port"
  local bin inst user=()
  bin=$(find_bin mariadbd mysqld)
  inst=$(find_bin mariadb-install-db mysql_install_db)
  [ "$(id -u)" = 0 ] && user=(--user=root)
  if [ ! -d "$d/data/mysql" ]; then
    "$inst" "${user[@]}" --datadir="$d/data" --auth-root-authentication-method=normal \
      --skip-test-db >"$d/install.log" 2>&1 || { cat "$d/install.log" >&2; return 1; }
  fi
  # --skip-grant-tables: any local client has every privilege, no password;
  # it listens on loopback only and lives under .cache.
  nohup "$bin" --no-defaults "${user[@]}" --datadir="$d/data" --socket="$d/mysqld.sock" \
    --pid-file="$pid" --port="$MYSQL_PORT" --bind-address=127.0.0.1 --skip-grant-tables \
    --skip-name-resolve --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 \
    --max-connections=500 --log-error="$d/error.log" >/dev/null 2>&1 &
  wait_port "$MYSQL_PORT" mariadb || { tail -20 "$d/error.log" >&2; return 1; }
}

start_redis() {
  local d=$base/redis pid=$base/redis/redis.pid
  if running "$d" "$pid" "$REDIS_PORT" redis; then return 0; fi
  mkdir -p "$d"
  echo "$REDIS_PORT" >"$d/port"
  "$(find_bin redis-server)" --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes \
    --pidfile "$pid" --dir "$d" --save "" --appendonly no --logfile "$d/redis.log" \
    --databases 1000
  wait_port "$REDIS_PORT" redis
}

start_ferretdb() {
  local d=$base/ferretdb pid=$base/ferretdb/ferretdb.pid bin=$root/.cache/bin/ferretdb-test
  build_ferretdb "$bin" || return 1
  if running "$d" "$pid" "$MONGO_PORT" ferretdb; then
    # A server started from an older build lacks the newer patches.
    [ "$bin" -nt "$pid" ] || return 0
    log "ferretdb was rebuilt: restarting it"
    stop_one "$pid" ferretdb
  fi
  mkdir -p "$d"
  echo "$MONGO_PORT" >"$d/port"
  nohup "$bin" -listen "127.0.0.1:$MONGO_PORT" -dir "$d/data" >"$d/ferretdb.log" 2>&1 &
  echo $! >"$pid"
  wait_port "$MONGO_PORT" ferretdb || { tail -20 "$d/ferretdb.log" >&2; return 1; }
}

start_etcd() {
  local d=$base/etcd pid=$base/etcd/etcd.pid
  if running "$d" "$pid" "$ETCD_PORT" etcd; then return 0; fi
  mkdir -p "$d"
  echo "$ETCD_PORT" >"$d/port"
  # One member, loopback only; OpenIM's services register under the
  # rootDirectory of their deployment's discovery.yml.
  nohup "$(find_bin etcd)" --name openim-test --data-dir "$d/data" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "openim-test=http://127.0.0.1:$ETCD_PEER_PORT" --log-outputs stderr \
    >"$d/etcd.log" 2>&1 &
  echo $! >"$pid"
  wait_port "$ETCD_PORT" etcd || { tail -20 "$d/etcd.log" >&2; return 1; }
}

# build_module DIR BIN: go build the test module DIR into BIN when a source is newer.
build_module() {
  local dir=$1 bin=$2
  mkdir -p "$(dirname "$bin")"
  if [ ! -x "$bin" ] || [ -n "$(find "$dir" -newer "$bin" \( -name '*.go' -o -name go.mod -o -name go.sum \) | head -1)" ]; then
    log "building $dir"
    (cd "$dir" && go build -o "$bin" .)
  fi
}

# build_ferretdb BIN: test/ferretdb against a copy of FerretDB's module source
# under .cache/ferretdb-src with test/ferretdb/patches/*.patch applied (in
# name order), when BIN is missing or older than test/ferretdb.
build_ferretdb() {
  local bin=$1 src=$root/.cache/ferretdb-src mod p
  mkdir -p "$(dirname "$bin")"
  if [ -x "$bin" ] && [ -z "$(find test/ferretdb -newer "$bin" -type f | head -1)" ]; then return 0; fi
  log "building test/ferretdb with $(ls test/ferretdb/patches/*.patch 2>/dev/null | wc -l) patch(es)"
  mod=$(cd test/ferretdb && go mod download -json github.com/FerretDB/FerretDB | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$mod" ] || { log "cannot find FerretDB's module source"; return 1; }
  rm -rf "$src"
  mkdir -p "$src/cmd"
  cp -R "$mod" "$src/FerretDB"
  chmod -R u+w "$src/FerretDB"
  for p in test/ferretdb/patches/*.patch; do
    [ -e "$p" ] || continue
    patch -s -d "$src/FerretDB" -p1 --forward <"$p" || { log "patch $p does not apply"; return 1; }
  done
  cp test/ferretdb/main.go test/ferretdb/go.mod test/ferretdb/go.sum "$src/cmd/"
  (cd "$src/cmd" && go mod edit -replace "github.com/FerretDB/FerretDB=$src/FerretDB" && go build -o "$bin" .)
}

start_components() {
  local d=$base/components pid=$base/components/components.pid bin=$root/.cache/bin/openim-test-components
  build_module test/components "$bin" || return 1
  if running "$d" "$pid" "$KAFKA_PORT,$S3_PORT" components; then
    [ "$bin" -nt "$pid" ] || return 0
    log "components were rebuilt: restarting them"
    stop_one "$pid" components
  fi
  mkdir -p "$d"
  echo "$KAFKA_PORT,$S3_PORT" >"$d/port"
  nohup "$bin" -kafka "127.0.0.1:$KAFKA_PORT" -s3 "127.0.0.1:$S3_PORT" >"$d/components.log" 2>&1 &
  echo $! >"$pid"
  wait_port "$KAFKA_PORT" kafka && wait_port "$S3_PORT" s3 || { tail -20 "$d/components.log" >&2; return 1; }
}

stop_one() { # stop_one PIDFILE NAME
  if alive "$1"; then
    local p; p=$(cat "$1")
    kill "$p" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$p" 2>/dev/null || true
    log "stopped $2"
  fi
  rm -f "$1"
}

case "${1:-}" in
start)
  mkdir -p "$base"
  install_pkgs
  start_mariadb
  start_redis
  start_ferretdb
  start_etcd
  start_components
  openim=""
  if [ "$OPENIM_BUILD" != 0 ]; then openim=$(scripts/openim-real.sh build); fi
  {
    echo "export OPENIM_TEST_MYSQL_DSN='root@tcp(127.0.0.1:$MYSQL_PORT)/'"
    echo "export OPENIM_TEST_REDIS_ADDR='127.0.0.1:$REDIS_PORT'"
    echo "export OPENIM_TEST_MONGO_URI='mongodb://127.0.0.1:$MONGO_PORT/'"
    echo "export OPENIM_TEST_ETCD_ADDR='127.0.0.1:$ETCD_PORT'"
    echo "export OPENIM_TEST_KAFKA_ADDR='127.0.0.1:$KAFKA_PORT'"
    echo "export OPENIM_TEST_S3_ENDPOINT='http://127.0.0.1:$S3_PORT'"
    echo "export OPENIM_TEST_S3_ACCESS_KEY='$S3_ACCESS_KEY'"
    echo "export OPENIM_TEST_S3_SECRET_KEY='$S3_SECRET_KEY'"
    # The same program serves a TLS + SASL Kafka of a test's own (-secure-dir).
    echo "export OPENIM_TEST_COMPONENTS_BIN='$root/.cache/bin/openim-test-components'"
    if [ -n "$openim" ]; then
      echo "export OPENIM_TEST_OPENIM_BIN='$openim/bin'"
      echo "export OPENIM_TEST_OPENIM_CONFIG='$openim/config'"
    fi
  } >"$envfile"
  log "MariaDB :$MYSQL_PORT, Redis :$REDIS_PORT, FerretDB :$MONGO_PORT, etcd :$ETCD_PORT, Kafka :$KAFKA_PORT, S3 :$S3_PORT${openim:+, OpenIM 3.8.3 in $openim}; variables in $envfile"
  ;;
stop)
  stop_one "$base/components/components.pid" components
  stop_one "$base/etcd/etcd.pid" etcd
  stop_one "$base/ferretdb/ferretdb.pid" ferretdb
  stop_one "$base/redis/redis.pid" redis
  stop_one "$base/mariadb/mariadbd.pid" mariadb
  ;;
status)
  for s in mariadb/mariadbd ferretdb/ferretdb redis/redis etcd/etcd components/components; do
    if alive "$base/$s.pid"; then echo "${s%%/*}: running"; else echo "${s%%/*}: stopped"; fi
  done
  ;;
*)
  echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
