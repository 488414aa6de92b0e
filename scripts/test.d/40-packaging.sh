#!/usr/bin/env bash
# Packaging tests (issue 4), run as root by scripts/test.sh:
#   - builds two versions of the packages side by side with a STAND-IN OpenIM
#     (3.8.3, and 3.8.4 built with -tags pkgtest, whose upgrade step needs no
#     database, logs each run to <stateDir>/pkgtest-runs.log and fails while
#     <stateDir>/pkgtest-fail exists);
#   - deb: full cycle in a booted Debian bookworm (debootstrap + systemd-nspawn);
#   - rpm: the same cycle with Debian's rpm inside such a container, with the
#     scriptlet order;
#   - archlinux: pacman --root install and upgrade into a busybox root;
#   - apk: structure and scripts (apk-tools is not obtainable here);
#   - lintian, rpmlint, systemd-analyze verify and security.
# Needs root. Cleans up after itself; the debootstrap tree is cached under
# .cache/packaging/ (keyed by the include list) for local re-runs.
# Prints "N passed, N failed" last.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

PASS=0
FAIL=0
pass() { echo "PASS: $*"; PASS=$((PASS + 1)); }
fail() { echo "FAIL: $*"; FAIL=$((FAIL + 1)); }
check() { # check DESCRIPTION COMMAND...
	local d=$1
	shift
	if "$@"; then pass "$d"; else fail "$d"; fi
}
summary() { echo "$PASS passed, $FAIL failed"; }
log() { echo "--- $*"; }

if [[ $(id -u) != 0 ]]; then
	if [[ ${OPENIM_TEST_STRICT:-} == 1 || ${CI:-} == true ]]; then
		fail "packaging tests need root"
	else
		echo "SKIP: packaging tests need root"
	fi
	summary
	[[ $FAIL == 0 ]]
	exit
fi

SUITE=${PKGTEST_SUITE:-all} # all | deb | rpm | arch | apk | lint (local runs)
want() { [[ $SUITE == all || $SUITE == *"$1"* ]]; }

# --- tools -----------------------------------------------------------------
need_pkgs=()
for pair in debootstrap:debootstrap systemd-nspawn:systemd-container lintian:lintian rpm:rpm \
	rpmlint:rpmlint pacman:pacman-package-manager busybox:busybox-static; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || need_pkgs+=("${pair#*:}")
done
if ((${#need_pkgs[@]})); then
	log "apt-get install ${need_pkgs[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null; }
fi

WORK=$(mktemp -d /var/tmp/openim-pkgtest.XXXXXX)
NSPID=""
MOUNTS=()
cleanup() {
	if declare -F stop_container >/dev/null; then stop_container; fi
	local m
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
	rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

# --- packages --------------------------------------------------------------
if [[ -n ${PKGTEST_DIST:-} ]]; then # local re-runs: packages built before
	mkdir -p "$WORK/dist"
	cp -r "$PKGTEST_DIST/old" "$PKGTEST_DIST/new" "$WORK/dist/"
else
log "building packages 3.8.3 and 3.8.4 (stand-in OpenIM)"
t0=$SECONDS
VERSION=3.8.3 OPENIM=standin TARGETS=linux/amd64 DIST=$WORK/dist/old scripts/packages.sh >"$WORK/build-old.log" 2>&1 ||
	{ cat "$WORK/build-old.log"; fail "build 3.8.3 packages"; summary; exit 1; }
VERSION=3.8.4 OPENIM_VERSION=3.8.4 GOTAGS=pkgtest OPENIM=standin TARGETS=linux/amd64 DIST=$WORK/dist/new \
	scripts/packages.sh >"$WORK/build-new.log" 2>&1 ||
	{ cat "$WORK/build-new.log"; fail "build 3.8.4 packages"; summary; exit 1; }
echo "built in $((SECONDS - t0))s"
fi
pkg() { ls "$WORK/dist/$1/"*"$2" | head -n1; } # pkg old|new .deb
OLD_DEB=$(pkg old .deb) NEW_DEB=$(pkg new .deb)
OLD_RPM=$(pkg old .rpm) NEW_RPM=$(pkg new .rpm)
OLD_ARCH=$(pkg old .pkg.tar.zst) NEW_ARCH=$(pkg new .pkg.tar.zst)
OLD_APK=$(pkg old .apk) NEW_APK=$(pkg new .apk)
ls -la "$WORK/dist/old" "$WORK/dist/new" | grep -v stage

# Instances the shipped config runs (name count), from config.yaml.
expected_instances() {
	awk '/^processes:/{p=1;next} p&&/^[a-z]/{p=0}
		p&&/^  - name:/{if(n!="")print n, c; n=$3; c=1}
		p&&/^    instances:/{c=$2}
		END{if(n!="")print n, c}' "$WORK/dist/old/stage/linux_amd64/etc/config.yaml"
}
expected_instances >"$WORK/expected"
EXPECTED_TOTAL=$(awk '{s+=$2} END{print s}' "$WORK/expected")

# --- static checks -----------------------------------------------------------
if want lint; then
	log "deb structure"
	dpkg-deb -c "$OLD_DEB" >"$WORK/deb-contents"
	for f in ./usr/bin/openim-supervisor ./usr/lib/openim/openim-pkg ./etc/openim/config.yaml \
		./etc/openim/openim.env ./etc/openim/config/share.yml ./lib/systemd/system/openim-server.service \
		./usr/lib/sysusers.d/openim-server.conf ./usr/lib/tmpfiles.d/openim-server.conf; do
		check "deb contains $f" grep -q " $f\$" "$WORK/deb-contents"
	done
	check "deb has the 15 OpenIM binaries in /usr/lib/openim/bin" \
		test "$(grep -c ' ./usr/lib/openim/bin/.' "$WORK/deb-contents")" = 15
	dpkg-deb -I "$OLD_DEB" conffiles >"$WORK/conffiles"
	check "deb conffiles: config.yaml, openim.env, OpenIM yml" \
		bash -c "grep -qx /etc/openim/config.yaml '$WORK/conffiles' && grep -qx /etc/openim/openim.env '$WORK/conffiles' && grep -qx /etc/openim/config/share.yml '$WORK/conffiles'"
	check "rpm %config(noreplace) files" bash -c "rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' '$OLD_RPM' 2>/dev/null | grep -q '^cn /etc/openim/config.yaml'"
	for s in preinst postinst prerm postrm; do
		check "deb $s is POSIX sh (dash -n)" bash -c "dpkg-deb --ctrl-tarfile '$OLD_DEB' | tar -xO ./$s | dash -n"
	done
	check "helper openim-pkg is POSIX sh (dash -n)" dash -n packaging/common/openim-pkg

	log "lintian (errors fail; warnings shown)"
	if lintian --fail-on error --tag-display-limit 0 "$OLD_DEB" >"$WORK/lintian" 2>&1; then
		pass "lintian: no errors"
	else
		fail "lintian: errors"
	fi
	cat "$WORK/lintian"

	log "rpmlint (packaging/rpm/rpmlintrc justifies each filter)"
	# rpmlint takes one -r: the package's filters plus the stand-in variant's
	cat packaging/rpm/rpmlintrc test/packaging/rpmlintrc-standin >"$WORK/rpmlintrc"
	if rpmlint -r "$WORK/rpmlintrc" "$OLD_RPM" >"$WORK/rpmlint" 2>&1; then
		pass "rpmlint: no errors"
	else
		# rpmlint exits non-zero on errors only ("N errors, M warnings")
		fail "rpmlint: errors"
	fi
	cat "$WORK/rpmlint"

	log "apk structure"
	mkdir -p "$WORK/apk"
	tar -xzif "$OLD_APK" -C "$WORK/apk" 2>/dev/null
	check "apk .PKGINFO names openim-server 3.8.3" bash -c "grep -q '^pkgname = openim-server' '$WORK/apk/.PKGINFO' && grep -q '^pkgver = 3.8.3' '$WORK/apk/.PKGINFO'"
	for s in .pre-install .post-install .pre-upgrade .post-upgrade .pre-deinstall .post-deinstall; do
		check "apk has $s (sh -n)" bash -c "test -f '$WORK/apk/$s' && busybox sh -n '$WORK/apk/$s'"
	done
	check "apk has the OpenRC script" test -x "$WORK/apk/etc/init.d/openim-server"
	check "OpenRC script parses (sh -n)" busybox sh -n "$WORK/apk/etc/init.d/openim-server"
	check "apk has no systemd unit" test ! -e "$WORK/apk/usr/lib/systemd/system/openim-server.service"
	check "apk has the 15 OpenIM binaries" test "$(ls "$WORK/apk/usr/lib/openim/bin" | wc -l)" = 15
	check "launchd plist is well-formed XML" python3 -c "import plistlib,sys; plistlib.load(open('packaging/darwin/org.openim.server.plist','rb'))"
fi

# --- a busybox root: runs apk's and pacman's scripts ------------------------
make_busybox_root() { # DIR
	local r=$1
	mkdir -p "$r/bin" "$r/sbin" "$r/usr/bin" "$r/usr/sbin" "$r/etc" "$r/tmp" "$r/var/lib" "$r/var/log" "$r/run"
	cp "$(command -v busybox)" "$r/bin/busybox"
	chroot "$r" /bin/busybox --install -s
	mkdir -p "$r/dev" "$r/proc"
	mknod -m 666 "$r/dev/null" c 1 3
	mknod -m 666 "$r/dev/zero" c 1 5
	mknod -m 444 "$r/dev/urandom" c 1 9
	mount -t proc proc "$r/proc"
	MOUNTS+=("$r/proc")
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
	printf 'root:x:0:\n' >"$r/etc/group"
	: >"$r/etc/shadow"
	# Debian's busybox-static lacks the adduser/addgroup applets that Alpine's
	# busybox has: minimal stand-ins with the same flags (-S system, -D no
	# password, -H no home, -h home, -s shell, -G group, -g gecos).
	cat >"$r/usr/sbin/addgroup" <<'SH'
#!/bin/sh
for a; do g=$a; done
echo "$g:x:999:" >>/etc/group
SH
	cat >"$r/usr/sbin/adduser" <<'SH'
#!/bin/sh
home=/ shell=/sbin/nologin group= gecos=
while [ $# -gt 1 ]; do
	case $1 in
	-h) home=$2; shift 2 ;; -s) shell=$2; shift 2 ;; -G) group=$2; shift 2 ;; -g) gecos=$2; shift 2 ;;
	*) shift ;;
	esac
done
echo "$1:x:999:999:$gecos:$home:$shell" >>/etc/passwd
SH
	chmod 755 "$r/usr/sbin/addgroup" "$r/usr/sbin/adduser"
}

if want apk; then
	log "apk scripts in a busybox root (install, then upgrade hooks with NEW OLD)"
	R=$WORK/apkroot
	make_busybox_root "$R"
	mkdir -p "$WORK/apk-old" "$WORK/apk-new"
	tar -xzif "$OLD_APK" -C "$WORK/apk-old" 2>/dev/null
	tar -xzif "$NEW_APK" -C "$WORK/apk-new" 2>/dev/null
	oldv=$(sed -n 's/^pkgver = //p' "$WORK/apk-old/.PKGINFO")
	newv=$(sed -n 's/^pkgver = //p' "$WORK/apk-new/.PKGINFO")
	(cd "$WORK/apk-old" && tar --exclude='./.*' -cf - . | tar -xf - -C "$R")
	cp "$WORK/apk-old/".[a-z]* "$R/tmp/" 2>/dev/null || true
	check "apk .pre-install $oldv" chroot "$R" /bin/sh /tmp/.pre-install "$oldv"
	check "apk .post-install creates user openim" bash -c "chroot '$R' /bin/sh /tmp/.post-install '$oldv' && grep -q '^openim:' '$R/etc/passwd'"
	check "apk: /var/lib/openim owned by openim" test "$(stat -c %u "$R/var/lib/openim")" = "$(chroot "$R" id -u openim)"
	cp "$WORK/apk-new/".[a-z]* "$R/tmp/"
	check "apk .pre-upgrade refuses a downgrade" bash -c "! chroot '$R' /bin/sh /tmp/.pre-upgrade '$oldv' '$newv' >/dev/null 2>&1"
	check "apk .pre-upgrade $newv $oldv" chroot "$R" /bin/sh /tmp/.pre-upgrade "$newv" "$oldv"
	(cd "$WORK/apk-new" && tar --exclude='./.*' -cf - . | tar -xf - -C "$R")
	check "apk .post-upgrade $newv $oldv runs the upgrade step" chroot "$R" /bin/sh /tmp/.post-upgrade "$newv" "$oldv"
	check "apk: upgrade step ran once" test "$(wc -l <"$R/var/lib/openim/pkgtest-runs.log" 2>/dev/null)" = 1
fi

if want arch; then
	log "pacman --root: install and upgrade"
	R=$WORK/archroot
	make_busybox_root "$R"
	mkdir -p "$R/var/lib/pacman" "$R/var/cache/pacman"
	cat >"$WORK/pacman.conf" <<EOF
[options]
Architecture = auto
SigLevel = Never
LocalFileSigLevel = Never
EOF
	pac() { pacman --noconfirm --config "$WORK/pacman.conf" --root "$R" --dbpath "$R/var/lib/pacman" --cachedir "$R/var/cache/pacman" "$@"; }
	if pac -U "$OLD_ARCH" >"$WORK/pacman-install" 2>&1; then pass "pacman -U 3.8.3"; else fail "pacman -U 3.8.3"; fi
	cat "$WORK/pacman-install"
	check "pacman: post_install ran with the new version" grep -q 'post_install new=3.8.3-1' "$WORK/pacman-install"
	check "pacman: user openim created" grep -q '^openim:' "$R/etc/passwd"
	echo "# pkgtest edit" >>"$R/etc/openim/config.yaml"
	if pac -U "$NEW_ARCH" >"$WORK/pacman-upgrade" 2>&1; then pass "pacman -U 3.8.4 (upgrade)"; else fail "pacman -U 3.8.4 (upgrade)"; fi
	cat "$WORK/pacman-upgrade"
	check "pacman: pre_upgrade ran with NEW OLD" grep -q 'pre_upgrade new=3.8.4-1 old=3.8.3-1' "$WORK/pacman-upgrade"
	check "pacman: post_upgrade ran with NEW OLD" grep -q 'post_upgrade new=3.8.4-1 old=3.8.3-1' "$WORK/pacman-upgrade"
	check "pacman: install hooks did not run on upgrade" bash -c "! grep -q 'post_install' '$WORK/pacman-upgrade'"
	check "pacman: upgrade step ran once" test "$(wc -l <"$R/var/lib/openim/pkgtest-runs.log" 2>/dev/null)" = 1
	check "pacman: config edit survived" grep -q '# pkgtest edit' "$R/etc/openim/config.yaml"
	check "pacman: installed version 3.8.4" bash -c "pacman --root '$R' --dbpath '$R/var/lib/pacman' -Q openim-server | grep -q '3.8.4-1'"
fi

# --- booted Debian bookworm ---------------------------------------------------
INCLUDE=systemd,systemd-sysv,dbus,procps,rpm
MIRROR=$(grep -h -m1 -E '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
	sed -E 's/^URIs: *//; s/^deb (\[[^]]*\] )?//; s/ .*//' | head -n1 || true)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
ROOTFS=$ROOT/.cache/packaging/rootfs-$(printf 'bookworm minbase %s' "$INCLUDE" | sha256sum | cut -c1-12)

ensure_rootfs() {
	[[ -d $ROOTFS ]] && return 0
	log "debootstrap bookworm ($MIRROR) into $ROOTFS"
	mkdir -p "$(dirname "$ROOTFS")"
	rm -rf "$ROOTFS.tmp"
	debootstrap --variant=minbase --include="$INCLUDE" bookworm "$ROOTFS.tmp" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
		{ tail -20 "$WORK/debootstrap.log"; return 1; }
	mv "$ROOTFS.tmp" "$ROOTFS"
}

CPID=""
start_container() {
	rm -rf "$WORK/share"
	mkdir -p "$WORK/share"
	cp "$OLD_DEB" "$WORK/share/old.deb"
	cp "$NEW_DEB" "$WORK/share/new.deb"
	cp "$OLD_RPM" "$WORK/share/old.rpm"
	cp "$NEW_RPM" "$WORK/share/new.rpm"
	systemd-nspawn -q -D "$ROOTFS" --ephemeral -b --register=no --keep-unit --console=pipe \
		--bind="$WORK/share:/var/tmp/share" >"$WORK/nspawn.log" 2>&1 </dev/null &
	NSPID=$!
	CPID=""
	for _ in $(seq 100); do
		CPID=$(pgrep -P "$NSPID" -x systemd || true)
		[[ -n $CPID ]] && break
		sleep 0.1
	done
	[[ -n $CPID ]] || { cat "$WORK/nspawn.log"; return 1; }
	export CPID
	# systemd inside may not answer on D-Bus yet: ask until it does
	booted() { [[ $(cx systemctl is-system-running 2>/dev/null) =~ ^(running|degraded)$ ]]; }
	wait_for 60 booted || echo "container not fully booted: $(cx systemctl is-system-running 2>&1 || true)"
	echo "container booted: $(cx systemctl is-system-running 2>&1 || true)"
}
stop_container() {
	if [[ -n $NSPID ]] && kill -0 "$NSPID" 2>/dev/null; then
		[[ -n $CPID ]] && nsenter -t "$CPID" -a -- systemctl poweroff --no-block >/dev/null 2>&1 || true
		for _ in $(seq 100); do kill -0 "$NSPID" 2>/dev/null || break; sleep 0.1; done
		kill "$NSPID" 2>/dev/null || true
		wait "$NSPID" 2>/dev/null || true
	fi
	NSPID=""
	CPID=""
}
cx() { nsenter -t "$CPID" -a -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
export -f cx # used inside `bash -c` checks (with CPID, exported by start_container)

# wait_for SECONDS COMMAND...: until COMMAND succeeds (test helper only).
wait_for() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
is_active() { [[ $(cx systemctl is-active openim-server 2>/dev/null) == active ]]; }
main_pid() { cx systemctl show -p MainPID --value openim-server; }
# children NAME: pids of NAME whose parent is the supervisor
children() { cx pgrep -P "$(main_pid)" -x "$1" || true; }
# all_instances_run: each configured process has its instance count under the supervisor
all_instances_run() {
	local name count mp
	mp=$(main_pid)
	[[ $mp != 0 ]] || return 1
	while read -r name count; do
		[[ $(cx pgrep -c -P "$mp" -x "${name:0:15}" || true) == "$count" ]] || return 1
	done <"$WORK/expected"
}
runs() { cx sh -c 'wc -l </var/lib/openim/pkgtest-runs.log 2>/dev/null || echo 0'; }
show_state() {
	cx systemctl status --no-pager -n 30 openim-server || true
	cx ls -la /var/lib/openim /etc/openim || true
}

# service_checks LABEL: the service is up and supervises every instance
service_checks() {
	local l=$1 victim old new
	check "$l: systemctl is-active openim-server" wait_for 60 is_active
	check "$l: all $EXPECTED_TOTAL configured instances run under the supervisor" wait_for 60 all_instances_run
	check "$l: openim-supervisor status answers over the control socket" cx openim-supervisor status
	# Child output is in the journal under the unit, with the process and instance as fields.
	journal_fields() { cx journalctl -u openim-server OPENIM_PROCESS=openim-push OPENIM_INSTANCE=7 -o cat | grep -q 'openim-push (stand-in) index 7'; }
	check "$l: journalctl -u openim-server OPENIM_PROCESS=openim-push OPENIM_INSTANCE=7 finds its output" wait_for 20 journal_fields
	status_text() { cx systemctl show -p StatusText --value openim-server | grep -q ' running'; }
	check "$l: sd_notify STATUS= reaches systemd (StatusText)" wait_for 20 status_text
	victim=openim-rpc-user
	old=$(children "$victim")
	if [[ -n $old ]]; then
		cx kill -9 "$old"
		new_child() { new=$(children "$victim"); [[ -n $new && $new != "$old" ]]; }
		check "$l: killed $victim (pid $old) is back" wait_for 30 new_child
	else
		fail "$l: no $victim to kill"
	fi
}

if want deb || want rpm; then
	if ! ensure_rootfs; then
		fail "debootstrap bookworm"
		summary
		exit 1
	fi
fi

if want deb; then
	log "deb cycle in a booted bookworm container"
	if start_container; then
		out=$WORK/deb-install
		if cx dpkg -i /var/tmp/share/old.deb >"$out" 2>&1; then pass "deb: dpkg -i 3.8.3"; else fail "deb: dpkg -i 3.8.3"; fi
		cat "$out"
		check "deb: user openim exists" cx getent passwd openim
		check "deb: env file is 0640 root:openim" test "$(cx stat -c '%a %U:%G' /etc/openim/openim.env)" = "640 root:openim"
		check "deb: service enabled" cx systemctl is-enabled --quiet openim-server
		service_checks "deb 3.8.3"
		check "deb: systemd-analyze verify is clean" bash -c "! cx systemd-analyze verify openim-server.service 2>&1 | grep ."
		cx systemd-analyze security openim-server.service >"$WORK/security" 2>&1 || true
		tail -n 1 "$WORK/security"
		score=$(sed -n 's/.*Overall exposure level for openim-server.service: \([0-9.]*\).*/\1/p' "$WORK/security")
		check "deb: systemd-analyze security < 2.0 (got ${score:-none})" awk -v s="${score:-99}" 'BEGIN{exit !(s < 2.0)}'

		log "deb: edit config.yaml, upgrade to 3.8.4"
		cx sed -i 's/^  buffer: 1000 /  buffer: 1234 /' /etc/openim/config.yaml
		check "deb: config edited" cx grep -q 'buffer: 1234' /etc/openim/config.yaml
		cx sh -c 'echo keep >/var/lib/openim/pkgtest-data'
		out=$WORK/deb-upgrade
		if cx dpkg --force-confold -i /var/tmp/share/new.deb >"$out" 2>&1; then pass "deb: dpkg -i 3.8.4 (upgrade)"; else fail "deb: dpkg -i 3.8.4 (upgrade)"; fi
		cat "$out"
		check "deb: postinst got configure 3.8.3-1" grep -q 'postinst configure 3.8.3-1' "$out"
		check "deb: upgrade ran with --from 3.8.3" grep -q 'upgrade --from 3.8.3$' "$out"
		check "deb: config edit survived" cx grep -q 'buffer: 1234' /etc/openim/config.yaml
		check "deb: upgrade step ran exactly once" test "$(runs)" = 1
		check "deb: openim-supervisor is 3.8.4" bash -c "cx openim-supervisor --version | grep -q 3.8.4"
		service_checks "deb 3.8.4"

		log "deb: downgrade is refused before files change"
		out=$WORK/deb-downgrade
		if cx dpkg -i /var/tmp/share/old.deb >"$out" 2>&1; then fail "deb: downgrade refused"; else pass "deb: downgrade refused"; fi
		cat "$out"
		check "deb: still 3.8.4 and active after the refused downgrade" bash -c "cx dpkg-query -W -f '\${Version} \${Status}' openim-server | grep -q '^3.8.4-1 install ok installed' && cx systemctl is-active --quiet openim-server"

		log "deb: remove, purge"
		out=$WORK/deb-remove
		if cx dpkg -r openim-server >"$out" 2>&1; then pass "deb: dpkg -r"; else fail "deb: dpkg -r"; fi
		cat "$out"
		check "deb: stopped after remove" bash -c "! cx systemctl is-active --quiet openim-server"
		check "deb: no OpenIM process after remove" bash -c "! cx pgrep -f /usr/lib/openim/bin/"
		check "deb: remove keeps config and data" cx test -f /etc/openim/config.yaml -a -f /var/lib/openim/pkgtest-data
		if cx dpkg -P openim-server >"$out" 2>&1; then pass "deb: dpkg -P"; else fail "deb: dpkg -P"; fi
		check "deb: purge removed /etc/openim /var/lib/openim /var/log/openim" cx sh -c '! test -e /etc/openim && ! test -e /var/lib/openim && ! test -e /var/log/openim'

		log "deb: failing migration, then re-run"
		cx dpkg -i /var/tmp/share/old.deb >"$WORK/deb-install2" 2>&1 || cat "$WORK/deb-install2"
		wait_for 60 is_active || true
		cx sh -c 'echo keep >/var/lib/openim/pkgtest-data; touch /var/lib/openim/pkgtest-fail'
		out=$WORK/deb-failing
		if cx dpkg --force-confold -i /var/tmp/share/new.deb >"$out" 2>&1; then fail "deb: failing migration makes dpkg fail"; else pass "deb: failing migration makes dpkg fail"; fi
		cat "$out"
		check "deb: package left half-configured" bash -c "cx dpkg-query -W -f '\${Status}' openim-server | grep -q half-configured"
		check "deb: message points at the log and the re-run command" bash -c "grep -q '/var/log/openim/package-upgrade.log' '$out' && grep -q 'dpkg --configure -a' '$out'"
		check "deb: data intact after the failure" bash -c "[ \"\$(cx cat /var/lib/openim/pkgtest-data)\" = keep ]"
		before=$(runs)
		cx rm -f /var/lib/openim/pkgtest-fail
		out=$WORK/deb-rerun
		if cx dpkg --configure -a >"$out" 2>&1; then pass "deb: dpkg --configure -a succeeds"; else fail "deb: dpkg --configure -a succeeds"; fi
		cat "$out"
		check "deb: re-run ran the step once more" test "$(runs)" = $((before + 1))
		check "deb: installed after the re-run" bash -c "cx dpkg-query -W -f '\${Status}' openim-server | grep -q 'install ok installed'"
		check "deb: active after the re-run" wait_for 60 is_active
		cx dpkg -P openim-server >/dev/null 2>&1 || true
		[[ $FAIL == 0 ]] || show_state
	else
		fail "deb: boot the container"
	fi
	stop_container
fi

if want rpm; then
	log "rpm cycle (Debian's rpm) in a booted bookworm container"
	if start_container; then
		cx rpm --initdb
		out=$WORK/rpm-install
		if cx rpm -i --nodeps /var/tmp/share/old.rpm >"$out" 2>&1; then pass "rpm -i 3.8.3"; else fail "rpm -i 3.8.3"; fi
		cat "$out"
		check "rpm: install scriptlets %pre 1, %post 1, %posttrans" \
			test "$(grep -o 'openim-server: %[a-z]* *[0-9]*' "$out" | tr '\n' '|')" = "openim-server: %pre 1|openim-server: %post 1|openim-server: %posttrans|"
		service_checks "rpm 3.8.3"
		cx sed -i 's/^  buffer: 1000 /  buffer: 1234 /' /etc/openim/config.yaml
		stops_before=$(cx journalctl -u openim-server -o cat | grep -c '^Stopping ' || true)
		out=$WORK/rpm-upgrade
		if cx rpm -U --nodeps /var/tmp/share/new.rpm >"$out" 2>&1; then pass "rpm -U 3.8.4"; else fail "rpm -U 3.8.4"; fi
		cat "$out"
		order=$(grep -o 'openim-server: %[a-z]* *[0-9]*' "$out" | sed 's/openim-server: //' | tr '\n' '|')
		echo "scriptlet order: $order"
		check "rpm: upgrade order %pre 2, %post 2, old %preun 1, old %postun 1, %posttrans" \
			test "$order" = "%pre 2|%post 2|%preun 1|%postun 1|%posttrans|"
		check "rpm: config edit survived" cx grep -q 'buffer: 1234' /etc/openim/config.yaml
		check "rpm: upgrade step ran exactly once" test "$(runs)" = 1
		service_checks "rpm 3.8.4"
		stops_after=$(cx journalctl -u openim-server -o cat | grep -c '^Stopping ' || true)
		check "rpm: the service was stopped once (by %pre), not by the old %preun/%postun" test $((stops_after - stops_before)) = 1
		out=$WORK/rpm-erase
		if cx rpm -e --nodeps openim-server >"$out" 2>&1; then pass "rpm -e"; else fail "rpm -e"; fi
		cat "$out"
		check "rpm: erase scriptlets %preun 0, %postun 0" \
			test "$(grep -o 'openim-server: %[a-z]* *[0-9]*' "$out" | sed 's/openim-server: //' | tr '\n' '|')" = "%preun 0|%postun 0|"
		check "rpm: stopped after erase" bash -c "! cx systemctl is-active --quiet openim-server"
		check "rpm: erase keeps data" cx test -d /var/lib/openim

		log "rpm: failing migration in %posttrans, then the re-run command"
		cx rm -rf /var/lib/openim /var/log/openim /etc/openim
		cx rpm -i --nodeps /var/tmp/share/old.rpm >"$WORK/rpm-install2" 2>&1 || cat "$WORK/rpm-install2"
		wait_for 60 is_active || true
		cx sh -c 'echo keep >/var/lib/openim/pkgtest-data; touch /var/lib/openim/pkgtest-fail'
		out=$WORK/rpm-failing
		cx rpm -U --nodeps /var/tmp/share/new.rpm >"$out" 2>&1 && rc=0 || rc=$?
		cat "$out"
		echo "rpm -U exit status: $rc"
		check "rpm: the failed %posttrans is reported" grep -q 'posttrans.*scriptlet failed' "$out"
		check "rpm: message points at the log and the re-run command" bash -c "grep -q '/var/log/openim/package-upgrade.log' '$out' && grep -q 'openim-supervisor upgrade --from 3.8.3' '$out'"
		check "rpm: data intact after the failure" bash -c "[ \"\$(cx cat /var/lib/openim/pkgtest-data)\" = keep ]"
		check "rpm: service left stopped after the failure" bash -c "! cx systemctl is-active --quiet openim-server"
		before=$(runs)
		cx rm -f /var/lib/openim/pkgtest-fail
		out=$WORK/rpm-rerun
		if cx sh -c 'runuser -u openim -- openim-supervisor upgrade --from 3.8.3 --yes --config /etc/openim/config.yaml && systemctl start openim-server' >"$out" 2>&1; then
			pass "rpm: the printed re-run command succeeds"
		else
			fail "rpm: the printed re-run command succeeds"
		fi
		cat "$out"
		check "rpm: re-run ran the step once more" test "$(runs)" = $((before + 1))
		check "rpm: active after the re-run" wait_for 60 is_active
		cx rpm -e --nodeps openim-server >/dev/null 2>&1 || true
		[[ $FAIL == 0 ]] || show_state
	else
		fail "rpm: boot the container"
	fi
	stop_container
fi

summary
[[ $FAIL == 0 ]]
