#!/usr/bin/env bash
# Ansible collection tests (issue 11): the openim.server collection against
# three booted Debian containers with sshd on a private network
# (scripts/lib/container.sh: a hub network namespace with a bridge; nothing
# on the host's network). FerretDB and Redis run in the hub, reachable from
# all three hosts. STAND-IN OpenIM programs, the real supervisor:
#   - ansible-playbook site.yml installs openim-server 3.7.1 (a test build)
#     with per-host process sets (core: api + rpc-*, gateway: msggateway,
#     worker: push + msgtransfer); all three active with exactly their sets;
#   - 3.7 data (Redis seqs) is seeded; rolling_upgrade.yml --check prints the
#     plan with the data steps and changes nothing;
#   - the rolling upgrade to 3.8.3 (serial 1, health-gated): the first
#     host's upgrade is SIGKILLed in the middle of 3.8.0/redis-seq-to-mongo
#     (after its first batch): the play halts there, the other two hosts stay
#     on 3.7.1 and serve; Mongo holds part of the seqs and no marker;
#   - the same playbook re-run resumes the step on the first host (dpkg
#     --configure -a; the plan says it resumes) and finishes the fleet:
#     exactly one "done" runner per step across the hosts' state records,
#     the others "already-applied";
#   - the data equals an uninterrupted run's: the new version's upgrade run
#     from the hub on the same Redis into a second Mongo database, both
#     dumped (test/mongodump: every document and index) and compared;
#   - during both runs, every 200 ms, at least two of three hosts answer on
#     their front port.
# Needs root. Prints "N passed, N failed" last.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PASS=0
FAIL=0
pass() { echo "PASS: $*"; PASS=$((PASS + 1)); }
fail() { echo "FAIL: $*"; FAIL=$((FAIL + 1)); }
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
summary() { echo "$PASS passed, $FAIL failed"; }
log() { echo "--- $*"; }
t0=$SECONDS

if [[ $(id -u) != 0 ]]; then
	if [[ ${OPENIM_TEST_STRICT:-} == 1 || ${CI:-} == true ]]; then fail "ansible suite needs root"; else echo "SKIP: ansible suite needs root"; fi
	summary
	[[ $FAIL == 0 ]]
	exit
fi

need=()
command -v ansible-playbook >/dev/null || need+=(ansible)
command -v curl >/dev/null || need+=(curl)
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v ssh >/dev/null || need+=(openssh-client)
if ((${#need[@]})); then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; }
fi

# shellcheck source=scripts/lib/container.sh
. scripts/lib/container.sh
ctr_init
WORK=$CTR_RUN/ansible
mkdir -p "$WORK"

# --- packages: 3.7.1 (old) and 3.8.3 (new), stand-in OpenIM --------------------------
tb=$SECONDS
if [[ -n ${ANSIBLE_TEST_DIST:-} ]]; then # local re-runs: packages built before (DIR/old, DIR/new)
	cp -r "$ANSIBLE_TEST_DIST/old" "$ANSIBLE_TEST_DIST/new" "$WORK/"
else
log "building packages 3.7.1 and 3.8.3 (stand-in OpenIM)"
VERSION=3.7.1 OPENIM_VERSION=3.7.1 OPENIM=standin TARGETS=linux/amd64 FORMATS=deb DIST=$WORK/old scripts/packages.sh >"$WORK/build-old.log" 2>&1 ||
	{ tail -20 "$WORK/build-old.log"; fail "build 3.7.1"; summary; exit 1; }
VERSION=3.8.3 OPENIM_VERSION=3.8.3 OPENIM=standin TARGETS=linux/amd64 FORMATS=deb DIST=$WORK/new scripts/packages.sh >"$WORK/build-new.log" 2>&1 ||
	{ tail -20 "$WORK/build-new.log"; fail "build 3.8.3"; summary; exit 1; }
fi
OLD_DEB=$(ls "$WORK"/old/*.deb) NEW_DEB=$(ls "$WORK"/new/*.deb)
echo "packages built in $((SECONDS - tb)) s: $OLD_DEB $NEW_DEB"

# --- network, components, hosts --------------------------------------------------------
rootfs=$(ctr_rootfs) # the shared tree has openssh-server and python3-apt
net=$(ctr_net_new)
HUB=$(ctr_net_ip "$net")
MONGO_PORT=27117 REDIS_PORT=27379
# A password: Redis refuses clients from other hosts without one (protected
# mode); it reaches the hosts through the vault as IMENV_REDIS_PASSWORD.
REDIS_PASS=redis-pass-$$
(cd test/ferretdb && go build -o "$WORK/ferretdb" .)
go build -o "$WORK/mongodump" ./test/mongodump
ctr_net_exec "$net" "$WORK/ferretdb" -listen "$HUB:$MONGO_PORT" -dir "$WORK/ferretdb-data" >"$WORK/ferretdb.log" 2>&1 &
ctr_net_exec "$net" "$(command -v redis-server || echo /usr/bin/redis-server)" --port "$REDIS_PORT" --bind "$HUB" --requirepass "$REDIS_PASS" \
	--save "" --appendonly no --daemonize no >"$WORK/redis.log" 2>&1 &
for _ in $(seq 100); do
	ctr_net_exec "$net" bash -c "(exec 3<>/dev/tcp/$HUB/$MONGO_PORT) && (exec 3<>/dev/tcp/$HUB/$REDIS_PORT)" 2>/dev/null && break
	sleep 0.2
done

ssh-keygen -q -t ed25519 -N "" -f "$WORK/id" <<<y >/dev/null
HOSTS=(core gateway worker)
for h in "${HOSTS[@]}"; do
	ctr_boot "$h" "$rootfs" "$net" || { fail "boot $h"; summary; exit 1; }
	ctr_exec "$h" sh -c "mkdir -p /root/.ssh && chmod 700 /root/.ssh && cat >/root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys" <"$WORK/id.pub"
	# the stand-in's ports (OpenIM's own config decides them for the real programs)
	ctr_exec "$h" sh -c 'mkdir -p /etc/openim/config && printf "services:\n  openim-api: {ports: [10002]}\n  openim-msggateway: {ports: [10001]}\n  openim-push: {ports: [10170, 10171]}\n" >/etc/openim/config/standin.yaml'
	# The 3.7.1 test release ships OpenIM 3.8.3's config files (the only ones
	# scripts/packages.sh has) with a supervisor built for OpenIM 3.7.1, which
	# refuses an unstamped 3.8 dir. The hosts are made to look as that
	# release would have left them: the dir stamped 3.7.1 (here), and after
	# the install the record of the files it shipped, which the 3.8.3
	# package's `config upgrade --from 3.7.1` merges from (see below).
	ctr_exec "$h" sh -c 'printf "3.7.1\n" >/etc/openim/config/openim-version'
	ctr_exec "$h" systemctl start ssh
done
check "three containers booted with sshd" bash -c "for h in ${HOSTS[*]}; do ctr_exec \$h systemctl is-active --quiet ssh || exit 1; done"

# --- inventory ---------------------------------------------------------------------
mkdir -p "$WORK/collections/ansible_collections/openim" "$WORK/inv/group_vars" "$WORK/inv/host_vars"
ln -s "$ROOT/deploy/ansible" "$WORK/collections/ansible_collections/openim/server"
{
	echo "openim:"
	echo "  hosts:"
	for h in "${HOSTS[@]}"; do echo "    $h: {ansible_host: $(ctr_ip "$h")}"; done
} >"$WORK/inv/hosts.yml"
cat >"$WORK/inv/group_vars/openim.yml" <<EOF
ansible_user: root
ansible_ssh_private_key_file: $WORK/id
ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
ansible_python_interpreter: /usr/bin/python3
openim_mongodb: {uri: "mongodb://$HUB:$MONGO_PORT/", address: ["$HUB:$MONGO_PORT"], database: openim_v3, username: "", authSource: ""}
openim_redis: {address: ["$HUB:$REDIS_PORT"], username: "", clusterMode: false, db: 0}
openim_prestart: []
openim_health_retries: 90
openim_health_delay: 1
EOF
# Secrets through ansible-vault, as an operator keeps them.
echo "vault-test-$$" >"$WORK/vault-pass"
printf 'openim_share_secret: fleet-secret-%s\nopenim_redis_password: %s\n' "$$" "$REDIS_PASS" >"$WORK/inv/group_vars/openim_vault.yml"
ansible-vault encrypt --vault-password-file "$WORK/vault-pass" "$WORK/inv/group_vars/openim_vault.yml" >/dev/null
mkdir -p "$WORK/inv/group_vars/openim" && mv "$WORK/inv/group_vars/openim.yml" "$WORK/inv/group_vars/openim/main.yml" &&
	mv "$WORK/inv/group_vars/openim_vault.yml" "$WORK/inv/group_vars/openim/vault.yml"
check "the secrets file is vault-encrypted" grep -q '^\$ANSIBLE_VAULT' "$WORK/inv/group_vars/openim/vault.yml"
cat >"$WORK/inv/host_vars/core.yml" <<'EOF'
openim_processes:
  - {name: openim-api, instances: 1}
  - {name: openim-rpc-auth, instances: 1}
  - {name: openim-rpc-user, instances: 1}
  - {name: openim-rpc-msg, instances: 1}
  - {name: openim-crontask, instances: 1}
openim_health_url: http://127.0.0.1:10002/healthz
EOF
cat >"$WORK/inv/host_vars/gateway.yml" <<'EOF'
openim_processes:
  - {name: openim-msggateway, instances: 1}
openim_health_url: http://127.0.0.1:10001/healthz
EOF
cat >"$WORK/inv/host_vars/worker.yml" <<'EOF'
openim_processes:
  - {name: openim-push, instances: 2}
  - {name: openim-msgtransfer, instances: 2}
openim_health_url: http://127.0.0.1:10170/healthz
EOF
declare -A FRONT=([core]=10002 [gateway]=10001 [worker]=10170)
declare -A SET=([core]="openim-api:1 openim-rpc-auth:1 openim-rpc-user:1 openim-rpc-msg:1 openim-crontask:1"
	[gateway]="openim-msggateway:1" [worker]="openim-push:2 openim-msgtransfer:2")

play() { # play LOG PLAYBOOK ARGS...: ansible-playbook from the hub
	local out=$1
	shift
	ctr_net_exec "$net" env ANSIBLE_COLLECTIONS_PATH="$WORK/collections" ANSIBLE_HOST_KEY_CHECKING=False \
		ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 ansible-playbook -i "$WORK/inv/hosts.yml" \
		--vault-password-file "$WORK/vault-pass" "$@" >"$out" 2>&1
}

# --- install ---------------------------------------------------------------------------
log "site.yml: install 3.7.1"
if play "$WORK/site.log" openim.server.site -e "openim_package_file=$OLD_DEB"; then pass "site.yml installs 3.7.1"; else fail "site.yml"; fi
tail -15 "$WORK/site.log"
journals() { # on failure: what each host's service said
	for h in "${HOSTS[@]}"; do
		echo "=== $h"
		ctr_exec "$h" journalctl -u openim-server -n 25 --no-pager || true
	done
}
grep -q 'fatal:' "$WORK/site.log" && journals
# only_set HOST: the supervisor runs exactly the host's programs and counts
only_set() {
	local h=$1 want got
	want=$(tr ' ' '\n' <<<"${SET[$h]}" | sort | tr '\n' ' ')
	got=$(ctr_exec "$h" openim-supervisor status --json 2>/dev/null | python3 -c '
import json,sys,collections
c=collections.Counter(i["name"] for i in json.load(sys.stdin)["instances"] if i["state"]=="running")
print(" ".join(sorted(f"{k}:{v}" for k,v in c.items())))' | tr ' ' '\n' | sort | tr '\n' ' ')
	[[ $got == "$want" ]] || { echo "$h runs '$got', want '$want'"; return 1; }
}
for h in "${HOSTS[@]}"; do
	check "$h: openim-server active" ctr_exec "$h" systemctl is-active --quiet openim-server
	check "$h: runs exactly its process set (${SET[$h]})" only_set "$h"
	check "$h: env file 0640 root:openim holds the vaulted secret" bash -c \
		"[[ \$(ctr_exec $h stat -c '%a %U:%G' /etc/openim/openim.env) == '640 root:openim' ]] && ctr_exec $h grep -q '^IMENV_SHARE_SECRET=fleet-secret-' /etc/openim/openim.env"
done
check "no secret in the play output" bash -c "! grep -qE 'fleet-secret-|$REDIS_PASS' '$WORK/site.log'"

if [[ ${ANSIBLE_SUITE_ONLY:-} == install ]]; then summary; [[ $FAIL == 0 ]]; exit; fi

# The record of the 3.7.1 release's shipped files (the old side of the
# three-way config merge; <stateDir>/openim-config-defaults/<version>).
mkdir -p "$WORK/old-files"
dpkg-deb -x "$OLD_DEB" "$WORK/old-files"
for h in "${HOSTS[@]}"; do
	tar -C "$WORK/old-files/etc/openim/config" -cf - --owner=root --group=root . |
		ctr_exec "$h" sh -c 'd=/var/lib/openim/openim-config-defaults/3.7.1 && mkdir -p $d && tar -C $d -xf - && chown -R openim:openim /var/lib/openim/openim-config-defaults'
done

# --- 3.7 data ----------------------------------------------------------------------------
log "seeding OpenIM 3.7 seqs in Redis"
{
	for i in $(seq 1 400); do
		c="si_u${i}_u$((i + 1))"
		echo "SET MAX_SEQ:$c $((100 + i))"
		echo "SET MIN_SEQ:$c $((i % 7))"
		echo "SET HAS_READ_SEQ:u$i:$c $((90 + i))"
		echo "SET CON_USER_MIN_SEQ:${c}u:u$i $((i % 3))"
	done
} | REDISCLI_AUTH=$REDIS_PASS ctr_net_exec "$net" redis-cli -h "$HUB" -p "$REDIS_PORT" >/dev/null

# --- --check ------------------------------------------------------------------------------
log "rolling_upgrade.yml --check"
if play "$WORK/check.log" openim.server.rolling_upgrade --check -e "openim_package_file=$NEW_DEB"; then pass "--check runs"; else fail "--check"; fi
check "--check prints the data steps of the new version's upgrade --plan" bash -c "grep -q 'Plan ([0-9]* steps' '$WORK/check.log' && grep -q '3.8.0/redis-seq-to-mongo' '$WORK/check.log'"
check "--check changed nothing (still 3.7.1 everywhere)" bash -c \
	"for h in ${HOSTS[*]}; do [[ \$(ctr_exec \$h dpkg-query -W -f '\${Version}' openim-server) == 3.7.1-1 ]] || exit 1; done"

# --- the rolling upgrade, sampled every 200 ms ------------------------------------------------
sample() { # one line per 200 ms: epoch-ms and 0/1 per host
	while [[ ! -e $WORK/stop-sampling ]]; do
		local t line=""
		t=$(date +%s%3N)
		for h in "${HOSTS[@]}"; do
			( ip netns exec "$(cat "$CTR_RUN/c/$h/netns")" curl -s -o /dev/null -m 0.15 "http://127.0.0.1:${FRONT[$h]}/healthz" && echo 1 || echo 0 ) >"$WORK/s.$h" &
		done
		wait
		for h in "${HOSTS[@]}"; do line+=" $(cat "$WORK/s.$h")"; done
		echo "$t$line"
		sleep "$(awk -v d=$(($(date +%s%3N) - t)) 'BEGIN{s=(200-d)/1000; print (s>0?s:0)}')"
	done >"$WORK/samples"
}
sample &
SAMPLER=$!
trap 'touch "$WORK/stop-sampling" 2>/dev/null; kill $SAMPLER 2>/dev/null || true; ctr_cleanup' EXIT
upgrade_logs() { # on failure: what each host's package upgrade said
	journals
	for h in "${HOSTS[@]}"; do
		echo "=== $h: /var/log/openim/package-upgrade.log"
		ctr_exec "$h" grep -v 'msg=progress' /var/log/openim/package-upgrade.log 2>/dev/null | tail -30 || true
	done
	tail -20 "$WORK/ferretdb.log" || true
}
dump() { ctr_net_exec "$net" "$WORK/mongodump" -uri "mongodb://$HUB:$MONGO_PORT/" -db "$1"; }
count() { grep -c "^$1"$'\t{' "$2" || true; } # count COLLECTION DUMP: its documents

# The first host's upgrade is killed in the middle of the seq step: a watcher
# on core waits for the step's first progress line (written after its first
# committed batch) in the upgrade's own log, then SIGKILLs the
# `openim-supervisor upgrade` the package script runs.
log "rolling_upgrade.yml to 3.8.3, the first host's upgrade killed mid-step"
ctr_exec core bash -c '
	f=/var/lib/openim/upgrade/upgrade.log
	n=$(stat -c %s "$f" 2>/dev/null || echo 0)
	for _ in $(seq 6000); do
		tail -c +$((n + 1)) "$f" 2>/dev/null | grep -qE "msg=progress table=\"?MAX_SEQ:" && break
		sleep 0.05
	done
	for p in $(pgrep -x openim-supervis); do
		c=$(tr "\0" " " <"/proc/$p/cmdline" 2>/dev/null)
		case $c in *" upgrade --from "*) kill -KILL "$p" && echo "killed $p: $c" ;; esac
	done' >"$WORK/kill.log" 2>&1 &
KILLER=$!
if play "$WORK/upgrade-killed.log" openim.server.rolling_upgrade -e "openim_package_file=$NEW_DEB"; then
	fail "the rolling upgrade went on although the first host's upgrade was killed"
else
	pass "the rolling upgrade stops at the killed host"
fi
wait "$KILLER" || true
cat "$WORK/kill.log"
grep -E 'TASK|ok:|changed:|fatal|PLAY RECAP' "$WORK/upgrade-killed.log" | tail -20 || true
check "the watcher killed core's openim-supervisor upgrade mid-step" grep -q '^killed [0-9]' "$WORK/kill.log"
check "the play failed on core and touched no other host" bash -c \
	"grep -q 'fatal: \[core\]' '$WORK/upgrade-killed.log' && ! grep -qE '(fatal|changed|ok): \[(gateway|worker)\]' '$WORK/upgrade-killed.log'"
for h in gateway worker; do
	check "$h: still 3.7.1 and serving after the halted rollout" bash -c \
		"[[ \$(ctr_exec $h dpkg-query -W -f '\${Version}' openim-server) == 3.7.1-1 ]] && ctr_exec $h systemctl is-active --quiet openim-server"
done
check "core: package left half-configured, its state record names the seq step dirty" bash -c \
	"[[ \$(ctr_exec core dpkg-query -W -f '\${db:Status-Abbrev}' openim-server) == iF* ]] &&
	 ctr_exec core cat /var/lib/openim/upgrade/state.json | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin).get(\"dirty\") != \"3.8.0/redis-seq-to-mongo\")'"
dump openim_v3 >"$WORK/dump.killed" || true
echo "after the kill: $(count seq "$WORK/dump.killed") seq, $(count seq_user "$WORK/dump.killed") seq_user documents"
check "killed mid-step: Mongo holds part of the seqs and no seq marker" bash -c \
	"grep -q \$'^seq\t{' '$WORK/dump.killed' && ! grep -q \$'^data_version\t.*\"key\":\"seq\"' '$WORK/dump.killed'"
[[ $FAIL == 0 ]] || upgrade_logs

log "rolling_upgrade.yml re-run: resumes on core, then the rest of the fleet"
if play "$WORK/upgrade.log" openim.server.rolling_upgrade -e "openim_package_file=$NEW_DEB"; then pass "the re-run finishes the rolling upgrade to 3.8.3"; else fail "rolling upgrade re-run"; fi
touch "$WORK/stop-sampling"
wait "$SAMPLER" || true
grep -E 'TASK|ok:|changed:|fatal|PLAY RECAP' "$WORK/upgrade.log" | tail -40 || true
grep -q 'fatal:' "$WORK/upgrade.log" && upgrade_logs
check "the re-run's plan on core says the seq step resumes" bash -c \
	"grep -q 'left half-configured by an earlier run: resuming' '$WORK/upgrade.log' &&
	 grep -q '3.8.0/redis-seq-to-mongo.*an earlier run did not finish it: it resumes' '$WORK/upgrade.log'"
for h in "${HOSTS[@]}"; do
	check "$h: 3.8.3 installed and active" bash -c "[[ \$(ctr_exec $h dpkg-query -W -f '\${Version}' openim-server) == 3.8.3-1 ]] && ctr_exec $h systemctl is-active --quiet openim-server"
	check "$h: still exactly its process set after the upgrade" only_set "$h"
	check "$h: OpenIM's config dir merged and stamped 3.8.3, the role's component files kept" bash -c \
		"ctr_exec $h tail -n 1 /etc/openim/config/openim-version | grep -qx 3.8.3 && ctr_exec $h grep -q '$HUB:$MONGO_PORT' /etc/openim/config/mongodb.yml"
done
check "hosts upgraded one at a time, in inventory order" bash -c \
	"grep -E '^TASK \[Upgrade the package' -A3 '$WORK/upgrade.log' | grep -oE '(changed|ok): \[[a-z]+\]' | sed 's/.*\[//; s/\]//' | tr '\n' ' ' | grep -qx 'core gateway worker '"
# One runner per step across the fleet.
for h in "${HOSTS[@]}"; do ctr_exec "$h" cat /var/lib/openim/upgrade/state.json >"$WORK/state.$h.json" 2>/dev/null || echo '{}' >"$WORK/state.$h.json"; done
python3 - "$WORK" "${HOSTS[@]}" >"$WORK/runners" <<'EOF' || true
import json, sys
work, hosts = sys.argv[1], sys.argv[2:]
runs = {}
for h in hosts:
    for r in json.load(open(f"{work}/state.{h}.json")).get("history", []):
        runs.setdefault(r["step"], []).append((h, r["result"]))
for step, rs in sorted(runs.items()):
    print(step, " ".join(f"{h}={r}" for h, r in rs))
EOF
cat "$WORK/runners"
check "the rolling upgrade ran data steps (3.8.0/redis-seq-to-mongo among them)" grep -q '^3.8.0/redis-seq-to-mongo ' "$WORK/runners"
while read -r step _; do
	case $step in
	version-gate) continue ;; # each host's run records the data version it found: not a step
	*/openim-config)          # a config step: each host's own config dir, merged by its package
		check "$step: done or found applied on each of the 3 hosts (host-local)" bash -c \
			"[[ \$(grep '^$step ' '$WORK/runners' | grep -oE '=(done|already-applied)' | wc -l) == 3 ]]"
		continue
		;;
	esac
	check "$step: exactly one host ran it, the others found it applied" bash -c \
		"line=\$(grep '^$step ' '$WORK/runners'); [[ \$(grep -o '=done' <<<\"\$line\" | wc -l) == 1 && \$(grep -o '=already-applied' <<<\"\$line\" | wc -l) == 2 ]]"
done <"$WORK/runners"
# The runner's record: 400 conversations' MAX_SEQ keys copied and verified
# in Mongo (the step's Verify re-reads every key before the marker is written).
check "the migrating host copied and verified the 400 MAX_SEQ keys" python3 -c '
import json, sys
work, hosts = sys.argv[1], sys.argv[2:]
for h in hosts:
    for r in json.load(open(f"{work}/state.{h}.json")).get("history", []):
        if r["step"] == "3.8.0/redis-seq-to-mongo" and r["result"] == "done":
            c = {t["table"]: t for t in r.get("counts", [])}
            sys.exit(0 if c.get("MAX_SEQ:*", {}).get("source") == 400 and c["MAX_SEQ:*"].get("in_target") == 400 else 1)
sys.exit(1)' "$WORK" "${HOSTS[@]}"
# Samples: at least two of three hosts answer at every one.
n=$(wc -l <"$WORK/samples")
bad=$(awk '{s=$2+$3+$4; if (s<2) b++} END{print b+0}' "$WORK/samples")
echo "samples: $n, with fewer than two hosts answering: $bad"
check "sampled every 200 ms during the upgrade ($n samples)" test "$n" -gt 20
check "at least two of three hosts answered at every sample" test "$bad" = 0

# The same data as an uninterrupted run: the new version's upgrade run once,
# without a kill, from the hub on the same Redis (the step only reads it) into
# a second Mongo database, with core's OpenIM config and env file.
log "reference: an uninterrupted upgrade into openim_ref"
ref=$WORK/ref
mkdir -p "$ref/root" "$ref/config" "$ref/state" "$ref/log" "$ref/run" "$ref/bin"
dpkg-deb -x "$NEW_DEB" "$ref/root"
ctr_exec core tar -C /etc/openim/config -cf - . | tar -C "$ref/config" -xf -
ctr_exec core cat /etc/openim/openim.env >"$ref/openim.env"
cat >"$ref/config.yaml" <<EOF
version: 2
paths: {binDir: $ref/bin, openimConfigDir: $ref/config, logDir: $ref/log, runtimeDir: $ref/run, stateDir: $ref/state}
envFile: $ref/openim.env
processes:
  - {name: placeholder, command: /bin/sleep, args: ["60"]}
EOF
tr=$SECONDS
if ctr_net_exec "$net" "$ref/root/usr/bin/openim-supervisor" upgrade --from 3.7.1 --yes --config "$ref/config.yaml" \
	--mongo-database openim_ref >"$ref/upgrade.out" 2>&1; then
	pass "the uninterrupted reference upgrade ($((SECONDS - tr)) s)"
else
	tail -20 "$ref/upgrade.out"
	fail "the uninterrupted reference upgrade"
fi
dump openim_v3 >"$WORK/dump.fleet" || fail "dump openim_v3"
dump openim_ref >"$WORK/dump.ref" || fail "dump openim_ref"
echo "dumps: fleet $(wc -l <"$WORK/dump.fleet") lines, reference $(wc -l <"$WORK/dump.ref") lines:" $(cut -f1 "$WORK/dump.ref" | uniq -c)
# seq_user: one document per (user, conversation), holding both its
# HAS_READ_SEQ and its CON_USER_MIN_SEQ (as OpenIM's tools/seq writes them).
check "the reference holds the 400 seq and 400 seq_user documents" \
	test "$(count seq "$WORK/dump.ref") $(count seq_user "$WORK/dump.ref")" = "400 400"
if diff -u "$WORK/dump.ref" "$WORK/dump.fleet" >"$WORK/dump.diff"; then
	pass "killed and re-run: the same documents and indexes as the uninterrupted run"
else
	head -40 "$WORK/dump.diff"
	fail "killed and re-run: the data differs from the uninterrupted run"
fi

echo "ansible suite wall time: $((SECONDS - t0)) s"

summary
[[ $FAIL == 0 ]]
