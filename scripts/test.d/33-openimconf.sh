#!/usr/bin/env bash
# internal/openimconf against OpenIM 3.8.3 itself (test/openimconf, a separate
# Go module that imports OpenIM's config package): the mirror structs have
# OpenIM's keys, nesting and kinds; their `optional` marks match OpenIM's
# shipped files; and decoding a config dir with IMENV_ variables gives the
# values OpenIM's own LoadConfig gives. The first run downloads OpenIM's
# dependencies through the Go module proxy.
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/gosuite.sh
go_suite test/openimconf '^(--- |ok|FAIL|panic)' -- ./...
