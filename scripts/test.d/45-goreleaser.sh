#!/usr/bin/env bash
# goreleaser: its config loader accepts .goreleaser.yaml (always); with
# goreleaser installed (or GORELEASER_CHECK_ONLY=0, which builds it),
# `goreleaser check`, and unless GORELEASER_CHECK_ONLY=1 `goreleaser release
# --snapshot --clean`, which builds every artifact (deb, rpm, apk, archlinux;
# Windows zip; macOS tar.gz) into dist/goreleaser/. Heavy: OpenIM's 15
# programs are built for 5 targets. Skip with SKIP_GORELEASER=1. Prints
# "N passed, N failed" last.
set -euo pipefail
cd "$(dirname "$0")/../.."

PASS=0
FAIL=0
pass() { echo "PASS: $*"; PASS=$((PASS + 1)); }
fail() { echo "FAIL: $*"; FAIL=$((FAIL + 1)); }
summary() { echo "$PASS passed, $FAIL failed"; }

if [[ ${SKIP_GORELEASER:-} == 1 ]]; then
	echo "SKIP: goreleaser (SKIP_GORELEASER=1)"
	summary
	exit 0
fi

# Always: goreleaser's own loader reads .goreleaser.yaml strictly
# (test/goreleaser, a module of its own; seconds, where building all of
# goreleaser for `goreleaser check` takes minutes on 2 cores).
if (cd test/goreleaser && go test -count=1 ./...); then
	pass "goreleaser's config loader accepts .goreleaser.yaml (strict)"
else
	fail "goreleaser's config loader accepts .goreleaser.yaml (strict)"
fi

# `goreleaser check` and the snapshot release: with goreleaser installed, or
# GORELEASER_CHECK_ONLY=0 (then it is built from the module proxy).
GORELEASER_VERSION=v2.12.7
GR=$(command -v goreleaser || true)
if [[ -z $GR && ${GORELEASER_CHECK_ONLY:-} == 0 ]]; then
	GR=$(go env GOPATH)/bin/goreleaser
	if [[ ! -x $GR ]]; then
		echo "--- go install github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
		go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
	fi
fi
if [[ -z $GR ]]; then
	echo "SKIP: goreleaser check and snapshot release (goreleaser not installed; GORELEASER_CHECK_ONLY=0 builds it)"
	summary
	[[ $FAIL == 0 ]]
	exit
fi
"$GR" --version 2>/dev/null | grep -i '^GitVersion' || true

cleanup() { rm -rf dist/goreleaser .cache/goreleaser .cache/mkpkg; }
trap cleanup EXIT

if "$GR" check; then pass "goreleaser check"; else fail "goreleaser check"; fi

if [[ ${GORELEASER_CHECK_ONLY:-} != 1 ]]; then
	t0=$SECONDS
	if "$GR" release --snapshot --clean >.cache/goreleaser-release.log 2>&1; then
		pass "goreleaser release --snapshot --clean ($((SECONDS - t0))s)"
	else
		tail -40 .cache/goreleaser-release.log
		fail "goreleaser release --snapshot --clean"
	fi
	D=dist/goreleaser
	# goreleaser names packages <name>_<version>_<os>_<arch>.<ext>
	for pat in '*_linux_amd64.deb' '*_linux_amd64.rpm' '*_linux_amd64.apk' '*_linux_amd64.pkg.tar.zst' \
		'*_linux_arm64.deb' '*_windows_amd64.zip' '*_darwin_amd64.tar.gz' '*_darwin_arm64.tar.gz'; do
		f=$(compgen -G "$D/$pat" | head -n1 || true)
		if [[ -n $f ]]; then pass "artifact $pat"; else fail "artifact $pat"; fi
	done
	deb=$(compgen -G "$D/*_linux_amd64.deb" | head -n1 || true)
	if [[ -n $deb ]] && [[ $(dpkg-deb -c "$deb" | grep -c ' ./usr/lib/openim/bin/.') == 15 ]]; then
		pass "deb has the 15 OpenIM programs"
	else
		fail "deb has the 15 OpenIM programs"
	fi
	if [[ -n $deb ]] && dpkg-deb -I "$deb" conffiles | grep -qx /etc/openim/config.yaml; then
		pass "deb conffile /etc/openim/config.yaml"
	else
		fail "deb conffile /etc/openim/config.yaml"
	fi
	zip=$(compgen -G "$D/*_windows_amd64.zip" | head -n1 || true)
	if [[ -n $zip ]] && python3 -c "import zipfile,sys; n=zipfile.ZipFile(sys.argv[1]).namelist(); sys.exit(not (any(x.endswith('/openim-supervisor.exe') for x in n) and any(x.endswith('/openim-api.exe') for x in n) and any(x.endswith('/README.txt') for x in n) and any(x.endswith('/config/share.yml') for x in n)))" "$zip"; then
		pass "windows zip: exe files, config, README"
	else
		fail "windows zip: exe files, config, README"
	fi
	rm -f .cache/goreleaser-release.log
fi
summary
[[ $FAIL == 0 ]]
