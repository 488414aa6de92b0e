#!/usr/bin/env bash
# Package acceptance tests (run as root by scripts/test.sh): ONE table of
# format x scenario, run by one runner, like nfpm's acceptance_test.go.
#
#   - Two versions are built side by side with a STAND-IN OpenIM: 3.8.3, and
#     3.8.4 built with -tags pkgtest (its data step needs no database, logs
#     each run to <stateDir>/pkgtest-runs.log and fails while
#     <stateDir>/pkgtest-fail exists; its config schema is 3, one past the
#     real one, so upgrades must run `config migrate`). The stand-in's
#     check-component fails until the test "configures the components"
#     (removes failTools from /etc/openim/config/standin.yaml), as OpenIM's
#     does with its shipped config.
#   - deb, rpm and arch rows run in a booted Debian bookworm container
#     (scripts/lib/container.sh: systemd as PID 1, a private network, a fresh
#     overlay per row) with the real dpkg, rpm and pacman. apk rows run the
#     .apk's scripts in a busybox chroot: apk-tools is not packaged for Debian.
#
# Rows: "FORMAT SCENARIO" in the ACCEPTANCE table below; each SCENARIO is a
# function sc_SCENARIO taking the format, using the package-manager adapter
# (pm_install, pm_upgrade, pm_remove, ...), `cx` to run in the container and
# `check DESCRIPTION COMMAND...`. To add one: a row, and a function.
#
# Environment: PKGTEST_ONLY=REGEX runs the rows matching "FORMAT SCENARIO";
# PKGTEST_DIST=DIR reuses packages built before (DIR/old, DIR/new).
# Prints "N passed, N failed" last.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

ACCEPTANCE='
deb  contents            # files, conffiles, man pages, completions
deb  lint                # lintian: no errors
deb  install-waits       # components unreachable: not enabled, not started, next steps; then configured -> started
deb  install-starts      # configured before install: enabled, active, every instance, journal, restart after kill -9
deb  upgrade             # 3.8.3 -> 3.8.4: edit kept, config schema migrated, data step once, active again
deb  upgrade-fail-rerun  # failing data step: half-configured, log and re-run command; re-run -> active
deb  openim-config       # OpenIM share.yml and openim-api.yml edited; 3.8.4 adds keys, renames one, changes a default: merged, no prompt, .new only for the conflict
deb  skip-file           # /etc/openim/skip-auto-upgrade: no data step, stopped, the run gate refuses; printed command works
deb  gate-waits          # no state record, no MongoDB: the start waits 90 s for the data version (systemd told), then fails with the gate error
deb  downgrade-refused   # 3.8.4 -> 3.8.3 refused before any file changes
deb  remove-reinstall    # remove keeps config and data; reinstall restores the enabled service
deb  purge               # purge deletes config and logs, keeps backups unless OPENIM_PURGE_BACKUPS=yes
deb  quiet               # no trace line from any maintainer script
rpm  contents            # files, %config(noreplace), relative payload names
rpm  lint                # rpmlint: no errors
rpm  install-waits
rpm  install-starts      # preset policy "enable" (systemd default)
rpm  preset-disabled     # preset policy "disable *" (Fedora): installed, not enabled, told how
rpm  upgrade             # + scriptlet order %pre 2, %post 2, old %preun 1, old %postun 1, %posttrans
rpm  upgrade-fail-rerun
rpm  openim-config
rpm  skip-file
rpm  downgrade-refused
rpm  remove-reinstall
rpm  quiet
arch contents
arch install-waits       # Arch convention: never enabled or started by the package
arch upgrade             # pre_upgrade/post_upgrade NEW OLD, install hooks not run
arch quiet
apk  contents            # .PKGINFO, scripts, OpenRC script, no systemd unit
apk  install-waits       # busybox chroot: user, dirs, next steps
apk  upgrade             # .pre-upgrade/.post-upgrade NEW OLD
apk  downgrade-refused
'

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

# --- tools -----------------------------------------------------------------
need_pkgs=()
for pair in lintian:lintian rpm:rpm rpmlint:rpmlint pacman:pacman-package-manager busybox:busybox-static cpio:cpio; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || need_pkgs+=("${pair#*:}")
done
if ((${#need_pkgs[@]})); then
	log "apt-get install ${need_pkgs[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null; }
fi
# shellcheck source=scripts/lib/container.sh
. scripts/lib/container.sh
ctr_init || { fail "container library"; summary; exit 1; }

WORK=$(mktemp -d /var/tmp/openim-pkgtest.XXXXXX)
MOUNTS=()
cleanup() {
	local m
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
	rm -rf --one-file-system "$WORK"
	ctr_cleanup
}
HOLD_PID=""
trap 'kill $HOLD_PID 2>/dev/null || true; cleanup' EXIT

# --- packages --------------------------------------------------------------
t0=$SECONDS
if [[ -n ${PKGTEST_DIST:-} ]]; then
	mkdir -p "$WORK/dist"
	cp -r "$PKGTEST_DIST/old" "$PKGTEST_DIST/new" "$WORK/dist/"
else
	log "building packages 3.8.3 and 3.8.4 (stand-in OpenIM)"
	VERSION=3.8.3 OPENIM=standin TARGETS=linux/amd64 DIST=$WORK/dist/old scripts/packages.sh >"$WORK/build-old.log" 2>&1 ||
		{ cat "$WORK/build-old.log"; fail "build 3.8.3 packages"; summary; exit 1; }
	VERSION=3.8.4 OPENIM_VERSION=3.8.4 GOTAGS=pkgtest OPENIM=standin TARGETS=linux/amd64 DIST=$WORK/dist/new \
		scripts/packages.sh >"$WORK/build-new.log" 2>&1 ||
		{ cat "$WORK/build-new.log"; fail "build 3.8.4 packages"; summary; exit 1; }
fi
echo "packages ready in $((SECONDS - t0)) s"
pkgfile() { ls "$WORK/dist/$1/"*"$2" | head -n1; } # pkgfile old|new .deb
declare -A EXT=([deb]=.deb [rpm]=.rpm [arch]=.pkg.tar.zst [apk]=.apk)
SHARE=$WORK/share # bound into every container as /var/tmp/share
mkdir -p "$SHARE"
for f in deb rpm arch apk; do
	cp "$(pkgfile old "${EXT[$f]}")" "$SHARE/old${EXT[$f]}"
	cp "$(pkgfile new "${EXT[$f]}")" "$SHARE/new${EXT[$f]}"
done
# Instances the shipped config runs ("name count"), from config.yaml.
awk '/^processes:/{p=1;next} p&&/^[a-z]/{p=0}
	p&&/^  - name:/{if(n!="")print n, c; n=$3; c=1}
	p&&/^    instances:/{c=$2}
	END{if(n!="")print n, c}' "$WORK/dist/old/stage/linux_amd64/etc/config.yaml" >"$WORK/expected"
EXPECTED_TOTAL=$(awk '{s+=$2} END{print s}' "$WORK/expected")

# --- the container of the current row ----------------------------------------
ROOTFS=""
NET=""
C="" # container name of the current row (exported: checks run `bash -c "... cx ..."`)
cx() { ctr_exec "$C" "$@"; }
export -f cx
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
is_enabled() { [[ $(cx systemctl is-enabled openim-server 2>/dev/null) == enabled ]]; }
main_pid() { cx systemctl show -p MainPID --value openim-server; }
children() { cx pgrep -P "$(main_pid)" -x "$1" || true; }
all_instances_run() {
	local name count mp
	mp=$(main_pid)
	[[ $mp != 0 ]] || return 1
	while read -r name count; do
		[[ $(cx pgrep -c -P "$mp" -x "${name:0:15}" || true) == "$count" ]] || return 1
	done <"$WORK/expected"
}
# unit_journal: the unit's last start results and journal, after a failure.
unit_journal() {
	cx systemctl show -p Result,ExecMainStatus,NRestarts openim-server | sed 's/^/    # /'
	cx journalctl -u openim-server -o short-precise -n 60 --no-pager | sed 's/^/    # /'
}
runs() { cx sh -c 'wc -l </var/lib/openim/pkgtest-runs.log 2>/dev/null || echo 0'; }
# configure: what an admin does once the components exist (the stand-in's
# check-component then passes). There is no MongoDB in the container for
# run's version gate to read the data version from, so it is recorded the
# way the gate's own message says (`openim-supervisor upgrade --from V`), as
# the gate records it after finding a fresh database.
configure() {
	cx sed -i '/^failTools:/d' /etc/openim/config/standin.yaml
	cx sh -c 'v=$(openim-supervisor --version | sed -n "s/.*(OpenIM \([^)]*\)).*/\1/p")
		cd /var/lib/openim && runuser -u openim -- openim-supervisor upgrade --from "$v" --yes >/dev/null'
}

# --- package-manager adapters ---------------------------------------------------
# pm_install FMT old|new [ARGS...]: output in $OUT; rc is the manager's.
OUT=""
pm() { # pm FMT WHAT [ARG]: runs the package manager, output to $OUT
	local f=$1 what=$2 v=${3:-}
	OUT=$RW/out.$f.$what.$((++PMN))
	local rc=0
	case $f:$what in
	deb:install | deb:upgrade) cx env DEBIAN_FRONTEND=noninteractive ${PMENV:-} dpkg --force-confold -i "/var/tmp/share/$v.deb" >"$OUT" 2>&1 || rc=$? ;;
	deb:remove) cx env ${PMENV:-} dpkg -r openim-server >"$OUT" 2>&1 || rc=$? ;;
	deb:purge) cx env ${PMENV:-} dpkg -P openim-server >"$OUT" 2>&1 || rc=$? ;;
	deb:rerun) cx env ${PMENV:-} dpkg --configure -a >"$OUT" 2>&1 || rc=$? ;;
	rpm:install) cx env ${PMENV:-} rpm -i --nodeps "/var/tmp/share/$v.rpm" >"$OUT" 2>&1 || rc=$? ;;
	rpm:upgrade) cx env ${PMENV:-} rpm -U --nodeps --oldpackage "/var/tmp/share/$v.rpm" >"$OUT" 2>&1 || rc=$? ;;
	rpm:remove) cx env ${PMENV:-} rpm -e --nodeps openim-server >"$OUT" 2>&1 || rc=$? ;;
	arch:install | arch:upgrade) cx env ${PMENV:-} pacman -U --noconfirm --overwrite '/etc/openim/*' "/var/tmp/share/$v.pkg.tar.zst" >"$OUT" 2>&1 || rc=$? ;;
	arch:remove) cx env ${PMENV:-} pacman -R --noconfirm openim-server >"$OUT" 2>&1 || rc=$? ;;
	*:rerun | *:printed) # the command the last upgrade printed
		local cmd
		cmd=$(sed -n 's/.*run: \(openim-supervisor upgrade .*\)$/\1/p' "$LASTUP" | tail -n1)
		[[ -n $cmd ]] || { echo "no re-run command in $LASTUP" >"$OUT"; return 1; }
		echo "+ $cmd" >"$OUT"
		cx sh -c "cd /var/lib/openim && runuser -u openim -- ${cmd%% && *} && ${cmd#* && }" >>"$OUT" 2>&1 || rc=$?
		# This machine's cgroupfs (EIO on cgroup.kill: "Failed to kill control
		# group") now and then makes systemd fail a start right after a failed
		# one with 219/CGROUP, before our binary runs; Restart= starts it 5 s
		# later. Only that exit status is forgiven, and it is said.
		if ((rc != 0)) && grep -q '^Summary:' "$OUT" &&
			[[ $(cx systemctl show -p ExecMainStatus --value openim-server) == 219 ]]; then
			echo "NOTE: systemd's own start failed with 219/CGROUP (this sandbox's cgroupfs, not openim-supervisor); Restart= retries" >>"$OUT"
			rc=0
		fi
		;;
	*) echo "pm: $f has no $what" >"$OUT"; return 2 ;;
	esac
	[[ $what == upgrade || $what == install ]] && LASTUP=$OUT
	sed 's/^/    | /' "$OUT"
	return $rc
}
PMN=0
LASTUP=""
pm_version() {
	case $1 in
	deb) cx dpkg-query -W -f '${Version}' openim-server 2>/dev/null ;;
	rpm) cx rpm -q --qf '%{VERSION}' openim-server 2>/dev/null ;;
	arch) cx pacman -Q openim-server 2>/dev/null | awk '{print $2}' ;;
	esac
}
prepare_pm() { # per-format set-up inside a fresh container
	case $1 in
	rpm) cx rpm --initdb ;;
	arch)
		# as on Arch Linux, /bin/sh is bash (nfpm writes .INSTALL with bash's
		# `function name()`; pacman runs it with /bin/sh)
		cx ln -sf bash /bin/sh
		cx sh -c 'printf "[options]\nArchitecture = auto\nSigLevel = Never\nLocalFileSigLevel = Never\n" >/etc/pacman.conf && mkdir -p /var/lib/pacman /var/cache/pacman/pkg'
		;;
	esac
}
# install_running FMT VERSION: installed, configured, enabled and running,
# as an admin leaves it after following the install message.
install_running() {
	pm "$1" install "$2" >/dev/null || return 1
	configure
	cx systemctl enable --now openim-server >/dev/null 2>&1 || return 1
	wait_for 60 is_active && wait_for 60 all_instances_run
}

# --- scenarios -----------------------------------------------------------------
# Each sc_NAME FMT asserts with check/pass/fail. deb/rpm/arch run inside the
# row's container ($C); apk runs in a busybox chroot.

sc_contents() {
	local f=$1 p list
	p=$SHARE/old${EXT[$f]}
	list=$RW/contents.$f
	case $f in
	deb) dpkg-deb -c "$p" | awk '{print $6}' | sed 's#^\./#/#' >"$list" ;;
	rpm) rpm -qpl "$p" 2>/dev/null >"$list" ;;
	arch) tar --zstd -tf "$p" | sed 's#^#/#' >"$list" ;;
	apk) tar -tzf "$p" 2>/dev/null | sed 's#^\./##; s#^#/#' >"$list" ;;
	esac
	local want=(/usr/bin/openim-supervisor /usr/lib/openim/openim-pkg /etc/openim/config.yaml /etc/openim/openim.env
		/etc/openim/config/share.yml /usr/share/man/man1/openim-supervisor.1.gz
		/usr/share/man/man1/openim-supervisor-upgrade.1.gz /usr/share/bash-completion/completions/openim-supervisor
		/usr/share/fish/vendor_completions.d/openim-supervisor.fish)
	case $f in
	deb) want+=(/lib/systemd/system/openim-server.service /usr/lib/sysusers.d/openim-server.conf
		/usr/lib/tmpfiles.d/openim-server.conf /usr/share/zsh/vendor-completions/_openim-supervisor) ;;
	rpm | arch) want+=(/usr/lib/systemd/system/openim-server.service /usr/lib/sysusers.d/openim-server.conf
		/usr/share/zsh/site-functions/_openim-supervisor) ;;
	apk) want+=(/etc/init.d/openim-server /usr/share/zsh/site-functions/_openim-supervisor) ;;
	esac
	local w missing=()
	for w in "${want[@]}"; do grep -qx "$w" "$list" || missing+=("$w"); done
	check "$f: ships ${#want[@]} expected files (missing: ${missing[*]:-none})" test ${#missing[@]} = 0
	check "$f: the 15 OpenIM programs in /usr/lib/openim/bin" test "$(grep -c '^/usr/lib/openim/bin/.' "$list")" = 15
	case $f in
	deb)
		dpkg-deb -I "$p" conffiles >"$RW/conffiles"
		check "deb: conffiles config.yaml, openim.env, OpenIM's yml" \
			bash -c "grep -qx /etc/openim/config.yaml '$RW/conffiles' && grep -qx /etc/openim/openim.env '$RW/conffiles' && grep -qx /etc/openim/config/share.yml '$RW/conffiles'"
		local s
		for s in preinst postinst prerm postrm; do
			check "deb: $s is POSIX sh (dash -n)" bash -c "dpkg-deb --ctrl-tarfile '$p' | tar -xO ./$s | dash -n"
		done
		check "deb: openim-pkg is POSIX sh (dash -n)" dash -n packaging/common/openim-pkg
		;;
	rpm)
		check "rpm: %config(noreplace) config.yaml" bash -c "rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' '$p' 2>/dev/null | grep -q '^cn /etc/openim/config.yaml'"
		# GNU cpio writes absolute member names to /: rpmbuild writes ./usr/...
		check "rpm: payload member names are relative (./...)" \
			bash -c "! rpm2cpio '$p' | cpio -t --quiet 2>/dev/null | grep -qv '^\./'"
		;;
	apk)
		mkdir -p "$RW/apk"
		tar -xzf "$p" -C "$RW/apk" 2>/dev/null || true
		check "apk: .PKGINFO names openim-server 3.8.3" bash -c "grep -q '^pkgname = openim-server' '$RW/apk/.PKGINFO' && grep -q '^pkgver = 3.8.3' '$RW/apk/.PKGINFO'"
		for s in .pre-install .post-install .pre-upgrade .post-upgrade .pre-deinstall .post-deinstall; do
			check "apk: $s (busybox sh -n)" bash -c "test -f '$RW/apk/$s' && busybox sh -n '$RW/apk/$s'"
		done
		check "apk: OpenRC script parses" busybox sh -n "$RW/apk/etc/init.d/openim-server"
		check "apk: no systemd unit" bash -c "! grep -q 'systemd/system/openim-server.service' '$list'"
		check "launchd plist is well-formed XML" python3 -c "import plistlib; plistlib.load(open('packaging/darwin/org.openim.server.plist','rb'))"
		;;
	esac
}

sc_lint() {
	case $1 in
	deb)
		if lintian --fail-on error --tag-display-limit 0 "$SHARE/old.deb" >"$RW/lintian" 2>&1; then pass "lintian: no errors"; else fail "lintian: errors"; fi
		sed 's/^/    | /' "$RW/lintian"
		;;
	rpm)
		# rpmlint unpacks with `rpm2cpio | cpio -id`: its cpio strips a leading
		# / here, so even an rpm with absolute names cannot write into /.
		mkdir -p "$RW/safebin" "$RW/rpmlint.d"
		printf '#!/bin/sh\nexec /usr/bin/cpio --no-absolute-filenames "$@"\n' >"$RW/safebin/cpio"
		chmod +x "$RW/safebin/cpio"
		cat packaging/rpm/rpmlintrc test/packaging/rpmlintrc-standin >"$RW/rpmlintrc"
		if (cd "$RW/rpmlint.d" && PATH=$RW/safebin:$PATH rpmlint -r "$RW/rpmlintrc" "$SHARE/old.rpm") >"$RW/rpmlint" 2>&1; then
			pass "rpmlint: no errors"
		else
			fail "rpmlint: errors"
		fi
		sed 's/^/    | /' "$RW/rpmlint"
		;;
	esac
}

# not_crash_looping: inactive, not failed, never restarted, no supervisor.
not_crash_looping() {
	[[ $(cx systemctl is-active openim-server 2>/dev/null) == inactive ]] &&
		[[ $(cx systemctl show -p NRestarts --value openim-server) == 0 ]] &&
		! cx pgrep -f /usr/bin/openim-supervisor >/dev/null
}

sc_install-waits() {
	local f=$1
	if [[ $f == apk ]]; then apk_install_waits; return; fi
	if pm "$f" install old; then pass "$f: install 3.8.3"; else fail "$f: install 3.8.3"; fi
	check "$f: user openim exists" cx getent passwd openim
	check "$f: env file is 0640 root:openim" test "$(cx stat -c '%a %U:%G' /etc/openim/openim.env)" = "640 root:openim"
	check "$f: says it is not started and what to do next" \
		bash -c "grep -q 'installed, not started' '$OUT' && grep -q 'next:' '$OUT' && grep -q 'systemctl enable --now openim-server' '$OUT'"
	check "$f: the failing checks are shown with their fixes" \
		bash -c "grep -Eq 'FAIL +[a-z]' '$OUT' && grep -q 'fix: ' '$OUT'"
	check "$f: service not enabled" bash -c "! cx systemctl is-enabled --quiet openim-server"
	sleep 5
	check "$f: 5 s later: inactive, never restarted, no supervisor (no crash loop)" not_crash_looping
	configure
	check "$f: configured: the printed next step starts it" cx systemctl enable --now openim-server
	check "$f: active after the admin's start" wait_for 60 is_active
	check "$f: all $EXPECTED_TOTAL instances run" wait_for 60 all_instances_run
}

# hold_host_ports: 10001 and 10002 held on the host (what made the old test
# fail): the container has its own network, so the stand-in's ports there stay
# free. Already held by another program is the same test.

hold_host_ports() {
	python3 -c '
import socket, time
ss = []
for p in (10001, 10002):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("0.0.0.0", p)); s.listen(1); ss.append(s)
    except OSError:
        pass
time.sleep(600)' &
	HOLD_PID=$!
}

sc_install-starts() {
	local f=$1 victim=openim-rpc-user old new score
	hold_host_ports
	# configured before the package arrives (config management)
	cx mkdir -p /etc/openim/config
	cx sh -c 'printf "services:\n  openim-api: {ports: [10002]}\n  openim-msggateway: {ports: [10001]}\n" >/etc/openim/config/standin.yaml'
	# ... with the data version on record (no MongoDB here for the gate)
	cx sh -c 'mkdir -p /var/lib/openim/upgrade && echo "{\"data_version\": \"3.8.3\"}" >/var/lib/openim/upgrade/state.json'
	if pm "$f" install old; then pass "$f: install 3.8.3"; else fail "$f: install 3.8.3"; fi
	check "$f: says installed and started" grep -q 'installed and started' "$OUT"
	check "$f: enabled" is_enabled
	check "$f: active" wait_for 60 is_active
	check "$f: all $EXPECTED_TOTAL configured instances run under the supervisor" wait_for 60 all_instances_run
	check "$f: openim-supervisor status answers" cx openim-supervisor status
	journal_fields() { cx journalctl -u openim-server OPENIM_PROCESS=openim-push OPENIM_INSTANCE=7 -o cat | grep -q 'openim-push (stand-in) index 7'; }
	check "$f: journalctl OPENIM_PROCESS=openim-push OPENIM_INSTANCE=7 finds its output" wait_for 20 journal_fields
	status_text() { cx systemctl show -p StatusText --value openim-server | grep -q ' running'; }
	check "$f: sd_notify STATUS= reaches systemd" wait_for 20 status_text
	# Under the unit's seccomp filter the supervisor still forks from its own
	# threads with small descriptor tables (it warns and falls back if not).
	forker_threads() {
		! cx journalctl -u openim-server -o cat | grep -q 'forking from the shared descriptor table' &&
			cx sh -c 'p=$(systemctl show -p MainPID --value openim-server); for t in /proc/$p/task/*; do ls $t/fd | wc -l; done' |
			awk '$1 <= 8 {n++} END {exit !(n >= 1)}'
	}
	check "$f: children are forked from threads with their own small descriptor table" forker_threads
	old=$(children "$victim")
	if [[ -n $old ]]; then
		cx kill -9 "$old"
		new_child() { new=$(children "$victim"); [[ -n $new && $new != "$old" ]]; }
		check "$f: $victim killed with -9 (pid $old) is back" wait_for 30 new_child
	else
		fail "$f: no $victim to kill"
	fi
	# ports 10001/10002 are held on the host by this test: the container's
	# own network has them free
	check "$f: the stand-in API answers on port 10002 inside (held on the host)" \
		cx python3 -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:10002/healthz',timeout=5).status!=200)"
	kill "$HOLD_PID" 2>/dev/null || true
	if [[ $f == deb ]]; then
		check "$f: systemd-analyze verify is clean" bash -c "! cx systemd-analyze verify openim-server.service 2>&1 | grep ."
		cx systemd-analyze security openim-server.service >"$RW/security" 2>&1 || true
		score=$(sed -n 's/.*Overall exposure level for openim-server.service: \([0-9.]*\).*/\1/p' "$RW/security")
		check "$f: systemd-analyze security < 2.0 (got ${score:-none})" awk -v s="${score:-99}" 'BEGIN{exit !(s < 2.0)}'
		check "$f: man page and bash completion work" \
			cx bash -c 'zcat /usr/share/man/man1/openim-supervisor.1.gz | grep -q "^\.TH" && . /usr/share/bash-completion/completions/openim-supervisor && complete -p openim-supervisor'
	fi
}

sc_preset-disabled() {
	local f=$1
	cx sh -c 'mkdir -p /etc/systemd/system-preset && echo "disable *" >/etc/systemd/system-preset/99-default-disable.preset'
	cx mkdir -p /etc/openim/config
	cx sh -c 'printf "services:\n  openim-api: {ports: [10002]}\n  openim-msggateway: {ports: [10001]}\n" >/etc/openim/config/standin.yaml'
	# ... with the data version on record (no MongoDB here for the gate)
	cx sh -c 'mkdir -p /var/lib/openim/upgrade && echo "{\"data_version\": \"3.8.3\"}" >/var/lib/openim/upgrade/state.json'
	if pm "$f" install old; then pass "$f: install 3.8.3"; else fail "$f: install 3.8.3"; fi
	check "$f: says the preset policy leaves it disabled, and how to start" \
		bash -c "grep -q 'preset policy' '$OUT' && grep -q 'systemctl enable --now openim-server' '$OUT'"
	check "$f: not enabled, not started" bash -c "! cx systemctl is-enabled --quiet openim-server && ! cx systemctl is-active --quiet openim-server"
}

sc_upgrade() {
	local f=$1 order stops_before stops_after
	if [[ $f == apk ]]; then apk_upgrade; return; fi
	check "$f: 3.8.3 installed and running" install_running "$f" old
	cx sed -i 's/^  buffer: 1000 /  buffer: 1234 /' /etc/openim/config.yaml
	check "$f: config edited" cx grep -q 'buffer: 1234' /etc/openim/config.yaml
	cx sh -c 'echo keep >/var/lib/openim/pkgtest-data'
	stops_before=$(cx journalctl -u openim-server -o cat | grep -c '^Stopping ' || true)
	if PMENV=OPENIM_PKG_DEBUG=1 pm "$f" upgrade new; then pass "$f: upgrade to 3.8.4"; else fail "$f: upgrade to 3.8.4"; fi
	check "$f: installed version is 3.8.4 (got $(pm_version "$f"))" bash -c "[[ '$(pm_version "$f")' == 3.8.4* ]]"
	check "$f: config edit survived" cx grep -q 'buffer: 1234' /etc/openim/config.yaml
	check "$f: config migrated to schema 3 (postinst ran config migrate), v2 kept as backup" \
		bash -c "cx grep -q '^version: 3' /etc/openim/config.yaml && cx test -f /etc/openim/config.yaml.v2.bak"
	check "$f: says the config was migrated" grep -q 'migrated /etc/openim/config.yaml from schema version 2 to 3' "$OUT"
	check "$f: data step ran exactly once" test "$(runs)" = 1
	check "$f: upgrade log has --from 3.8.3" cx grep -q 'openim-supervisor upgrade --from 3.8.3$' /var/log/openim/package-upgrade.log
	check "$f: data kept" test "$(cx cat /var/lib/openim/pkgtest-data)" = keep
	check "$f: openim-supervisor is 3.8.4" bash -c "cx openim-supervisor --version | grep -q 3.8.4"
	check "$f: active again" wait_for 60 is_active
	check "$f: all instances run after the upgrade" wait_for 60 all_instances_run
	# journald may write the stop's line a little after the unit is active again.
	stops() { cx journalctl -u openim-server -o cat | grep -c '^Stopping ' || true; }
	stopped_once() { test $(($(stops) - stops_before)) = 1; }
	wait_for 5 stopped_once
	stops_after=$(stops)
	check "$f: stopped once for the upgrade (journal: $((stops_after - stops_before)) stops)" \
		test $((stops_after - stops_before)) = 1
	case $f in
	deb) check "deb: postinst got configure 3.8.3-1" grep -q 'postinst configure 3.8.3-1' "$OUT" ;;
	rpm)
		order=$(grep -o 'openim-server: %[a-z]* *[0-9]*' "$OUT" | sed 's/openim-server: //; s/ *$//' | tr '\n' '|')
		check "rpm: scriptlet order %pre 2|%post 2|%preun 1|%postun 1|%posttrans (got $order)" \
			test "$order" = "%pre 2|%post 2|%preun 1|%postun 1|%posttrans|"
		;;
	arch)
		check "arch: pre_upgrade and post_upgrade got NEW OLD" \
			bash -c "grep -q 'pre_upgrade new=3.8.4-1 old=3.8.3-1' '$OUT' && grep -q 'post_upgrade new=3.8.4-1 old=3.8.3-1' '$OUT'"
		check "arch: install hooks did not run on upgrade" bash -c "! grep -q 'post_install' '$OUT'"
		;;
	esac
}

# sc_openim-config FMT: OpenIM's own config dir across a package upgrade
# (internal/openimconf/merge, run by the maintainer scripts as
# `openim-supervisor config upgrade` before the data upgrade). 3.8.4's files
# (the pkgtest build's) rename share.yml imAdminUserID to
# imAdminUser.userIDs, add imAdminUser.nicknames and rpcMaxBodySize, and
# change openim-api.yml compressionLevel from 0 to 1.
sc_openim-config() {
	local f=$1 d=/etc/openim/config
	check "$f: 3.8.3 installed and running" install_running "$f" old
	cx sed -i 's/^secret: openIM123/secret: admin-secret/; s/^imAdminUserID: \[ imAdmin \]/imAdminUserID: [ ops1, ops2 ]/' $d/share.yml
	cx sed -i 's/  compressionLevel: 0/  compressionLevel: 2/; s#grafanaURL: http://127.0.0.1:13000/#grafanaURL: http://grafana.example:3000/#' $d/openim-api.yml
	check "$f: share.yml and openim-api.yml edited" bash -c "cx grep -q 'secret: admin-secret' $d/share.yml && cx grep -q 'compressionLevel: 2' $d/openim-api.yml"
	if pm "$f" upgrade new </dev/null; then pass "$f: upgrade to 3.8.4 (no stdin)"; else fail "$f: upgrade to 3.8.4 (no stdin)"; fi
	check "$f: no conffile prompt" bash -c "! grep -qiE 'Configuration file .*(modified|==>)|\\*\\*\\* .* \\(Y/I/N/O/D/Z\\)' '$OUT'"
	check "$f: edit kept: share.yml secret" cx grep -q '^secret: admin-secret' $d/share.yml
	check "$f: renamed key carried: imAdminUser.userIDs [ops1, ops2]" cx grep -q 'userIDs: \[ops1, ops2\]' $d/share.yml
	check "$f: the old key is gone" bash -c "! cx grep -q '^imAdminUserID' $d/share.yml"
	check "$f: new keys present: imAdminUser.nicknames, rpcMaxBodySize" \
		bash -c "cx grep -q 'nicknames: \[superAdmin\]' $d/share.yml && cx grep -q 'requestMaxBodySize: 8388608' $d/share.yml"
	check "$f: true conflict: your compressionLevel 2 kept" cx grep -q 'compressionLevel: 2' $d/openim-api.yml
	check "$f: non-conflicting edit kept: grafanaURL" cx grep -q 'grafanaURL: http://grafana.example:3000/' $d/openim-api.yml
	check "$f: .new only for the conflict (openim-api.yml.new)" \
		bash -c "[ \"\$(cx sh -c 'ls $d/*.new' | tr '\n' ' ')\" = '$d/openim-api.yml.new ' ]"
	check "$f: the dir is stamped 3.8.4" bash -c "cx tail -n 1 $d/openim-version | grep -qx 3.8.4"
	check "$f: the upgrade output names the conflict" grep -q 'conflict openim-api.yml' "$OUT"
	check "$f: config check lists the .new file" bash -c "cx openim-supervisor config check --config /etc/openim/config.yaml 2>&1 | grep -q 'openim-api.yml.new: an upgrade kept your value'"
	check "$f: active again" wait_for 60 is_active
}

sc_upgrade-fail-rerun() {
	local f=$1 before
	check "$f: 3.8.3 installed and running" install_running "$f" old
	cx sh -c 'echo keep >/var/lib/openim/pkgtest-data; touch /var/lib/openim/pkgtest-fail'
	local rc=0
	pm "$f" upgrade new || rc=$?
	case $f in
	deb)
		check "deb: a failing data step makes dpkg fail" test "$rc" != 0
		check "deb: package left half-configured" bash -c "cx dpkg-query -W -f '\${Status}' openim-server | grep -q half-configured"
		check "deb: message names the log and dpkg --configure -a" \
			bash -c "grep -q '/var/log/openim/package-upgrade.log' '$OUT' && grep -q 'dpkg --configure -a' '$OUT'"
		;;
	rpm)
		check "rpm: the failed %posttrans is reported" grep -q 'posttrans.*scriptlet failed' "$OUT"
		check "rpm: message names the log and the re-run command" \
			bash -c "grep -q '/var/log/openim/package-upgrade.log' '$OUT' && grep -q 'openim-supervisor upgrade --from 3.8.3' '$OUT'"
		;;
	esac
	check "$f: the step's error is shown" grep -q 'pkgtest-fail exists' "$OUT"
	check "$f: data intact after the failure" test "$(cx cat /var/lib/openim/pkgtest-data)" = keep
	check "$f: OpenIM left stopped" bash -c "! cx systemctl is-active --quiet openim-server"
	before=$(runs)
	cx rm -f /var/lib/openim/pkgtest-fail
	if pm "$f" rerun; then pass "$f: the re-run succeeds"; else fail "$f: the re-run succeeds"; fi
	check "$f: the re-run ran the step once more" test "$(runs)" = $((before + 1))
	check "$f: active after the re-run" wait_for 60 is_active
	[[ $f != deb ]] || check "deb: installed after the re-run" bash -c "cx dpkg-query -W -f '\${Status}' openim-server | grep -q 'install ok installed'"
}

sc_skip-file() {
	local f=$1
	check "$f: 3.8.3 installed and running" install_running "$f" old
	# A deployment that was migrated by packages before has a data version on
	# record (what makes `run` refuse unmigrated data).
	cx sh -c 'cd /var/lib/openim && runuser -u openim -- openim-supervisor upgrade --from 3.8.3 --yes >/dev/null'
	check "$f: the data version 3.8.3 is on record" cx grep -q '3.8.3' /var/lib/openim/upgrade/state.json
	cx touch /etc/openim/skip-auto-upgrade
	if pm "$f" upgrade new; then pass "$f: upgrade with the skip file succeeds"; else fail "$f: upgrade with the skip file succeeds"; fi
	check "$f: says the data upgrade was skipped, and what to run" \
		bash -c "grep -q 'skipped the OpenIM data upgrade' '$OUT' && grep -q 'openim-supervisor upgrade --from 3.8.3' '$OUT'"
	check "$f: the data step did not run" test "$(runs)" = 0
	check "$f: OpenIM left stopped" bash -c "! cx systemctl is-active --quiet openim-server"
	cx systemctl start openim-server >/dev/null 2>&1 || true
	gate_refused() { cx journalctl -u openim-server -o cat | grep -q 'run `openim-supervisor upgrade` first'; }
	check "$f: the run gate refuses the unmigrated data" wait_for 30 gate_refused
	check "$f: ... and it is not restarted (exit 5 prevents restarts)" bash -c "! cx systemctl is-active --quiet openim-server"
	if pm "$f" printed; then pass "$f: the printed command works"; else
		fail "$f: the printed command works"
		unit_journal
	fi
	check "$f: the step ran" test "$(runs)" = 1
	check "$f: active" wait_for 60 is_active
}

sc_gate-waits() {
	local f=$1 t0 took
	check "$f: 3.8.3 installed and running" install_running "$f" old
	cx systemctl stop openim-server
	# Installed by hand, or the state record lost, and no MongoDB (none in the
	# container): run's version gate looks for the data for 90 s, longer
	# than the unit's TimeoutStartSec alone allows.
	cx rm -f /var/lib/openim/upgrade/state.json
	t0=$SECONDS
	cx systemctl start --no-block openim-server
	gate_status() { cx systemctl show -p StatusText --value openim-server | grep -q 'version gate'; }
	check "$f: the unit's status says what the start waits for" wait_for 20 gate_status
	gate_gave_up() { cx journalctl -u openim-server -o cat | grep -q 'the data version cannot be read within 1m30s'; }
	check "$f: the gate gives up with its own error, naming what to do" wait_for 140 gate_gave_up
	took=$((SECONDS - t0))
	check "$f: ... after its 90 s wait (took $took s)" test "$took" -ge 88
	if cx journalctl -u openim-server -o cat | grep -q 'Start operation timed out'; then
		fail "$f: systemd's start timeout ended the wait first"
		unit_journal
	else
		pass "$f: systemd's start timeout did not end the wait first"
	fi
	cx systemctl stop openim-server
}

sc_downgrade-refused() {
	local f=$1
	if [[ $f == apk ]]; then apk_downgrade; return; fi
	check "$f: 3.8.4 installed and running" install_running "$f" new
	local rc=0
	pm "$f" upgrade old || rc=$?
	check "$f: downgrade to 3.8.3 refused" test "$rc" != 0
	check "$f: says why" grep -q 'refusing to downgrade from 3.8.4' "$OUT"
	check "$f: still 3.8.4 (got $(pm_version "$f"))" bash -c "[[ '$(pm_version "$f")' == 3.8.4* ]]"
	check "$f: still active" is_active
}

sc_remove-reinstall() {
	local f=$1
	check "$f: 3.8.3 installed and running" install_running "$f" old
	cx sh -c 'echo keep >/var/lib/openim/pkgtest-data'
	if pm "$f" remove; then pass "$f: remove"; else fail "$f: remove"; fi
	check "$f: stopped after remove" bash -c "! cx systemctl is-active --quiet openim-server"
	check "$f: no OpenIM process after remove" bash -c "! cx pgrep -f /usr/lib/openim/bin/"
	check "$f: remove keeps the data" cx test -f /var/lib/openim/pkgtest-data
	case $f in
	deb) check "deb: remove keeps the config" cx test -f /etc/openim/config.yaml ;;
	rpm) check "rpm: remove keeps the edited config as .rpmsave" cx test -f /etc/openim/config/standin.yaml.rpmsave ;;
	esac
	if pm "$f" install old; then pass "$f: reinstall"; else fail "$f: reinstall"; fi
	case $f in
	deb) check "deb: reinstall restores the enabled service and starts it" wait_for 60 is_active ;;
	rpm) check "rpm: reinstall (a fresh rpm install) leaves it to the admin, says how" grep -q 'systemctl enable --now\|installed and started' "$OUT" ;;
	esac
	check "$f: data still there" test "$(cx cat /var/lib/openim/pkgtest-data)" = keep
}

sc_purge() {
	local f=$1
	check "$f: 3.8.3 installed and running" install_running "$f" old
	cx sh -c 'mkdir -p /var/lib/openim/backup/20260101T000000Z && echo dump >/var/lib/openim/backup/20260101T000000Z/user.jsonl && chown -R openim:openim /var/lib/openim/backup'
	if pm "$f" purge; then pass "$f: purge"; else fail "$f: purge"; fi
	check "$f: purge removed /etc/openim and /var/log/openim" cx sh -c '! test -e /etc/openim && ! test -e /var/log/openim'
	check "$f: purge kept the backups, nothing else of /var/lib/openim" \
		bash -c "cx test -f /var/lib/openim/backup/20260101T000000Z/user.jsonl && [[ \$(cx ls -A /var/lib/openim) == backup ]]"
	check "$f: says where the backups are and how to delete them" \
		bash -c "grep -q 'kept the pre-upgrade backups in /var/lib/openim/backup' '$OUT' && grep -q 'rm -rf /var/lib/openim' '$OUT'"
	check "$f: unit forgotten (deb-systemd-helper purge)" bash -c "! cx systemctl is-enabled --quiet openim-server"
	pm "$f" install old >/dev/null || true
	if PMENV=OPENIM_PURGE_BACKUPS=yes pm "$f" purge; then pass "$f: purge with OPENIM_PURGE_BACKUPS=yes"; else fail "$f: purge with OPENIM_PURGE_BACKUPS=yes"; fi
	check "$f: ... deletes the backups too" bash -c "! cx test -e /var/lib/openim"
}

# quiet: an install, an upgrade and a remove print no trace line from the
# maintainer scripts (only what needs the admin).
sc_quiet() {
	local f=$1 all=$RW/quiet.$f
	: >"$all"
	pm "$f" install old >/dev/null || true
	cat "$OUT" >>"$all"
	configure
	cx systemctl enable --now openim-server >/dev/null 2>&1 || true
	pm "$f" upgrade new >/dev/null || true
	cat "$OUT" >>"$all"
	pm "$f" remove >/dev/null || true
	cat "$OUT" >>"$all"
	local trace='^openim-server: (preinst|postinst|prerm|postrm|%[a-z]+|pre_[a-z]+|post_[a-z]+|pre-[a-z]+|post-[a-z]+)( |$)'
	check "$f: no trace lines from the maintainer scripts" bash -c "! grep -Eq '$trace' '$all'"
	check "$f: the upgrade said one line about the data upgrade" grep -q 'OpenIM data upgraded from 3.8.3' "$all"
	check "$f: at most 12 lines of our own over install, upgrade and remove" \
		test "$(grep -c '^openim-server: ' "$all")" -le 12
}

# --- apk: the .apk's scripts in a busybox chroot (no apk-tools, no OpenRC) ---------
make_busybox_root() { # DIR
	local r=$1
	mkdir -p "$r/bin" "$r/sbin" "$r/usr/bin" "$r/usr/sbin" "$r/etc" "$r/tmp" "$r/var/lib" "$r/var/log" "$r/run" "$r/dev" "$r/proc"
	cp "$(command -v busybox)" "$r/bin/busybox"
	chroot "$r" /bin/busybox --install -s
	mknod -m 666 "$r/dev/null" c 1 3
	mknod -m 666 "$r/dev/zero" c 1 5
	mknod -m 444 "$r/dev/urandom" c 1 9
	mount -t proc proc "$r/proc"
	MOUNTS+=("$r/proc")
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
	printf 'root:x:0:\n' >"$r/etc/group"
	: >"$r/etc/shadow"
	# Debian's busybox-static lacks Alpine's adduser/addgroup applets:
	# minimal stand-ins with the same flags.
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
APKR=""
apk_unpack() { # apk_unpack old|new: files into the chroot, scripts into its /tmp
	local d=$RW/apk-$1
	rm -rf "$d"
	mkdir -p "$d"
	tar -xzf "$SHARE/$1.apk" -C "$d" 2>/dev/null || true
	(cd "$d" && tar --exclude='./.*' -cf - .) | tar -xf - -C "$APKR"
	cp "$d"/.[a-z]* "$APKR/tmp/"
	sed -n 's/^pkgver = //p' "$d/.PKGINFO"
}
apk_script() { # apk_script NAME ARGS...: output in $OUT
	OUT=$RW/out.apk.$1.$((++PMN))
	local rc=0
	chroot "$APKR" /bin/sh "/tmp/.$1" "${@:2}" >"$OUT" 2>&1 || rc=$?
	sed 's/^/    | /' "$OUT"
	return $rc
}
apk_root() {
	APKR=$RW/apkroot.$((++PMN))
	make_busybox_root "$APKR"
}
apk_install_waits() {
	local v
	apk_root
	v=$(apk_unpack old)
	check "apk: .pre-install $v" apk_script pre-install "$v"
	check "apk: .post-install $v" apk_script post-install "$v"
	check "apk: user openim created" grep -q '^openim:' "$APKR/etc/passwd"
	check "apk: /var/lib/openim owned by openim" test "$(stat -c %u "$APKR/var/lib/openim")" = 999
	check "apk: says it is not started and how to start it (OpenRC)" \
		bash -c "grep -q 'installed, not started' '$OUT' && grep -q 'rc-update add openim-server default' '$OUT'"
}
apk_upgrade() {
	local o n
	apk_root
	o=$(apk_unpack old)
	apk_script post-install "$o" >/dev/null
	n=$(apk_unpack new)
	check "apk: .pre-upgrade $n $o" apk_script pre-upgrade "$n" "$o"
	check "apk: .post-upgrade $n $o runs the data step" apk_script post-upgrade "$n" "$o"
	check "apk: the data step ran once" test "$(wc -l <"$APKR/var/lib/openim/pkgtest-runs.log" 2>/dev/null)" = 1
	check "apk: config migrated to schema 3" grep -q '^version: 3' "$APKR/etc/openim/config.yaml"
}
apk_downgrade() {
	local o n
	apk_root
	n=$(apk_unpack new)
	o=$(sed -n 's/^pkgver = //p' "$RW/apk-new/.PKGINFO")
	apk_unpack old >/dev/null
	o=$(sed -n 's/^pkgver = //p' "$RW/apk-old/.PKGINFO")
	check "apk: .pre-upgrade refuses a downgrade $n -> $o" bash -c "! chroot '$APKR' /bin/sh /tmp/.pre-upgrade '$o' '$n' >/dev/null 2>&1"
}

# --- runner ---------------------------------------------------------------------
# Rows run PKGTEST_JOBS at a time (default 3: a row mostly waits on a
# booting container, dpkg or systemd), each in a subshell with its own scratch
# dir ($RW) and container; their output is printed in table order.

ROWS=()
while read -r f sc _; do
	[[ -z $f || $f == \#* ]] && continue
	[[ -z ${PKGTEST_ONLY:-} || "$f $sc" =~ $PKGTEST_ONLY ]] || continue
	ROWS+=("$f $sc")
done <<<"$ACCEPTANCE"
for row in "${ROWS[@]}"; do
	case $row in
	*" contents" | *" lint" | "apk "*) ;;
	*)
		ROOTFS=$(ctr_rootfs) || { fail "debootstrap bookworm"; summary; exit 1; }
		NET=$(ctr_net_new) || { fail "private network"; summary; exit 1; }
		break
		;;
	esac
done

run_row() { # run_row FORMAT SCENARIO N (in a subshell)
	local f=$1 sc=$2 t0=$SECONDS m
	RW=$WORK/rows/$3
	mkdir -p "$RW"
	log "$f $sc"
	if ! declare -F "sc_$sc" >/dev/null; then
		fail "$f $sc: no function sc_$sc"
		return
	fi
	case $f:$sc in
	*:contents | *:lint | apk:*) "sc_$sc" "$f" ;;
	*)
		C=$f-${sc//[^a-z0-9]/}
		export C=${C:0:60}
		if ctr_boot "$C" "$ROOTFS" "$NET" --bind-ro="$SHARE:/var/tmp/share"; then
			prepare_pm "$f"
			"sc_$sc" "$f"
			if [[ $FAIL != 0 ]]; then
				cx systemctl status --no-pager -n 30 openim-server 2>&1 | sed 's/^/    # /' || true
			fi
		else
			fail "$f $sc: boot the container"
		fi
		ctr_stop "$C"
		;;
	esac
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
	echo "    ($f $sc: $((SECONDS - t0)) s)"
}

JOBS=${PKGTEST_JOBS:-3}
mkdir -p "$WORK/rows"
PIDS=()
t_rows=$SECONDS
for i in "${!ROWS[@]}"; do
	while (($(jobs -rp | wc -l) >= JOBS)); do wait -n || true; done
	# shellcheck disable=SC2086
	(
		PASS=0 FAIL=0
		run_row ${ROWS[$i]} "$i"
	) >"$WORK/rows/$i.log" 2>&1 </dev/null &
	PIDS[i]=$!
done
for i in "${!ROWS[@]}"; do
	wait "${PIDS[$i]}" || true
	cat "$WORK/rows/$i.log"
	PASS=$((PASS + $(grep -c '^PASS: ' "$WORK/rows/$i.log" || true)))
	FAIL=$((FAIL + $(grep -c '^FAIL: ' "$WORK/rows/$i.log" || true)))
	grep -q "^    (${ROWS[$i]}: [0-9]* s)$" "$WORK/rows/$i.log" || fail "${ROWS[$i]}: the row ended early (set -e)"
done
echo "${#ROWS[@]} rows in $((SECONDS - t_rows)) s, $JOBS at a time"

if scripts/lib/host-clean.sh >"$WORK/host-clean" 2>&1; then
	pass "nothing of openim-server on the host"
else
	sed 's/^/    /' "$WORK/host-clean"
	fail "nothing of openim-server on the host"
fi
summary
[[ $FAIL == 0 ]]
