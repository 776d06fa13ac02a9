#!/usr/bin/env bash
# scripts/windows-smoke.sh — runs cantina-ops.exe (GOOS=windows) under Wine
# against a private Redis and MariaDB: config check (from a .env file in the
# working directory, as the Windows scheduled tasks run it), demo seed,
# backup run / list / verify --latest --restore-test / restore --database,
# backup cleanup, worker, scheduler and health --json, with BACKUP_DIR a
# Windows path (Z:\...). Not part of `make test`: Wine is large, and it is
# not Windows.
#
# Go 1.22+ programs need bcryptprimitives.dll (ProcessPrng), which Wine 8
# (Debian 12) lacks: the script builds a one-export stub DLL that forwards
# ProcessPrng to advapi32's RtlGenRandom (SystemFunction036), with the
# MinGW binutils, into the private Wine prefix.
#
# Usage: bash scripts/windows-smoke.sh    (exit 0 when every step passed)
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/services.sh
. scripts/services.sh

log() { printf 'windows-smoke: %s\n' "$*" >&2; }

svc_install_packages redis-server redis-tools mariadb-server mariadb-client wine64 binutils-mingw-w64-x86-64
WINE=/usr/lib/wine/wine64
[ -x "$WINE" ] || WINE=$(command -v wine64 || command -v wine || true)
[ -n "$WINE" ] && [ -x "$WINE" ] || svc_die "wine64 is missing after installing packages"
WINESERVER=/usr/lib/wine/wineserver64
[ -x "$WINESERVER" ] || WINESERVER=$(command -v wineserver || true)

WORK=""
# shellcheck disable=SC2317 # trap handler
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	svc_stop_all
	if [ -n "$WORK" ] && [ -x "$WINESERVER" ]; then
		WINEPREFIX="$WORK/wine" "$WINESERVER" -k 2>/dev/null || true
		WINEPREFIX="$WORK/wine" "$WINESERVER" -w 2>/dev/null || true
	fi
	[ -n "$WORK" ] && rm -rf "$WORK"
	[ "$rc" -ne 0 ] && log "FAILED (exit $rc)"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cantina-windows-smoke.XXXXXX")
export WINEPREFIX="$WORK/wine" WINEDEBUG=-all

log "building cantina-ops.exe"
GOOS=windows GOARCH=amd64 go build -o "$WORK/cantina-ops.exe" ./cmd/cantina-ops

log "preparing a Wine prefix"
"$WINE" cmd /c exit >/dev/null 2>&1 || true # creates the prefix
mkdir -p "$WORK/stub"
printf '\t.text\n' >"$WORK/stub/empty.s"
printf 'LIBRARY bcryptprimitives.dll\nEXPORTS\nProcessPrng = advapi32.SystemFunction036\n' >"$WORK/stub/stub.def"
x86_64-w64-mingw32-as -o "$WORK/stub/empty.o" "$WORK/stub/empty.s"
x86_64-w64-mingw32-ld -shared -e 0 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
	"$WORK/stub/empty.o" "$WORK/stub/stub.def"

svc_start_on redis 6690 svc_start_redis "$WORK/redis"
REDIS_PORT=$SVC_PORT
svc_start_on mariadb 3690 svc_start_mariadb "$WORK/mariadb"
MYSQL_PORT=$SVC_PORT
DB_USER=smoke
DB_PASS=$(svc_random_password)
svc_mariadb_account "$DB_USER" "$DB_PASS" || exit 1
root_sql() { mariadb --no-defaults --socket="$SVC_MYSQL_SOCKET" -uroot -N -B -e "$1"; }
root_sql "CREATE DATABASE IF NOT EXISTS pos"

# The working directory plays C:\ProgramData\cantina-ops: configuration in
# its .env, nothing in the environment but what Wine needs.
DATA="$WORK/programdata"
mkdir -p "$DATA"
winpath() { printf 'Z:%s' "${1//\//\\}"; }
cat >"$DATA/.env" <<-EOF
	DATABASE_URL=mysql://$DB_USER:$(svc_urlencode "$DB_PASS")@127.0.0.1:$MYSQL_PORT/pos
	REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
	BACKUP_DIR=$(winpath "$DATA/backups")
	LOG_FORMAT=text
EOF

FAILED=0
# step NAME CMD...: runs cantina-ops.exe CMD... under Wine in $DATA; its
# output goes to $WORK/NAME.out.
step() {
	local name=$1 rc=0
	shift
	(cd "$DATA" && env -i PATH="$PATH" HOME="$HOME" WINEPREFIX="$WINEPREFIX" WINEDEBUG=-all \
		"$WINE" "$WORK/cantina-ops.exe" "$@") >"$WORK/$name.out" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ]; then
		log "ok    cantina-ops.exe $*"
	else
		log "FAIL  cantina-ops.exe $* (exit $rc); its output:"
		sed 's/^/    /' "$WORK/$name.out" >&2
		FAILED=1
	fi
	return "$rc"
}

step config config check || true
step seed demo seed --size 2MB || true
step run backup run || true
step list backup list --json || true
NAME=$(grep -o 'pos-[0-9]\{8\}T[0-9]\{6\}Z\.sql\.gz' "$WORK/list.out" | head -n 1 || true)
[ -n "$NAME" ] || { log "FAIL  no backup in backup list"; FAILED=1; }
[ -f "$DATA/backups/$NAME" ] && [ -f "$DATA/backups/$NAME.json" ] ||
	{ log "FAIL  $NAME or its manifest is not in BACKUP_DIR"; FAILED=1; }
step verify backup verify --latest --restore-test || true
step restore backup restore "$NAME" --database pos_restored --yes || true
want=$(root_sql "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'pos'")
got=$(root_sql "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'pos_restored'")
if [ "$want" -gt 0 ] && [ "$got" = "$want" ]; then
	log "ok    pos_restored has the $got tables of pos"
else
	log "FAIL  pos_restored has $got tables, pos $want"
	FAILED=1
fi
step cleanup backup cleanup || true

# The worker and the scheduler, as the Windows scheduled tasks run them;
# health passes once both have registered (the CLI's own checks need them).
for proc in worker scheduler; do
	(cd "$DATA" && exec env -i PATH="$PATH" HOME="$HOME" WINEPREFIX="$WINEPREFIX" WINEDEBUG=-all \
		"$WINE" "$WORK/cantina-ops.exe" "$proc") >"$WORK/$proc.out" 2>&1 &
	svc_register $! "cantina-ops.exe $proc"
done
health() {
	(cd "$DATA" && env -i PATH="$PATH" HOME="$HOME" WINEPREFIX="$WINEPREFIX" WINEDEBUG=-all \
		"$WINE" "$WORK/cantina-ops.exe" health --json) >"$WORK/health.out" 2>"$WORK/health.err"
}
rc=1
end=$((SECONDS + 90))
while [ "$SECONDS" -lt "$end" ]; do
	rc=0
	health || rc=$?
	[ "$rc" -eq 0 ] && break
	sleep 1
done
if [ "$rc" -eq 0 ] && grep -q '"checks"' "$WORK/health.out"; then
	log "ok    cantina-ops.exe health --json, with cantina-ops.exe worker and scheduler running: $(tr -d '\n ' <"$WORK/health.out" | grep -o '"status":"[a-z]*"' | head -n 1)"
else
	log "FAIL  cantina-ops.exe health --json (exit $rc) with the worker and scheduler running"
	sed 's/^/    /' "$WORK/health.out" "$WORK/health.err" "$WORK/worker.out" "$WORK/scheduler.out" >&2
	FAILED=1
fi

[ "$FAILED" -eq 0 ] || exit 1
log "every step passed"
