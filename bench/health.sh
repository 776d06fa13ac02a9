#!/usr/bin/env bash
# bench/health.sh — the probe benchmark of issue 8: requests per second of
# GET /health/, /ready/ and /alive/ on loopback (wrk), and the queries
# cantina-ops sent to its dependencies meanwhile: MariaDB's global
# `Questions` and Redis's `total_commands_processed`, read before and after
# each run. The same counts are taken over an idle run (no requests) and at
# two request rates (64 and 4 connections), to show that the queries follow
# the cache lifetimes (HEALTH_CACHE_TTL for /health/, 1 s for /ready/), not
# the request rate.
#
# It installs what is missing (apt), builds cantina-ops from this checkout,
# starts a private Redis and MariaDB (scripts/services.sh) and
# `cantina-ops all` on free ports, and stops all three on exit.
#
# Usage: bench/health.sh [--duration SECONDS]
#   --duration SECONDS   length of each run (default 10)
# Environment:
#   BENCH_BIN   a prebuilt cantina-ops binary instead of `go build`
set -euo pipefail

usage() { sed -n '/^# Usage:/,/^#   BENCH_BIN/s/^# \{0,1\}//p' "$0"; }

ARGS=("$@")
DURATION=10
while [ $# -gt 0 ]; do
	case "$1" in
	--duration)
		DURATION=${2:?--duration needs a number of seconds}
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
	shift
done
case "$DURATION" in '' | *[!0-9]*) echo "bench: --duration takes whole seconds" >&2 && exit 2 ;; esac

cd "$(dirname "$0")/.."
# shellcheck source=scripts/services.sh
. scripts/services.sh
# shellcheck source=bench/lib.sh
. bench/lib.sh

log() { printf 'bench: %s\n' "$*" >&2; }

svc_install_packages redis-server redis-tools mariadb-server mariadb-client wrk curl
for c in redis-server redis-cli mariadbd mariadb wrk curl; do
	command -v "$c" >/dev/null 2>&1 || svc_die "$c is missing after installing packages"
done

bench_work health
bench_binary "$WORK"

svc_start_on redis 6590 svc_start_redis "$WORK/redis"
REDIS_PORT=$SVC_PORT
svc_start_on mariadb 3590 svc_start_mariadb "$WORK/mariadb"
MYSQL_PORT=$SVC_PORT
MYSQL_SOCKET=$SVC_MYSQL_SOCKET
DB_USER=bench
DB_PASS=$(svc_random_password)
svc_mariadb_account "$DB_USER" "$DB_PASS" || exit 1
root_sql() { mariadb --no-defaults --socket="$MYSQL_SOCKET" -uroot -N -B -e "$1"; }
root_sql "CREATE DATABASE IF NOT EXISTS pos"

# The whole system (`all`: web, worker and scheduler), so that /health/
# runs every check against a live queue as in production, configured
# through its environment only (no argv secrets, no ./.env: it runs in the
# work dir). The worker's and scheduler's own traffic is the idle row.
WEB_PORT=$(svc_free_port 8590)
env -i -C "$WORK" PATH="$PATH" HOME="$HOME" LOG_LEVEL=warn LOG_FORMAT=text PORT="$WEB_PORT" \
	REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
	DATABASE_URL="mysql://$DB_USER:$(svc_urlencode "$DB_PASS")@127.0.0.1:$MYSQL_PORT/pos" \
	BACKUP_DIR="$WORK/backups" \
	setsid "$BIN" all 2>"$WORK/web.log" &
WEB_PID=$!
web_ready() { curl -fsS -o /dev/null "http://127.0.0.1:$WEB_PORT/alive/" && svc_listens "$WEB_PID" "$WEB_PORT"; }
svc_wait_ready web "$WEB_PID" "$WORK/web.log" 30 web_ready || exit 1
svc_register "$WEB_PID" cantina-ops-web
log "cantina-ops web ready on 127.0.0.1:$WEB_PORT (pid $WEB_PID)"
TTL=$(curl -fsS -D - -o /dev/null "http://127.0.0.1:$WEB_PORT/health/" | tr -d '\r' | sed -n 's/^Cache-Control: max-age=//Ip')

# Counters of the dependencies. Reading one costs statements or commands
# itself: what two readings in a row differ by, subtracted below.
questions() { root_sql "SHOW GLOBAL STATUS LIKE 'Questions'" | awk '{ print $2 }'; }
commands() { redis-cli -p "$REDIS_PORT" info stats | tr -d '\r' | sed -n 's/^total_commands_processed://p'; }
q=$(questions)
Q_READ=$(($(questions) - q))
c=$(commands)
C_READ=$(($(commands) - c))

RESULTS=$WORK/results.tsv
printf 'run\tconnections\treq_s\tnon_2xx\tdb_questions\tredis_commands\n' >"$RESULTS"

# measure NAME PATH CONNECTIONS: one wrk run (or an idle wait without a
# path), with the dependency counters around it.
measure() {
	local name=$1 path=$2 conns=$3 q0 c0 q1 c1 out rps non2xx
	q0=$(questions)
	c0=$(commands)
	if [ -n "$path" ]; then
		out=$(wrk -t 2 -c "$conns" -d "${DURATION}s" --latency "http://127.0.0.1:$WEB_PORT$path")
		printf '%s\n' "$out" >"$WORK/wrk-$(printf '%s' "$name" | tr -c 'a-z\n' _)-$conns.txt"
		rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ { printf "%.0f", $2 }')
		non2xx=$(printf '%s\n' "$out" | awk '/Non-2xx or 3xx responses:/ { print $NF }')
	else
		sleep "$DURATION"
		rps=0
	fi
	q1=$(questions)
	c1=$(commands)
	q1=$((q1 - q0 - Q_READ))
	c1=$((c1 - c0 - C_READ))
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$conns" "$rps" "${non2xx:-0}" "$q1" "$c1" >>"$RESULTS"
	log "$name ($conns connections): $rps req/s, $q1 DB statements, $c1 Redis commands"
}

STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
UPTIME_BEFORE=$(uptime)
measure idle "" 0
measure /health/ /health/ 64
measure /health/ /health/ 4
measure /ready/ /ready/ 64
measure /ready/ /ready/ 4
measure /alive/ /alive/ 64
UPTIME_AFTER=$(uptime)

{
	echo "# cantina-ops probe benchmark"
	echo
	echo "run        $STARTED, ${DURATION} s per row"
	echo "command    bench/health.sh${ARGS[*]:+ ${ARGS[*]}}"
	echo "machine    $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(uname -sr)"
	echo "tools      cantina-ops $GIT_REV ($(go version 2>/dev/null | awk '{ print $3 }')); $(wrk -v 2>&1 | head -n 1 | awk '{ print $1, $2 }'), -t 2 on the same machine; Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'); MariaDB $(root_sql 'SELECT VERSION()')"
	echo "cache      /health/ max-age=$TTL s (HEALTH_CACHE_TTL); /ready/ 1 s in process"
	echo "uptime     before:$UPTIME_BEFORE"
	echo "           after: $UPTIME_AFTER"
	echo
	echo "| run | wrk connections | requests/s | non-2xx | DB statements | Redis commands |"
	echo "|---|---|---|---|---|---|"
	awk -F'\t' 'NR > 1 { printf "| %s | %s | %s | %s | %s | %s |\n", $1, ($2 == 0 ? "-" : $2), ($3 == 0 ? "-" : $3), $4, $5, $6 }' "$RESULTS"
	echo
	echo "DB statements = MariaDB's global Questions, Redis commands = total_commands_processed,"
	echo "each read before and after the run, the reading itself not counted. \`cantina-ops all\`"
	echo "is the only client of both; the idle row is what its worker and scheduler send anyway."
} >"$WORK/summary.txt"
cat "$WORK/summary.txt"
