# shellcheck shell=bash
# container.sh: booted Debian containers on a private network, for tests.
# Source it from bash (as root):
#
#   . scripts/lib/container.sh
#   ctr_init                                # once: tools, run dir, cleanup trap
#   rootfs=$(ctr_rootfs)                    # cached debootstrap bookworm tree
#   net=$(ctr_net_new)                      # private network (hub netns + bridge)
#   ctr_boot web "$rootfs" "$net" --bind=/some/dir:/var/tmp/share
#   ctr_exec web systemctl is-system-running
#   ctr_ip web                              # 10.88.0.2
#   ctr_net_exec "$net" redis-server --bind 10.88.0.1 ...   # a host program on that network
#   ctr_stop web                            # (ctr_cleanup, run by the trap, stops everything)
#
# The tree (debootstrap --variant=minbase bookworm) is built once per include
# list and kept under .cache/rootfs/ of the repository (2-4 min cold on a busy
# 2-core machine, about 470 MB); every container boots from a throw-away
# overlay on it (upper layer in the run dir), so tests never change it and a
# boot takes seconds, not a copy of the tree. Inside, systemd is PID 1; the
# container's hostname is NAME, /etc/hosts names it and the hub, and there is
# no DNS server (lookups fail at once).
#
# The network never touches the host's: ctr_net_new makes a network namespace
# (the "hub") holding a bridge with the network's first address; each
# container gets its own network namespace joined to that bridge by a veth
# pair that is created directly inside the two namespaces. Nothing is added
# to the host's network namespace, so every run can use the same subnet and
# ports held on the host (10001, 10002, ...) cannot collide with the
# container's. Programs meant to be reached from the containers (test
# components) run in the hub: `ctr_net_exec NET CMD...`; the test reaches the
# containers the same way. Namespace names carry the shell's pid and a random
# tag (oimt-<pid>-<tag>-...), so parallel runs do not collide, and ctr_init
# removes those of runs whose shell is gone.
#
# Every function returns non-zero on failure and says why on stderr; all are
# safe under `set -euo pipefail`.

CTR_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CTR_REPO=$(cd "$CTR_LIB_DIR/../.." && pwd)
# Packages of the shared tree. Containers that need more pass them to
# ctr_rootfs, which then builds (and caches) a second tree: prefer adding a
# package here, so that every container test shares one tree.
CTR_INCLUDE_DEFAULT=systemd,systemd-sysv,dbus,procps,iproute2,python3,python3-apt,openssh-server,rpm,pacman-package-manager
CTR_SUITE=${CTR_SUITE:-bookworm}
CTR_SUBNET=${CTR_SUBNET:-10.88.0} # /24 inside each private network; .1 is the hub

ctr_log() { echo "container: $*" >&2; }

# ctr_init: checks root, installs the tools (debootstrap, systemd-container,
# iproute2), makes the run dir ($CTR_RUN) and sets an EXIT trap that runs
# ctr_cleanup (chained with a trap already set). Idempotent.
ctr_init() {
	[[ -n ${CTR_RUN:-} && -d $CTR_RUN ]] && return 0
	if [[ $(id -u) != 0 ]]; then
		ctr_log "needs root (systemd-nspawn, network namespaces)"
		return 1
	fi
	local need=() pair
	for pair in debootstrap:debootstrap systemd-nspawn:systemd-container ip:iproute2 nsenter:util-linux flock:util-linux; do
		command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
	done
	if ((${#need[@]})); then
		ctr_log "apt-get install ${need[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null ||
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; } ||
			{ ctr_log "cannot install ${need[*]}"; return 1; }
	fi
	CTR_RUN=$(mktemp -d "/var/tmp/oimt-ctr.$$.XXXXXX") || return 1
	CTR_TAG=$$-$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
	export CTR_RUN CTR_TAG
	mkdir -p "$CTR_RUN/c" "$CTR_RUN/n"
	ctr_gc
	local prev
	prev=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
	# shellcheck disable=SC2064
	trap "ctr_cleanup; ${prev:-:}" EXIT
}

# ctr_gc: deletes the network namespaces, overlay mounts and run dirs of
# earlier runs whose shell is gone.
ctr_gc() {
	local ns pid dir m
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns =~ ^oimt-([0-9]+)- ]] || continue
		pid=${BASH_REMATCH[1]}
		kill -0 "$pid" 2>/dev/null && continue
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		if ip netns del "$ns" 2>/dev/null; then ctr_log "removed stale network namespace $ns"; fi
	done
	for dir in /var/tmp/oimt-ctr.*; do
		[[ -d $dir && $dir =~ oimt-ctr\.([0-9]+)\. ]] || continue
		kill -0 "${BASH_REMATCH[1]}" 2>/dev/null && continue
		for m in "$dir"/c/*/root; do
			if mountpoint -q "$m" 2>/dev/null; then umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; fi
		done
		rm -rf --one-file-system "$dir" 2>/dev/null || true
		ctr_log "removed stale run dir $dir"
	done
	return 0
}

# ctr_rootfs [EXTRA_PACKAGE...]: prints the path of the cached tree with
# CTR_INCLUDE_DEFAULT plus the extras, building it first when missing
# (under a lock, so parallel runs wait for one build). The mirror is the
# host's own (from /etc/apt/sources.list*).
ctr_rootfs() {
	local include key dir mirror t0
	include=$(printf '%s\n' ${CTR_INCLUDE_DEFAULT//,/ } "$@" | sort -u | paste -sd, -)
	key=$(printf '%s minbase %s' "$CTR_SUITE" "$include" | sha256sum | cut -c1-12)
	dir=$CTR_REPO/.cache/rootfs/$CTR_SUITE-$key
	mkdir -p "$CTR_REPO/.cache/rootfs"
	(
		flock 9
		[[ -f $dir/.complete ]] && exit 0
		mirror=$(grep -h -m1 -E '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
			sed -E 's/^URIs: *//; s/^deb (\[[^]]*\] )?//; s/ .*//' | head -n1 || true)
		mirror=${mirror:-http://deb.debian.org/debian}
		ctr_log "debootstrap $CTR_SUITE ($include) from $mirror into $dir"
		t0=$SECONDS
		rm -rf --one-file-system "$dir" "$dir.tmp"
		if ! debootstrap --variant=minbase --include="$include" "$CTR_SUITE" "$dir.tmp" "$mirror" >"$dir.log" 2>&1; then
			tail -20 "$dir.log" >&2
			rm -rf --one-file-system "$dir.tmp"
			exit 1
		fi
		# No network service inside waits for a link that the tests configure.
		rm -f "$dir.tmp/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
		echo "$include" >"$dir.tmp/.complete"
		mv "$dir.tmp" "$dir"
		ctr_log "tree built in $((SECONDS - t0)) s ($(du -sh "$dir" | cut -f1))"
	) 9>"$CTR_REPO/.cache/rootfs/.lock" || return 1
	echo "$dir"
}

# ctr_net_new: makes a private network and prints its name. The hub (the
# network's own namespace) has the bridge at $CTR_SUBNET.1/24 and loopback up.
ctr_net_new() {
	local n i hub
	i=$(($(find "$CTR_RUN/n" -mindepth 1 -maxdepth 1 | wc -l) + 1))
	n=net$i
	hub=oimt-$CTR_TAG-$n
	mkdir -p "$CTR_RUN/n/$n"
	ip netns add "$hub" || return 1
	echo "$hub" >"$CTR_RUN/n/$n/netns"
	ip -n "$hub" link set lo up &&
		ip -n "$hub" link add br0 type bridge &&
		ip -n "$hub" addr add "$CTR_SUBNET.1/24" dev br0 &&
		ip -n "$hub" link set br0 up || { ctr_log "cannot set up the bridge in $hub"; return 1; }
	echo 1 >"$CTR_RUN/n/$n/last"
	echo "$n"
}

# ctr_net_ip NET: the hub's address (where components for the containers listen).
ctr_net_ip() { echo "$CTR_SUBNET.1"; }

# ctr_net_exec NET CMD...: runs a host program inside the private network
# (components the containers use, clients that call the containers). It
# sees the host's files, not the host's network.
ctr_net_exec() {
	local n=$1
	shift
	ip netns exec "$(cat "$CTR_RUN/n/$n/netns")" "$@"
}

# ctr_boot NAME ROOTFS NET [NSPAWN_ARG...]: boots a throw-away overlay of ROOTFS
# as container NAME on NET (address $CTR_SUBNET.<2..>, hostname NAME, default
# route via the hub) and waits until its systemd answers (running or
# degraded). Extra arguments go to systemd-nspawn (--bind=..., --setenv=...).
# The console goes to $CTR_RUN/c/NAME/console.log.
ctr_boot() {
	local name=$1 rootfs=$2 n=$3
	shift 3
	local d=$CTR_RUN/c/$name hub ns last ip vh nspid leader state
	[[ -d $d ]] && { ctr_log "container $name exists"; return 1; }
	[[ -f $rootfs/.complete ]] || { ctr_log "$rootfs is not a tree built by ctr_rootfs"; return 1; }
	mkdir -p "$d"
	hub=$(cat "$CTR_RUN/n/$n/netns")
	ns=oimt-$CTR_TAG-c-$name
	# the next address (under a lock: rows may boot containers in parallel)
	last=$({
		flock 8
		l=$(($(cat "$CTR_RUN/n/$n/last") + 1))
		echo "$l" >"$CTR_RUN/n/$n/last"
		echo "$l"
	} 8>"$CTR_RUN/n/$n/last.lock")
	ip=$CTR_SUBNET.$last
	vh=ve$last # the hub's end (names are per namespace)
	ip netns add "$ns" || return 1
	echo "$ns" >"$d/netns"
	echo "$n" >"$d/net"
	echo "$ip" >"$d/ip"
	ip -n "$hub" link add "$vh" type veth peer name host0 netns "$ns" &&
		ip -n "$hub" link set "$vh" master br0 up &&
		ip -n "$ns" link set lo up &&
		ip -n "$ns" addr add "$ip/24" dev host0 &&
		ip -n "$ns" link set host0 up &&
		ip -n "$ns" route add default via "$CTR_SUBNET.1" ||
		{ ctr_log "cannot wire $name into $n"; return 1; }
	# A throw-away overlay on the tree (no copy: about a second to boot; the
	# upper layer is on disk, under the run dir).
	mkdir -p "$d/upper" "$d/work" "$d/root"
	mount -t overlay overlay -o "lowerdir=$rootfs,upperdir=$d/upper,workdir=$d/work" "$d/root" ||
		{ ctr_log "cannot mount an overlay on $rootfs"; return 1; }
	echo "$d/root" >"$d/mount"
	# Its name, and no DNS (nothing to ask on a private network: lookups
	# fail at once instead of timing out); /etc/hosts names the hub.
	echo "$name" >"$d/root/etc/hostname"
	: >"$d/root/etc/resolv.conf"
	printf '127.0.0.1\tlocalhost\n%s\t%s\n%s\thub\n' "$ip" "$name" "$CTR_SUBNET.1" >"$d/root/etc/hosts"
	systemd-nspawn -q -D "$d/root" -b --register=no --keep-unit --console=pipe \
		--machine="$name" --resolv-conf=off --network-namespace-path="/run/netns/$ns" "$@" \
		>"$d/console.log" 2>&1 </dev/null &
	nspid=$!
	echo "$nspid" >"$d/nspawn.pid"
	leader=""
	for _ in $(seq 300); do
		leader=$(pgrep -P "$nspid" -x systemd || true)
		[[ -n $leader ]] && break
		kill -0 "$nspid" 2>/dev/null || break
		sleep 0.1
	done
	if [[ -z $leader ]]; then
		ctr_log "container $name did not start:"
		tail -20 "$d/console.log" >&2
		return 1
	fi
	echo "$leader" >"$d/leader.pid"
	for _ in $(seq 600); do
		state=$(ctr_exec "$name" systemctl is-system-running 2>/dev/null || true)
		[[ $state == running || $state == degraded ]] && return 0
		sleep 0.1
	done
	ctr_log "container $name: systemd is '$state' after 60 s"
	return 1
}

# ctr_pid NAME: the container's PID 1 (its systemd), as seen from the host.
ctr_pid() { cat "$CTR_RUN/c/$1/leader.pid"; }

# ctr_ip NAME: the container's address on its network.
ctr_ip() { cat "$CTR_RUN/c/$1/ip"; }

# ctr_exec NAME CMD...: runs CMD in every namespace of the container, with a
# clean environment (PATH, LANG); stdin is passed through.
ctr_exec() {
	local name=$1
	shift
	nsenter -t "$(ctr_pid "$name")" -a -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 "$@"
}

# ctr_stop NAME: powers the container off (10 s), then kills it; removes its
# network namespace.
ctr_stop() {
	local d=$CTR_RUN/c/$1 nspid
	[[ -d $d ]] || return 0
	nspid=$(cat "$d/nspawn.pid" 2>/dev/null || true)
	if [[ -n $nspid ]] && kill -0 "$nspid" 2>/dev/null; then
		if [[ -f $d/leader.pid ]]; then
			nsenter -t "$(cat "$d/leader.pid")" -a -- systemctl poweroff --no-block >/dev/null 2>&1 || true
		fi
		for _ in $(seq 100); do kill -0 "$nspid" 2>/dev/null || break; sleep 0.1; done
		kill "$nspid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$nspid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$nspid" 2>/dev/null || true
		wait "$nspid" 2>/dev/null || true
	fi
	if [[ -f $d/netns ]]; then ip netns del "$(cat "$d/netns")" 2>/dev/null || true; fi
	if [[ -f $d/mount ]]; then
		umount "$d/root" 2>/dev/null || umount -l "$d/root" 2>/dev/null || true
	fi
	rm -rf --one-file-system "$d"
	return 0
}

# ctr_cleanup: stops every container and removes every network of this run
# (processes still running in a hub are killed), then the run dir.
ctr_cleanup() {
	[[ -n ${CTR_RUN:-} && -d $CTR_RUN ]] || return 0
	local c n ns
	for c in "$CTR_RUN"/c/*; do
		if [[ -d $c ]]; then ctr_stop "$(basename "$c")"; fi
	done
	for n in "$CTR_RUN"/n/*; do
		[[ -f $n/netns ]] || continue
		ns=$(cat "$n/netns")
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf --one-file-system "$CTR_RUN"
	CTR_RUN=""
	return 0
}

# Usable from `bash -c` and subshells too (the state is in files under $CTR_RUN).
export -f ctr_log ctr_pid ctr_ip ctr_exec ctr_net_ip ctr_net_exec
