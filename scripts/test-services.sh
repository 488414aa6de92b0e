#!/usr/bin/env bash
# Test servers for the upgrade tests, on loopback only, not as system services:
#   MariaDB   127.0.0.1:13307  (datadir .cache/services/mariadb)
#   Redis     127.0.0.1:16380  (dir .cache/services/redis, no persistence)
#   FerretDB  127.0.0.1:27018  (test/ferretdb built with go build, SQLite in .cache/services/ferretdb)
# Usage: scripts/test-services.sh start|stop|status   (idempotent)
# `start` installs mariadb-server and redis-server with apt-get when missing
# (root only) and writes .cache/test-env.sh with the OPENIM_TEST_* variables.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
base=$root/.cache/services
envfile=$root/.cache/test-env.sh
MYSQL_PORT=${OPENIM_TEST_MYSQL_PORT:-13307}
REDIS_PORT=${OPENIM_TEST_REDIS_PORT:-16380}
MONGO_PORT=${OPENIM_TEST_MONGO_PORT:-27018}

log() { echo "test-services: $*" >&2; }

alive() { # alive PIDFILE
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
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
  if alive "$pid"; then return 0; fi
  mkdir -p "$d"
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
  if alive "$pid"; then return 0; fi
  mkdir -p "$d"
  "$(find_bin redis-server)" --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes \
    --pidfile "$pid" --dir "$d" --save "" --appendonly no --logfile "$d/redis.log" \
    --databases 1000
  wait_port "$REDIS_PORT" redis
}

start_ferretdb() {
  local d=$base/ferretdb pid=$base/ferretdb/ferretdb.pid bin=$root/.cache/bin/ferretdb-test
  if alive "$pid"; then return 0; fi
  mkdir -p "$d" "$(dirname "$bin")"
  if [ ! -x "$bin" ] || [ -n "$(find test/ferretdb -newer "$bin" -name '*.go' -o -newer "$bin" -name go.mod | head -1)" ]; then
    log "building test/ferretdb"
    (cd test/ferretdb && go build -o "$bin" .)
  fi
  nohup "$bin" -listen "127.0.0.1:$MONGO_PORT" -dir "$d/data" >"$d/ferretdb.log" 2>&1 &
  echo $! >"$pid"
  wait_port "$MONGO_PORT" ferretdb || { tail -20 "$d/ferretdb.log" >&2; return 1; }
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
  cat >"$envfile" <<EOT
export OPENIM_TEST_MYSQL_DSN='root@tcp(127.0.0.1:$MYSQL_PORT)/'
export OPENIM_TEST_REDIS_ADDR='127.0.0.1:$REDIS_PORT'
export OPENIM_TEST_MONGO_URI='mongodb://127.0.0.1:$MONGO_PORT/'
EOT
  log "MariaDB :$MYSQL_PORT, Redis :$REDIS_PORT, FerretDB :$MONGO_PORT; variables in $envfile"
  ;;
stop)
  stop_one "$base/ferretdb/ferretdb.pid" ferretdb
  stop_one "$base/redis/redis.pid" redis
  stop_one "$base/mariadb/mariadbd.pid" mariadb
  ;;
status)
  for s in mariadb/mariadbd ferretdb/ferretdb redis/redis; do
    if alive "$base/$s.pid"; then echo "${s%%/*}: running"; else echo "${s%%/*}: stopped"; fi
  done
  ;;
*)
  echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
