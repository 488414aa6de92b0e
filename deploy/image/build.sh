#!/usr/bin/env bash
# Builds the openim-server container image without a container daemon:
# scripts/packages.sh stages openim-supervisor, OpenIM's programs and config
# for each linux target, then deploy/image (go-containerregistry as a
# library) writes an OCI image layout (and, for one target, a docker-archive
# tarball for `docker load`/`skopeo copy docker-archive:`).
#
# Environment:
#   OUT       output dir (default dist/image): OUT/oci (OCI layout), OUT/openim-server.tar
#   TAG       image reference (default openim-server:<VERSION>)
#   TARGETS   default linux/amd64 (e.g. "linux/amd64 linux/arm64" for a multi-arch index)
#   OPENIM    real (default) | standin (tests: the stand-in under OpenIM's names, NOT OpenIM)
#   VERSION, OPENIM_VERSION, GOTAGS: as for scripts/packages.sh
# Push with any OCI tool, e.g. `skopeo copy oci:dist/image/oci docker://registry/openim-server:3.8.3`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${OUT:-dist/image}
TARGETS=${TARGETS:-linux/amd64}
export OPENIM=${OPENIM:-real}
mkdir -p "$OUT" .cache/bin
OUT=$(cd "$OUT" && pwd)

for t in $TARGETS; do
	[[ $t == linux/* ]] || { echo "build.sh: $t: the image is for linux targets only" >&2; exit 2; }
done
TARGETS="$TARGETS" FORMATS=deb DIST="$OUT/dist" scripts/packages.sh >&2
VERSION=$(ls "$OUT/dist"/*.deb | head -n1 | sed -E 's/.*openim-server_([^_]+)_.*/\1/; s/-1$//')
TAG=${TAG:-openim-server:$(printf %s "$VERSION" | tr -c "A-Za-z0-9_.\n-" "_")}

(cd deploy/image && CGO_ENABLED=0 go build -o "$ROOT/.cache/bin/openim-image" .)
stages=()
for t in $TARGETS; do stages+=(-stage "$OUT/dist/stage/linux_${t#linux/}"); done
tar_args=()
[[ $(wc -w <<<"$TARGETS") == 1 ]] && tar_args=(-tar "$OUT/openim-server.tar")
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)} \
	.cache/bin/openim-image build "${stages[@]}" -env packaging/openim.env -tag "$TAG" -oci "$OUT/oci" "${tar_args[@]}"
echo "image: $OUT/oci ($TAG, OpenIM: $OPENIM)" >&2
