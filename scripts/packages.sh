#!/usr/bin/env bash
# Builds the openim-server packages with the nfpm library alone (no
# goreleaser): deb, rpm, apk and archlinux for Linux, a zip for Windows and a
# tar.gz for macOS (`make packages`). Each target is staged under
# $DIST/stage/<os>_<arch>/ and packed by packaging/mkpkg.
#
# Environment:
#   VERSION         package version; default from `git describe --tags`
#                   (v1.2.3 -> 1.2.3, v1.2.3-4-gabc -> 1.2.3+4.gabc), else 0.0.0-dev
#   DIST            output dir (default dist/<VERSION>), so two versions can
#                   be built side by side for upgrade tests
#   TARGETS         default "linux/amd64 linux/arm64 windows/amd64 darwin/amd64 darwin/arm64"
#   FORMATS         nfpm packagers for Linux targets (default deb,rpm,apk,archlinux)
#   OPENIM          real (default): build OpenIM 3.8.3's 12 services and 3 tools
#                   from build/openim; standin: copy cmd/openim-standin under
#                   those 15 names (tests; NOT OpenIM)
#   OPENIM_VERSION  stamped into buildinfo.OpenIMVersion (default 3.8.3)
#   GOTAGS          extra build tags for openim-supervisor (tests: pkgtest)
#
# `scripts/packages.sh goreleaser-prepare` only renders the maintainer
# scripts, configs and changelog into .cache/goreleaser/ (goreleaser's before
# hook; goreleaser builds the binaries and packages itself).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MOD=github.com/openim-supervisor/openim-supervisor
OPENIM_MOD=github.com/openimsdk/open-im-server/v3
SERVICES="openim-api openim-crontask openim-msggateway openim-msgtransfer openim-push
  openim-rpc-auth openim-rpc-conversation openim-rpc-friend openim-rpc-group
  openim-rpc-msg openim-rpc-third openim-rpc-user"
TOOLS="check-free-memory check-component seq"

git_version() {
	local d
	if d=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
		d=${d#v}
		# v1.2.3-4-gabc (4 commits after the tag) -> 1.2.3+4.gabc: sorts after 1.2.3
		if [[ $d =~ ^(.*)-([0-9]+)-(g[0-9a-f]+)$ ]]; then
			d="${BASH_REMATCH[1]}+${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
		fi
		echo "$d"
	else
		echo 0.0.0-dev
	fi
}

VERSION=${VERSION:-$(git_version)}
VERSION=${VERSION#v}
DIST=${DIST:-dist/$VERSION}
TARGETS=${TARGETS:-linux/amd64 linux/arm64 windows/amd64 darwin/amd64 darwin/arm64}
FORMATS=${FORMATS:-deb,rpm,apk,archlinux}
OPENIM=${OPENIM:-real}
OPENIM_VERSION=${OPENIM_VERSION:-3.8.3}
GOTAGS=${GOTAGS:-}
export CGO_ENABLED=0

log() { echo "packages: $*" >&2; }

if [[ ${1:-} == goreleaser-prepare ]]; then
	mkdir -p .cache
	MKPKG=$ROOT/.cache/mkpkg
else
	mkdir -p "$DIST"
	DIST=$(cd "$DIST" && pwd)
	MKPKG=$DIST/.mkpkg
fi
go build ${GOTAGS:+-tags "$GOTAGS"} -o "$MKPKG" ./packaging/mkpkg

# OpenIM's config files (from the module zip of open-im-server v3.8.3).
openim_src=$(cd build/openim && go mod download -json "$OPENIM_MOD" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -d $openim_src/config ]] || { log "cannot find OpenIM's config in the module cache ($openim_src)"; exit 1; }

# stage_openim_config GOOS DIR: OpenIM's service config files for GOOS.
# Monitoring files (prometheus, alertmanager, grafana) are not part of the
# server. log.yml's storageLocation is relative to the working dir: point it
# at the OS's log dir.
stage_openim_config() {
	local goos=$1 dir=$2 f logdir
	mkdir -p "$dir"
	for f in "$openim_src"/config/*.yml; do
		case $(basename "$f") in prometheus.yml | alertmanager.yml | instance-down-rules.yml) continue ;; esac
		install -m 0644 "$f" "$dir/"
	done
	case $goos in
	linux) logdir=/var/log/openim/ ;;
	darwin) logdir=/usr/local/var/log/openim/ ;;
	windows) logdir=C:/ProgramData/OpenIM/logs/ ;;
	esac
	sed -i "s#^storageLocation:.*#storageLocation: $logdir#" "$dir/log.yml"
}

# doc_date: the date in the man pages (the last commit's), so rebuilds match.
doc_date() { git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ; }

# write_changelog FILE: deb changelog.Debian.gz and rpm %changelog (chglog format).
write_changelog() {
	cat >"$1" <<EOF
- deb:
    urgency: medium
    distributions: [stable]
  semver: "$VERSION-1"
  date: "$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)"
  packager: "openim-supervisor maintainers <openim-supervisor@users.noreply.github.com>"
  changes:
    - note: "openim-server $VERSION: openim-supervisor $VERSION with OpenIM $OPENIM_VERSION"
EOF
}

# `scripts/packages.sh goreleaser-prepare`: what .goreleaser.yaml's before
# hook needs in .cache/goreleaser/ (goreleaser builds the binaries itself).
if [[ ${1:-} == goreleaser-prepare ]]; then
	# .cache/goreleaser/stage has the layout of a linux staging dir (what
	# packaging/nfpm.yaml calls ${STAGE}) without the binaries, which
	# goreleaser builds; windows/ and darwin/ hold the archives' configs.
	G=.cache/goreleaser
	rm -rf "$G"
	mkdir -p "$G/stage/etc"
	"$MKPKG" scripts -version "$VERSION" -out "$G/stage/scripts"
	"$MKPKG" docs -version "$VERSION" -openim-version "$OPENIM_VERSION" -date "$(doc_date)" -out "$G/stage/doc"
	write_changelog "$G/stage/changelog.yaml"
	stage_openim_config linux "$G/stage/openim/config"
	"$MKPKG" config -os linux -out "$G/stage/etc/config.yaml"
	for goos in windows darwin; do
		stage_openim_config "$goos" "$G/$goos/openim-config"
		"$MKPKG" config -os "$goos" -out "$G/$goos/config.yaml"
	done
	rm -f "$MKPKG"
	log "prepared $G for goreleaser ($VERSION)"
	exit 0
fi

for target in $TARGETS; do
	goos=${target%/*}
	goarch=${target#*/}
	exe=""
	[[ $goos == windows ]] && exe=.exe
	stage=$DIST/stage/${goos}_$goarch
	rm -rf "$stage"
	mkdir -p "$stage/bin" "$stage/openim/bin" "$stage/openim/config" "$stage/etc"
	log "$target: openim-supervisor $VERSION (OpenIM $OPENIM_VERSION${GOTAGS:+, tags $GOTAGS})"
	GOOS=$goos GOARCH=$goarch go build -trimpath ${GOTAGS:+-tags "$GOTAGS"} \
		-ldflags "-s -w -X $MOD/internal/buildinfo.Version=$VERSION -X $MOD/internal/buildinfo.OpenIMVersion=$OPENIM_VERSION" \
		-o "$stage/bin/openim-supervisor$exe" ./cmd/openim-supervisor

	case $OPENIM in
	real)
		if [[ $goos == linux && $goarch == "$(go env GOARCH)" ]]; then
			# The build the tests share (scripts/openim-real.sh: same module,
			# flags and CGO_ENABLED=0), built once and cached under .cache/.
			openim_cache=$(scripts/openim-real.sh build)
			log "$target: OpenIM 3.8.3 from $openim_cache"
			for n in $SERVICES $TOOLS; do install -m 0755 "$openim_cache/bin/$n" "$stage/openim/bin/"; done
		else
			log "$target: OpenIM 3.8.3 (build/openim; this takes minutes)"
			pkgs=()
			for s in $SERVICES; do
				case $s in
				openim-rpc-*) pkgs+=("$OPENIM_MOD/cmd/openim-rpc/$s") ;;
				*) pkgs+=("$OPENIM_MOD/cmd/$s") ;;
				esac
			done
			for t in $TOOLS; do pkgs+=("$OPENIM_MOD/tools/$t"); done
			(cd build/openim && GOOS=$goos GOARCH=$goarch go build -trimpath -ldflags "-s -w" \
				-o "$stage/openim/bin/" "${pkgs[@]}")
		fi
		;;
	standin)
		log "$target: STAND-IN OpenIM (cmd/openim-standin under the 15 names)"
		GOOS=$goos GOARCH=$goarch go build -trimpath -ldflags "-s -w" -o "$stage/openim-standin$exe" ./cmd/openim-standin
		for n in $SERVICES $TOOLS; do cp "$stage/openim-standin$exe" "$stage/openim/bin/$n$exe"; done
		rm "$stage/openim-standin$exe"
		;;
	*) log "OPENIM=$OPENIM: want real or standin"; exit 2 ;;
	esac

	stage_openim_config "$goos" "$stage/openim/config"
	if [[ $OPENIM == standin ]]; then
		# Ports the stand-in listens on (the config's ready checks dial them),
		# and a check-component that fails, as OpenIM's does with its shipped
		# config (no MongoDB, Redis, Kafka, etcd at those addresses): the
		# package tests "configure the components" by removing failTools.
		printf 'services:\n  openim-api: {ports: [10002]}\n  openim-msggateway: {ports: [10001]}\nfailTools: [check-component]\n' \
			>"$stage/openim/config/standin.yaml"
	fi

	write_changelog "$stage/changelog.yaml"

	# The supervisor's config: what `openim-supervisor init` writes
	# (config.Example), rendered with the target OS's default paths.
	"$MKPKG" config -os "$goos" -out "$stage/etc/config.yaml"
	# Man pages and shell completions, from the command tree.
	"$MKPKG" docs -version "$VERSION" -openim-version "$OPENIM_VERSION" -date "$(doc_date)" -out "$stage/doc"

	case $goos in
	linux)
		"$MKPKG" pkg -stage "$stage" -version "$VERSION" -arch "$goarch" -formats "$FORMATS" -out "$DIST"
		;;
	windows | darwin)
		"$MKPKG" archive -stage "$stage" -version "$VERSION" -os "$goos" -arch "$goarch" -out "$DIST"
		;;
	esac
done
rm -f "$MKPKG"
log "done: $DIST"
