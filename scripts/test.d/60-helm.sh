#!/usr/bin/env bash
# Helm chart tests (issue 11), everything short of a Kubernetes cluster:
#   - helm (pinned, built from the Go module proxy into .cache/bin) lint --strict
#     and template for every deploy/helm/openim-server/ci/*-values.yaml;
#   - every rendered object decoded strictly into the k8s.io/api types of the
#     test module deploy/helm/test (hooks, probes, secrets, OpenIM 3.8.3's config keys);
#   - the image built without a container daemon (deploy/image; stand-in OpenIM
#     programs, the real supervisor), twice for the same digest, unpacked, and
#     run as a pod would (read-only, user 65532, namespaces): its entrypoint, the
#     chart's openim-api pod and its probes, the upgrade hook Job against the
#     MongoDB-protocol and Redis test servers (3.7 Redis seqs -> Mongo), two
#     hook Jobs at once (one runner per step).
# Needs root (containers). Prints "N passed, N failed" last.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HELM_VERSION=v3.22.0
K8S_MINOR=37 # of the k8s.io modules helm v3.22.0 builds with: its default Kubernetes version

PASS=0
FAIL=0
pass() { echo "PASS: $*"; PASS=$((PASS + 1)); }
fail() { echo "FAIL: $*"; FAIL=$((FAIL + 1)); }
summary() { echo "$PASS passed, $FAIL failed"; }
log() { echo "--- $*"; }
t0=$SECONDS

if [[ $(id -u) != 0 ]]; then
	if [[ ${OPENIM_TEST_STRICT:-} == 1 || ${CI:-} == true ]]; then fail "helm suite needs root (containers)"; else echo "SKIP: helm suite needs root"; fi
	summary
	[[ $FAIL == 0 ]]
	exit
fi
export OPENIM_TEST_STRICT=${OPENIM_TEST_STRICT:-1}

need=()
command -v unshare >/dev/null || need+=(util-linux)
command -v ip >/dev/null || need+=(iproute2)
if ((${#need[@]})); then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; }
fi

WORK=$(mktemp -d /var/tmp/openim-helmtest.XXXXXX)
started_services=0
cleanup() {
	[[ $started_services == 1 ]] && scripts/test-services.sh stop >/dev/null 2>&1 || true
	rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

# --- helm -------------------------------------------------------------------------
HELM=$ROOT/.cache/bin/helm-$HELM_VERSION
if [[ ! -x $HELM ]]; then
	log "building helm $HELM_VERSION from the Go module proxy"
	mkdir -p "$WORK/gobin" .cache/bin
	GOBIN=$WORK/gobin CGO_ENABLED=0 go install -ldflags "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
		-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$K8S_MINOR \
		-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$K8S_MINOR" \
		"helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
	mv "$WORK/gobin/helm" "$HELM"
fi
export HELM
"$HELM" version --short

CHART=deploy/helm/openim-server
for vf in "$CHART"/ci/*-values.yaml; do
	if "$HELM" lint "$CHART" --strict -f "$vf" >"$WORK/lint" 2>&1; then
		pass "helm lint --strict -f $(basename "$vf")"
	else
		cat "$WORK/lint"
		fail "helm lint --strict -f $(basename "$vf")"
	fi
done

# --- test servers ---------------------------------------------------------------
if [[ -z ${OPENIM_TEST_MONGO_URI:-} || -z ${OPENIM_TEST_REDIS_ADDR:-} ]]; then
	log "starting the test servers on the deploy suites' ports"
	# Every server off the other suites' default ports; the real OpenIM build
	# is not needed here (the image holds the stand-in).
	export OPENIM_TEST_MYSQL_PORT=${OPENIM_TEST_MYSQL_PORT:-27306} OPENIM_TEST_REDIS_PORT=${OPENIM_TEST_REDIS_PORT:-27379} \
		OPENIM_TEST_MONGO_PORT=${OPENIM_TEST_MONGO_PORT:-27117} OPENIM_TEST_ETCD_PORT=${OPENIM_TEST_ETCD_PORT:-27790} \
		OPENIM_TEST_KAFKA_PORT=${OPENIM_TEST_KAFKA_PORT:-27094} OPENIM_TEST_S3_PORT=${OPENIM_TEST_S3_PORT:-27005} \
		OPENIM_TEST_OPENIM_BUILD=${OPENIM_TEST_OPENIM_BUILD:-0}
	scripts/test-services.sh start
	started_services=1
	# shellcheck disable=SC1091
	. .cache/test-env.sh
fi

# --- image ------------------------------------------------------------------------
log "building the image (no daemon; STAND-IN OpenIM programs, the real supervisor)"
export SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 1)
tb=$SECONDS
if OUT=$WORK/image OPENIM=standin TAG=openim-server:test deploy/image/build.sh >"$WORK/image.log" 2>&1; then
	pass "image built without a container daemon ($((SECONDS - tb)) s)"
else
	cat "$WORK/image.log"
	fail "image build"
	summary
	exit 1
fi
IMG=.cache/bin/openim-image
"$IMG" inspect -oci "$WORK/image/oci" >"$WORK/image.json"
cat "$WORK/image.json"
"$IMG" build -stage "$WORK/image/dist/stage/linux_amd64" -env packaging/openim.env -tag openim-server:test -oci "$WORK/oci2" >/dev/null
d1=$(sed -n 's/.*"digest": "\(.*\)".*/\1/p' "$WORK/image.json")
d2=$("$IMG" inspect -oci "$WORK/oci2" | sed -n 's/.*"digest": "\(.*\)".*/\1/p')
if [[ -n $d1 && $d1 == "$d2" ]]; then pass "image build is reproducible ($d1)"; else fail "image digests differ: $d1 vs $d2"; fi
if tar -tf "$WORK/image/openim-server.tar" manifest.json >/dev/null 2>&1; then pass "docker-archive tarball written"; else fail "docker-archive tarball"; fi
"$IMG" unpack -oci "$WORK/image/oci" -rootfs "$WORK/rootfs"
export OPENIM_IMAGE_ROOTFS=$WORK/rootfs OPENIM_IMAGE_CONFIG=$WORK/image.json

# --- Go tests: render, strict decode, containers ------------------------------------
OPENIM_CONFIG_DIR=$(cd build/openim && go mod download -json github.com/openimsdk/open-im-server/v3 | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')/config
export OPENIM_CONFIG_DIR
log "go test ./deploy/helm/test (own module)"
(cd deploy/helm/test && go test -count=1 -timeout 15m -v ./...) >"$WORK/gotest.log" 2>&1 || true
grep -E '^(=== RUN|--- (PASS|FAIL|SKIP)|    )' "$WORK/gotest.log" | grep -v '^=== RUN' | head -400
while read -r status name _; do
	case $status in
	PASS:) pass "go test $name" ;;
	FAIL:) fail "go test $name" ;;
	SKIP:) # TestHelperContainer is the container helper, not a test
		[[ $name == TestHelperContainer ]] || fail "go test $name skipped (prerequisite missing)" ;;
	esac
done < <(sed -n 's/^--- \(PASS\|FAIL\|SKIP\): \([^ ]*\).*/\1: \2/p' "$WORK/gotest.log")
if ! grep -q '^ok ' "$WORK/gotest.log"; then
	tail -30 "$WORK/gotest.log"
	fail "go test ./deploy/helm/test did not pass as a whole"
fi

echo "helm suite wall time: $((SECONDS - t0)) s"
summary
[[ $FAIL == 0 ]]
