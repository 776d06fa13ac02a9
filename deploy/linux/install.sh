#!/usr/bin/env bash
# deploy/linux/install.sh [BINARY] — installs cantina-ops as systemd services.
#
# Installs the binary in /usr/local/bin, the units in /etc/systemd/system,
# cantina-ops-admin in /usr/local/sbin, creates the cantina-ops system user,
# /var/lib/cantina-ops{,/backups} and /var/log/cantina-ops, and
# /etc/cantina-ops/env (mode 0600) from env.example only when it does not
# exist. Safe to run again (upgrades): it never touches an existing env file.
#
# BINARY defaults to ./cantina-ops next to README.md (a release archive),
# else bin/cantina-ops, built with `go build` when absent (a source checkout).
# DESTDIR=/some/root installs into a scratch root instead, without creating
# the user, changing owners or calling systemctl.
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
DESTDIR=${DESTDIR:-}
DESTDIR=${DESTDIR%/}

log() { printf 'install: %s\n' "$*"; }
die() {
	printf 'install: error: %s\n' "$*" >&2
	exit 1
}

# find_binary prints the binary to install, building it in a source checkout.
find_binary() {
	if [ $# -gt 0 ]; then
		[ -f "$1" ] && [ -x "$1" ] || die "$1 is not an executable file"
		printf '%s\n' "$1"
	elif [ -f "$top/cantina-ops" ]; then
		printf '%s\n' "$top/cantina-ops"
	elif [ -f "$top/bin/cantina-ops" ]; then
		printf '%s\n' "$top/bin/cantina-ops"
	elif [ -f "$top/go.mod" ]; then
		command -v go >/dev/null 2>&1 || die "no binary given and go is not on PATH: pass the cantina-ops binary as argument"
		log "building $top/bin/cantina-ops" >&2
		(cd "$top" && go build -trimpath -o bin/cantina-ops ./cmd/cantina-ops) || die "go build failed"
		printf '%s\n' "$top/bin/cantina-ops"
	else
		die "no cantina-ops binary found: pass its path as argument"
	fi
}

[ $# -le 1 ] || die "usage: install.sh [BINARY]"
if [ -z "$DESTDIR" ] && [ "$(id -u)" -ne 0 ]; then
	die "run as root (sudo bash $0), or set DESTDIR to install into a scratch root"
fi
bin=$(find_binary "$@")
root=${DESTDIR:-}
if [ -n "$DESTDIR" ]; then
	log "DESTDIR=$DESTDIR: skipping user creation, chown and systemctl daemon-reload"
fi

# owned PATH USER: chown PATH to USER's user and group, on a real install only.
owned() {
	[ -n "$DESTDIR" ] || chown "$2:$2" "$1"
}

# Replace the binary by rename, so a running service keeps its old file.
install -d -m 0755 "$root/usr/local/bin" "$root/usr/local/sbin" "$root/etc/systemd/system"
install -m 0755 "$bin" "$root/usr/local/bin/.cantina-ops.new"
mv -f "$root/usr/local/bin/.cantina-ops.new" "$root/usr/local/bin/cantina-ops"
install -m 0755 "$here/cantina-ops-admin" "$root/usr/local/sbin/cantina-ops-admin"
for unit in cantina-ops.service cantina-ops-web.service cantina-ops-worker.service cantina-ops-scheduler.service; do
	install -m 0644 "$here/$unit" "$root/etc/systemd/system/$unit"
done
log "installed /usr/local/bin/cantina-ops, /usr/local/sbin/cantina-ops-admin and the units in /etc/systemd/system"

if [ -z "$DESTDIR" ] && ! id cantina-ops >/dev/null 2>&1; then
	useradd --system --user-group --home-dir /var/lib/cantina-ops --no-create-home \
		--shell /usr/sbin/nologin --comment "cantina-ops services" cantina-ops ||
		die "useradd cantina-ops failed"
	log "created the system user cantina-ops"
fi

# State and logs: only the service user (and root) may read backups and logs.
for d in /var/lib/cantina-ops /var/lib/cantina-ops/backups /var/log/cantina-ops; do
	install -d -m 0750 "$root$d"
	chmod 0750 "$root$d"
	owned "$root$d" cantina-ops
done

install -d -m 0755 "$root/etc/cantina-ops"
install -m 0644 "$here/env.example" "$root/etc/cantina-ops/env.example"
env_file="$root/etc/cantina-ops/env"
if [ -e "$env_file" ]; then
	log "kept the existing /etc/cantina-ops/env (compare with /etc/cantina-ops/env.example for new variables)"
	mode=$(stat -c %a "$env_file")
	[ "$mode" = 600 ] || log "warning: /etc/cantina-ops/env has mode $mode; it holds passwords: chmod 0600 /etc/cantina-ops/env"
else
	# Created 0600 from the start: no moment where it is readable by others.
	(umask 077 && cp "$here/env.example" "$env_file")
	chmod 0600 "$env_file"
	log "created /etc/cantina-ops/env (mode 0600) from the template"
fi

[ -n "$DESTDIR" ] || systemctl daemon-reload || log "warning: systemctl daemon-reload failed; run it before starting the units"

cat <<'NEXT'

Next steps:
  1. Edit /etc/cantina-ops/env: at least DATABASE_URL (or DB_*), REDIS_URL,
     EMAIL_* and NOTIFY_EMAILS.
  2. Check it:  sudo cantina-ops-admin config check
  3. Start, either all in one process (one small server):
       sudo systemctl enable --now cantina-ops.service
     or as three units you can restart and watch separately:
       sudo systemctl enable --now cantina-ops-web.service cantina-ops-worker.service cantina-ops-scheduler.service
  4. Watch:  systemctl status 'cantina-ops*'; journalctl -u 'cantina-ops*' -f
     (log files in /var/log/cantina-ops). Health: sudo cantina-ops-admin health
After an upgrade (this script run again): sudo systemctl restart 'cantina-ops*'
NEXT
