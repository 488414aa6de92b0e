#!/usr/bin/env bash
# OpenIM's own config dir through the real binary: `config import` of a real
# OpenIM 3.4 config (--plan writes nothing; secrets only in the env file),
# `run`/`config check` refusing a dir of another OpenIM version (exit 12, the
# migrate command), and `upgrade` to the -tags pkgtest build (OpenIM 3.8.4,
# whose files add keys, rename share.yml imAdminUserID and change a default):
# edits kept, new keys added, the renamed key carried, .new only for the true
# conflict, the dir stamped 3.8.4, the conflict listed by `config check`.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -f "$work/out" ] && sed 's/^/     /' "$work/out"; }
run() { # run NAME WANT_EXIT CMD...
  local name=$1 want=$2 got=0; shift 2
  "$@" >"$work/out" 2>&1 || got=$?
  if [ "$got" = "$want" ]; then ok "$name (exit $got)"; else bad "$name: exit $got, want $want"; fi
}
has() { if grep -qF -- "$2" "$work/out"; then ok "$1"; else bad "$1: output lacks '$2'"; fi; }
hasnt() { if grep -qF -- "$2" "$work/out"; then bad "$1: output has '$2'"; else ok "$1"; fi; }
val() { sed -n "s/^$2: *//p" "$1" | head -1; }

mod=github.com/openim-supervisor/openim-supervisor
go build -o "$work/ois" ./cmd/openim-supervisor
go build -tags pkgtest -ldflags "-X $mod/internal/buildinfo.OpenIMVersion=3.8.4" -o "$work/ois-384" ./cmd/openim-supervisor

# A root as `init --root` makes it, with stub OpenIM binaries.
setup() { # setup DIR
  "$work/ois" init --config "$1/etc/config.yaml" --root "$1" --force >/dev/null
  for b in openim-api openim-rpc-auth openim-rpc-user openim-rpc-friend openim-rpc-group openim-rpc-conversation \
    openim-rpc-third openim-rpc-msg openim-push openim-msgtransfer openim-msggateway openim-crontask \
    check-free-memory check-component seq; do printf '#!/bin/sh\n' >"$1/bin/$b"; chmod +x "$1/bin/$b"; done
}

echo "== config import (OpenIM 3.4.0's config.yaml, edited by an operator)"
r=$work/imp
setup "$r"
rm -rf "$r/config"
src=internal/openimconf/importer/testdata/3.4.0/config/config.yaml
c=(--config "$r/etc/config.yaml")
run "import --plan" 0 "$work/ois" "${c[@]}" config import --from "$src" --plan
has "plan: the api port" "api.ports                    [10102]"
has "plan: MySQL has no place" "config.yaml:48 mysql.address = [172.28.0.1:13306]"
has "plan: secret masked" "IMENV_SHARE_SECRET=****"
hasnt "plan: no secret value" "tiger#34"
if [ -e "$r/config" ]; then bad "--plan wrote $r/config"; else ok "--plan wrote nothing"; fi
run "import" 0 "$work/ois" "${c[@]}" config import --from "$src" --etcd 127.0.0.1:12379
if grep -rqF "tiger#34" "$r/config"; then bad "the secret is in a yml file"; else ok "the secret is not in the yml files"; fi
if grep -qF "IMENV_SHARE_SECRET='tiger#34 secret'" "$r/etc/openim.env"; then ok "the secret is in the env file"; else bad "env file: $(cat "$r/etc/openim.env")"; fi
[ "$(stat -c %a "$r/etc/openim.env")" = 600 ] && ok "the env file kept its mode 0600" || bad "env file mode $(stat -c %a "$r/etc/openim.env")"
# The supervisor's ports: must follow OpenIM's imported api port.
sed -i 's/ports: \[10002\]/ports: [10102]/' "$r/etc/config.yaml"
run "config check on the imported dir" 0 "$work/ois" "${c[@]}" config check
has "checked against OpenIM 3.8.3" "OK for OpenIM 3.8.3"
run "import again without --force refused" 1 "$work/ois" "${c[@]}" config import --from "$src"
has "says why" "already holds OpenIM config files"

echo "== a dir of another OpenIM version"
# The 3.8.4 build reads supervisor schema 3: a migrated copy of the config.
cp "$r/etc/config.yaml" "$r/etc/config384.yaml"
"$work/ois-384" --config "$r/etc/config384.yaml" config migrate >/dev/null
c384=(--config "$r/etc/config384.yaml")
run "run with the 3.8.4 binary on a 3.8.3 dir" 12 "$work/ois-384" "${c384[@]}" run
has "names the command" "openim-supervisor config upgrade --config $r/etc/config384.yaml"
run "config check too" 12 "$work/ois-384" "${c384[@]}" config check

echo "== upgrade to the 3.8.4 test build: three-way merge"
u=$work/up
setup "$u"
c=(--config "$u/etc/config.yaml")
conf=$u/config
sed -i 's/^secret: openIM123/secret: operator-secret/; s/^imAdminUserID: \[ imAdmin \]/imAdminUserID: [ ops1, ops2 ]/' "$conf/share.yml"
sed -i 's/  compressionLevel: 0/  compressionLevel: 2/' "$conf/openim-api.yml"
cp "$u/etc/config.yaml" "$u/etc/config-v2.yaml"
run "the 3.8.4 build's supervisor schema (as the package scripts do)" 0 "$work/ois-384" "${c[@]}" config migrate
run "upgrade --plan lists the config step with the data steps" 0 "$work/ois-384" "${c[@]}" upgrade --from 3.8.3 --plan
has "config step in the plan" "3.8.4/openim-config"
has "with its rename" "share.yml imAdminUserID -> imAdminUser.userIDs"
run "config upgrade --plan shows the merge" 0 "$work/ois-384" "${c[@]}" config upgrade --from 3.8.3 --plan
has "the rename" "moved share.yml: imAdminUserID -> imAdminUser.userIDs"
has "the conflict" "conflict openim-api.yml:7: api.compressionLevel"
if [ "$(tail -n 2 "$conf/openim-version" | tail -1)" = 3.8.3 ]; then ok "--plan left the stamp"; else bad "stamp changed by --plan"; fi
run "upgrade" 0 "$work/ois-384" "${c[@]}" upgrade --from 3.8.3 --yes
[ "$(val "$conf/share.yml" secret)" = operator-secret ] && ok "edit kept: share.yml secret" || bad "secret: $(val "$conf/share.yml" secret)"
grep -qF "userIDs: [ops1, ops2]" "$conf/share.yml" && ok "renamed key carried: imAdminUser.userIDs = [ops1, ops2]" || bad "share.yml: $(cat "$conf/share.yml")"
grep -q "^imAdminUserID" "$conf/share.yml" && bad "the old key is still there" || ok "the old key imAdminUserID is gone"
grep -qF "nicknames: [superAdmin]" "$conf/share.yml" && ok "new key added: imAdminUser.nicknames" || bad "no nicknames"
grep -qF "requestMaxBodySize: 8388608" "$conf/share.yml" && ok "new section added: rpcMaxBodySize" || bad "no rpcMaxBodySize"
grep -qF "compressionLevel: 2" "$conf/openim-api.yml" && ok "true conflict: yours kept" || bad "compressionLevel lost"
[ -f "$conf/openim-api.yml.new" ] && ok "true conflict: openim-api.yml.new written" || bad "no .new"
n=$(ls "$conf"/*.new 2>/dev/null | wc -l)
[ "$n" = 1 ] && ok ".new only for the conflict ($n file)" || bad "$n .new files"
[ "$(tail -n 1 "$conf/openim-version")" = 3.8.4 ] && ok "stamped 3.8.4" || bad "stamp $(tail -n 1 "$conf/openim-version")"
run "config check after the upgrade" 0 "$work/ois-384" "${c[@]}" config check
has "reports the conflict" "openim-api.yml.new: an upgrade kept your value"
run "config upgrade again: nothing to merge" 0 "$work/ois-384" "${c[@]}" config upgrade
has "nothing to merge" "at OpenIM 3.8.4, nothing to merge"
run "config check with the 3.8.3 binary on the 3.8.4 dir refused" 12 "$work/ois" --config "$u/etc/config-v2.yaml" config check
has "a downgrade" "install the openim-supervisor that ships OpenIM 3.8.4"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
