#!/usr/bin/env bash
# The real OpenIM 3.8.3, built once and shared by every test and by
# scripts/packages.sh (linux/amd64):
#   .cache/openim/3.8.3/bin/     its 12 services and 3 pre-start tools
#                                (build/openim, CGO_ENABLED=0, -trimpath -s -w, host arch)
#   .cache/openim/3.8.3/config/  OpenIM's pristine config/ from the module zip
# Rebuilt only when build/openim/go.mod or go.sum change (their sha256 is
# kept in .cache/openim/3.8.3/stamp) or a file is missing.
#
# Usage: scripts/openim-real.sh build    build if needed; prints the dir
#        scripts/openim-real.sh dir      prints the dir (no build)
#        scripts/openim-real.sh check    exit 0 when the cache is complete and current
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

OPENIM_VERSION=3.8.3
OPENIM_MOD=github.com/openimsdk/open-im-server/v3
CACHE=$ROOT/.cache/openim/$OPENIM_VERSION
SERVICES="openim-api openim-crontask openim-msggateway openim-msgtransfer openim-push
  openim-rpc-auth openim-rpc-conversation openim-rpc-friend openim-rpc-group
  openim-rpc-msg openim-rpc-third openim-rpc-user"
TOOLS="check-free-memory check-component seq"

log() { echo "openim-real: $*" >&2; }

stamp() { cat build/openim/go.mod build/openim/go.sum | sha256sum | cut -d' ' -f1; }

current() {
	local n
	[[ -f $CACHE/stamp && $(cat "$CACHE/stamp") == "$(stamp)" ]] || return 1
	for n in $SERVICES $TOOLS; do [[ -x $CACHE/bin/$n ]] || return 1; done
	[[ -f $CACHE/config/share.yml ]]
}

build() {
	if current; then
		echo "$CACHE"
		return 0
	fi
	local t0=$SECONDS pkgs=() s t src tmp
	for s in $SERVICES; do
		case $s in
		openim-rpc-*) pkgs+=("$OPENIM_MOD/cmd/openim-rpc/$s") ;;
		*) pkgs+=("$OPENIM_MOD/cmd/$s") ;;
		esac
	done
	for t in $TOOLS; do pkgs+=("$OPENIM_MOD/tools/$t"); done
	src=$(cd build/openim && go mod download -json "$OPENIM_MOD" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -d $src/config ]] || { log "cannot find OpenIM's config/ in the module cache ($src)"; return 1; }

	log "building OpenIM $OPENIM_VERSION (15 programs; minutes on a cold build cache)"
	mkdir -p "$(dirname "$CACHE")"
	tmp=$(mktemp -d "$CACHE.new.XXXXXX")
	trap 'rm -rf "$tmp"' RETURN
	chmod 0755 "$tmp"
	mkdir -p "$tmp/bin"
	(cd build/openim && CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w" \
		-o "$tmp/bin/" "${pkgs[@]}")
	# The module cache is read-only: copy, then make the copy writable.
	cp -R "$src/config" "$tmp/config"
	chmod -R u+w "$tmp/config"
	stamp >"$tmp/stamp"
	rm -rf "$CACHE"
	mv "$tmp" "$CACHE"
	log "built in $((SECONDS - t0)) s: $CACHE"
	echo "$CACHE"
}

case ${1:-} in
build) build ;;
dir) echo "$CACHE" ;;
check) current ;;
*)
	echo "usage: $0 build|dir|check" >&2
	exit 2
	;;
esac
