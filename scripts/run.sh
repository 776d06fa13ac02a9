#!/usr/bin/env bash
# scripts/run.sh — `make run`: cantina-ops on a laptop in one command.
#
# Without REDIS_URL (environment or ./.env) it starts a private Redis on
# 127.0.0.1:6391; without a database (DATABASE_URL, JAWSDB_URL,
# CLEARDB_DATABASE_URL or DB_NAME) a private MariaDB on 127.0.0.1:3308 whose
# data persists in ./.state/mariadb, filled once with the demo POS data.
# Then it builds and runs `cantina-ops all` until Ctrl-C or SIGTERM, and
# stops the private servers it started.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/services.sh
. scripts/services.sh

REDIS_PORT=6391
MYSQL_PORT=3308
STATE="$PWD/.state"

# env_value KEY: the non-empty value of KEY from the environment, else from
# ./.env (the environment wins, as in cantina-ops itself).
env_value() {
	local key=$1 line k v
	if [ -n "${!key:-}" ]; then
		printf '%s' "${!key}"
		return 0
	fi
	[ -f .env ] || return 1
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line#"${line%%[![:space:]]*}"}
		line=${line#export }
		case "$line" in "$key"=* | "$key "*=*) ;; *) continue ;; esac
		k=${line%%=*}
		[ "${k%"${k##*[![:space:]]}"}" = "$key" ] || continue
		v=${line#*=}
		v=${v#"${v%%[![:space:]]*}"}
		v=${v%"${v##*[![:space:]]}"}
		case "$v" in \"*\" | \'*\') v=${v:1:${#v}-2} ;; esac
		[ -n "$v" ] && {
			printf '%s' "$v"
			return 0
		}
	done <.env
	return 1
}

# secret_file PATH: prints the secret stored in PATH, generating it once.
secret_file() {
	if [ ! -s "$1" ]; then
		(
			umask 077
			svc_random_password >"$1"
		)
	fi
	chmod 600 "$1"
	cat "$1"
}

want_redis=0
want_db=0
env_value REDIS_URL >/dev/null || want_redis=1
want_db=1
for v in DATABASE_URL JAWSDB_URL CLEARDB_DATABASE_URL DB_NAME; do
	if env_value "$v" >/dev/null; then
		want_db=0
	fi
done

command -v go >/dev/null 2>&1 || svc_die "go is not on PATH; install Go (see go.mod for the version)"
mkdir -p "$STATE" bin
chmod 700 "$STATE"
svc_log "building ./bin/cantina-ops"
go build -o ./bin/cantina-ops ./cmd/cantina-ops

pkgs=()
[ "$want_redis" -eq 1 ] && pkgs+=(redis-server redis-tools)
[ "$want_db" -eq 1 ] && pkgs+=(mariadb-server mariadb-client)
[ ${#pkgs[@]} -gt 0 ] && svc_install_packages "${pkgs[@]}"

APP_PID=""
# shellcheck disable=SC2317 # trap handlers
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$APP_PID" ]; then
		svc_stop_pid "$APP_PID" cantina-ops
	fi
	svc_stop_all
	exit "$rc"
}
# A signal while cantina-ops runs is forwarded to it; the wait loop below
# then sees it exit. Before that, a signal just ends the script.
# shellcheck disable=SC2317
on_signal() {
	if [ -n "$APP_PID" ]; then
		kill -TERM "$APP_PID" 2>/dev/null || true
	else
		exit "$1"
	fi
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

if [ "$want_redis" -eq 1 ]; then
	svc_start_redis "$STATE/redis" "$REDIS_PORT" || svc_die "could not start Redis; set REDIS_URL to use another one"
	export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
fi

if [ "$want_db" -eq 1 ]; then
	svc_start_mariadb "$STATE/mariadb" "$MYSQL_PORT" || svc_die "could not start MariaDB; set DATABASE_URL to use another one"
	db_password=$(secret_file "$STATE/db_password")
	svc_mariadb_account cantina "$db_password" || exit 1
	DATABASE_URL="mysql://cantina:$(svc_urlencode "$db_password")@127.0.0.1:$MYSQL_PORT/cantina"
	export DATABASE_URL
fi

if ! env_value CONSOLE_USER >/dev/null && ! env_value CONSOLE_PASSWORD >/dev/null; then
	export CONSOLE_USER=admin
	CONSOLE_PASSWORD=$(secret_file "$STATE/console_password")
	export CONSOLE_PASSWORD
fi

# Only the private database gets demo data: a configured one may be the
# real POS database.
if [ "$want_db" -eq 1 ]; then
	./bin/cantina-ops demo seed --if-empty
fi

port=$(env_value PORT || echo 8080)
echo
echo "  console:  http://127.0.0.1:$port/monitoring/"
if [ -n "${CONSOLE_PASSWORD:-}" ]; then
	echo "  user:     ${CONSOLE_USER:-}"
	echo "  password: $CONSOLE_PASSWORD   (stored in .state/console_password)"
else
	echo "  user:     as set in CONSOLE_USER / CONSOLE_PASSWORD"
fi
echo "  stop with Ctrl-C"
echo

./bin/cantina-ops all &
APP_PID=$!
status=0
while :; do
	if wait "$APP_PID"; then status=0; else status=$?; fi
	[ -e "/proc/$APP_PID" ] || break # reaped; else a signal cut the wait short
done
APP_PID=""
exit "$status"
