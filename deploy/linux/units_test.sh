#!/usr/bin/env bash
# deploy/linux/units_test.sh — run by scripts/test.sh (step "systemd units").
# Installs into a scratch root with DESTDIR (so ExecStart's
# /usr/local/bin/cantina-ops exists there), adds a copy of the host's
# systemd units (sysinit.target, network-online.target …) and runs
# `systemd-analyze verify --root` on the four installed units. systemd-analyze
# exits 0 on unknown keys and bad values (it only warns), so any output is a
# failure. A deliberately broken copy checks that the check can fail.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
units=(cantina-ops.service cantina-ops-web.service cantina-ops-worker.service cantina-ops-scheduler.service)

command -v systemd-analyze >/dev/null 2>&1 || {
	echo "units_test: systemd-analyze not found (Debian package systemd)" >&2
	exit 1
}
sysunits=""
for d in /usr/lib/systemd/system /lib/systemd/system; do
	[ -e "$d/sysinit.target" ] && sysunits=$d && break
done
[ -n "$sysunits" ] || {
	echo "units_test: no systemd unit directory with sysinit.target found" >&2
	exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cantina-units.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
printf '#!/bin/sh\n' >"$tmp/cantina-ops"
chmod 0755 "$tmp/cantina-ops"
DESTDIR="$tmp/root" bash "$here/install.sh" "$tmp/cantina-ops" >/dev/null
mkdir -p "$tmp/root/usr/lib/systemd"
cp -a "$sysunits" "$tmp/root/usr/lib/systemd/system"

# verify UNIT...: systemd-analyze verify in the scratch root, silent and 0.
verify() {
	local out rc=0
	out=$(cd "$tmp" && systemd-analyze verify --root="$tmp/root" "$@" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
		printf '%s\n' "$out"
		return 1
	fi
}

if ! verify "${units[@]}" >"$tmp/out"; then
	cat "$tmp/out" >&2
	echo "units_test: FAIL: systemd-analyze verify reported problems in the units" >&2
	exit 1
fi
# The check must catch a typo that systemd only warns about.
sed -i 's/^ProtectSystem=strict/ProtectSystem=strickt/' "$tmp/root/etc/systemd/system/cantina-ops-web.service"
if verify cantina-ops-web.service >/dev/null; then
	echo "units_test: FAIL: a unit with ProtectSystem=strickt passed verification" >&2
	exit 1
fi
echo "units_test: systemd-analyze verify passed: ${units[*]}"
