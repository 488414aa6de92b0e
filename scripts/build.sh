#!/usr/bin/env bash
# Builds openim-supervisor and the stand-in OpenIM service into bin/.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || { echo "build: Go is required (https://go.dev/dl/)" >&2; exit 1; }
version=$(git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)
mkdir -p bin
go build -trimpath -ldflags "-X github.com/openim-supervisor/openim-supervisor/internal/buildinfo.Version=${version#v}" \
  -o bin/openim-supervisor ./cmd/openim-supervisor
go build -trimpath -o bin/openim-standin ./cmd/openim-standin
echo "built bin/openim-supervisor (${version#v}) and bin/openim-standin"
