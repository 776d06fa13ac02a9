#!/usr/bin/env bash
# deploy/linux/install_test.sh — run by scripts/test.sh (step "install.sh").
# Installs into scratch roots with DESTDIR and checks that:
#   - two fresh installs, and a second install over the first, give the
#     same tree (paths, modes, contents);
#   - /etc/cantina-ops/env is created with mode 0600 and an existing one is
#     never overwritten (nor its mode changed);
#   - env.example names every variable of README.md's configuration table;
#   - the four units share one hardening block (no drift between them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cantina-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fails=0
fail() {
	printf 'install_test: FAIL: %s\n' "$*" >&2
	fails=$((fails + 1))
}

# A stand-in binary: the tests check the installer, not the program.
bin="$tmp/cantina-ops"
printf '#!/bin/sh\necho cantina-ops test\n' >"$bin"
chmod 0755 "$bin"

install_into() { DESTDIR="$1" bash "$here/install.sh" "$bin" >"$1.log" 2>&1 || {
	cat "$1.log" >&2
	fail "install.sh into $1 failed"
}; }

# snapshot ROOT: one line per path with its mode, then each file's checksum.
snapshot() {
	(cd "$1" && find . -printf '%p %m %y\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}

install_into "$tmp/a"
install_into "$tmp/b"
snapshot "$tmp/a" >"$tmp/a.first"
snapshot "$tmp/b" >"$tmp/b.snap"
diff -u "$tmp/a.first" "$tmp/b.snap" >&2 || fail "two fresh installs differ"
install_into "$tmp/a"
snapshot "$tmp/a" >"$tmp/a.second"
diff -u "$tmp/a.first" "$tmp/a.second" >&2 || fail "a second install over the first changed the tree"
grep -q 'skipping user creation, chown and systemctl' "$tmp/a.log" || fail "install.sh with DESTDIR does not say what it skips"
grep -q 'systemctl enable --now' "$tmp/a.log" || fail "install.sh prints no next steps"

env_file="$tmp/a/etc/cantina-ops/env"
[ "$(stat -c %a "$env_file")" = 600 ] || fail "env has mode $(stat -c %a "$env_file"), want 600"
cmp -s "$env_file" "$here/env.example" || fail "a new env is not a copy of env.example"
for d in var/lib/cantina-ops var/lib/cantina-ops/backups var/log/cantina-ops; do
	[ "$(stat -c %a "$tmp/a/$d")" = 750 ] || fail "$d has mode $(stat -c %a "$tmp/a/$d"), want 750"
done

# An administrator's env (and its mode) survives a reinstall.
printf 'DATABASE_URL=mysql://admin-edit\n' >"$env_file"
chmod 0640 "$env_file"
install_into "$tmp/a"
[ "$(cat "$env_file")" = "DATABASE_URL=mysql://admin-edit" ] || fail "install.sh overwrote an existing env"
[ "$(stat -c %a "$env_file")" = 640 ] || fail "install.sh changed an existing env's mode"
grep -q 'warning: /etc/cantina-ops/env has mode 640' "$tmp/a.log" || fail "no warning about an env readable by others"

# Every variable of the README's configuration table is in the template.
readme_vars=$(awk '/^## Configuration/{on=1; next} /^## /{on=0} on && /^\| `/' "$top/README.md" |
	awk -F'|' '{print $2}' | grep -o '`[A-Z][A-Z0-9_]*`' | tr -d '`' | sort -u)
[ -n "$readme_vars" ] || fail "found no variables in README.md's configuration table"
for v in $readme_vars; do
	grep -Eq "^#?$v=" "$here/env.example" || fail "env.example lacks $v (README.md lists it)"
done

# The units differ only in what they run; the hardening block is shared.
hardening() { sed -n '/^# Hardening/,/^\[Install\]/p' "$1"; }
ref=$(hardening "$here/cantina-ops.service")
[ -n "$ref" ] || fail "cantina-ops.service has no hardening block"
for u in web worker scheduler; do
	[ "$(hardening "$here/cantina-ops-$u.service")" = "$ref" ] || fail "cantina-ops-$u.service's hardening differs from cantina-ops.service's"
done

if [ "$fails" -gt 0 ]; then
	printf 'install_test: %d check(s) failed\n' "$fails" >&2
	exit 1
fi
echo "install_test: identical trees from two installs and a reinstall; env 0600 and never overwritten; env.example complete"
