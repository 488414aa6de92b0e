#!/usr/bin/env bash
# host-clean.sh: fails when anything the openim-server package installs exists
# on THIS machine. Tests install packages only into containers and temp
# roots; a file here means a test wrote into the host root (as rpmlint did
# with nfpm's absolute rpm payload paths). scripts/test.sh runs it after every
# suite, 40-packaging.sh at its end.
#
#   scripts/lib/host-clean.sh [ROOT]    (ROOT defaults to /; exit 1 if dirty)
#
# Prints "N passed, N failed" last, like the suites.
set -uo pipefail
R=${1:-/}
R=${R%/}

# What the packages ship or create (packaging/nfpm.yaml, the maintainer
# scripts): dirs, files, the service user and group.
PATHS=(
	/etc/openim
	/usr/lib/openim
	/usr/bin/openim-supervisor
	/var/lib/openim
	/var/log/openim
	/lib/systemd/system/openim-server.service
	/usr/lib/systemd/system/openim-server.service
	/etc/systemd/system/multi-user.target.wants/openim-server.service
	/usr/lib/sysusers.d/openim-server.conf
	/usr/lib/tmpfiles.d/openim-server.conf
	/etc/init.d/openim-server
	/usr/share/man/man1/openim-supervisor.1.gz
	/usr/share/bash-completion/completions/openim-supervisor
)

found=0
for p in "${PATHS[@]}"; do
	if [[ -e $R$p || -L $R$p ]]; then
		echo "FAIL: $R$p exists on this machine (a test installed into the host root?)"
		found=$((found + 1))
	fi
done
for db in passwd group; do
	if grep -q '^openim:' "$R/etc/$db" 2>/dev/null; then
		echo "FAIL: $db entry 'openim' exists on this machine ($R/etc/$db)"
		found=$((found + 1))
	fi
done
if ((found)); then
	echo "Nothing of openim-server may be on the machine that runs the tests."
	echo "Remove it (as root): rm -rf /etc/openim /usr/lib/openim /var/lib/openim /var/log/openim /usr/bin/openim-supervisor; userdel openim; groupdel openim"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "PASS: nothing of openim-server on this machine (${#PATHS[@]} paths, user and group openim)"
echo "1 passed, 0 failed"
