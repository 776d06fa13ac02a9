#!/usr/bin/env bash
# bench/cache.sh — the POS cache benchmark of issue 10 (bench/cachebench):
#  1. delete the 1 M keys matching "productos:*" out of 2 M, on a freshly
#     seeded database each time, rounds in alternating order: ours through
#     the API (POST /api/v1/cache/invalidate, poll GET /api/v1/tasks/{id}),
#     ours in process (cache.Invalidate), django-redis delete_pattern
#     (itersize 10 000) and `redis-cli --scan --pattern P | xargs redis-cli
#     unlink`; each run checked: the 1 M gone, the other 1 M still there;
#  2. end-to-end latency of exact-key invalidations, open loop at a fixed
#     rate: POST {"keys": [k], "wait": true} → 200 (the task completed).
#
# It installs what is missing (apt), builds cantina-ops and cachebench from
# this checkout, starts a private Redis (queue in db 0, the POS cache in
# db 1) and `cantina-ops all` on free ports, and stops both on exit.
#
# Usage: bench/cache.sh [--rounds N] [--keys N] [--rate R] [--duration SECONDS]
#   --rounds N           delete rounds, each method once per round (default 3)
#   --keys N             matching keys, and as many others (default 1000000)
#   --rate R             latency run: requests per second (default 200)
#   --duration SECONDS   latency run: measured seconds (default 30)
# Environment:
#   BENCH_BIN   a prebuilt cantina-ops binary instead of `go build`
set -euo pipefail

usage() { sed -n '/^# Usage:/,/^#   BENCH_BIN/s/^# \{0,1\}//p' "$0"; }

ARGS=("$@")
ROUNDS=3
KEYS=1000000
RATE=200
DURATION=30
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds | --keys | --rate | --duration)
		[ $# -ge 2 ] || { usage >&2 && exit 2; }
		case "$2" in '' | *[!0-9]*) echo "bench: $1 takes a whole number" >&2 && exit 2 ;; esac
		case "$1" in
		--rounds) ROUNDS=$2 ;;
		--keys) KEYS=$2 ;;
		--rate) RATE=$2 ;;
		--duration) DURATION=$2 ;;
		esac
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

cd "$(dirname "$0")/.."
# shellcheck source=scripts/services.sh
. scripts/services.sh
# shellcheck source=bench/lib.sh
. bench/lib.sh

svc_install_packages redis-server redis-tools python3-django python3-django-redis python3-redis curl
for c in redis-server redis-cli curl; do
	command -v "$c" >/dev/null 2>&1 || svc_die "$c is missing after installing packages"
done
/usr/bin/python3 -c 'import django, django_redis' || svc_die "Debian's python3-django and python3-django-redis are not importable by /usr/bin/python3"

bench_work cache
bench_binary "$WORK"
log "building cachebench"
go build -o "$WORK/cachebench" ./bench/cachebench

svc_start_on redis 6690 svc_start_redis "$WORK/redis"
REDIS_PORT=$SVC_PORT
PREFIX=pos

# `cantina-ops all` (web, worker, scheduler) as in production: the queue in
# db 0, the POS's cache in db 1 of the same Redis; the API token reaches it
# and cachebench through their environment only. No MariaDB: the cache API
# and worker do not use it (DATABASE_URL only satisfies the config check;
# nothing listens there, so /ready/ says 503, which the benchmark ignores).
API_TOKEN=$(svc_random_password)
WEB_PORT=$(svc_free_port 8690)
env -i -C "$WORK" PATH="$PATH" HOME="$HOME" LOG_LEVEL=warn LOG_FORMAT=text PORT="$WEB_PORT" \
	REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" CACHE_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/1" \
	CACHE_KEY_PREFIX="$PREFIX" CACHE_VERSION=1 API_TOKENS="bench:$API_TOKEN" \
	DATABASE_URL="mysql://bench:unused@127.0.0.1:1/pos" BACKUP_DIR="$WORK/backups" \
	setsid "$BIN" all 2>"$WORK/web.log" &
WEB_PID=$!
web_ready() { curl -fsS -o /dev/null "http://127.0.0.1:$WEB_PORT/alive/" && svc_listens "$WEB_PID" "$WEB_PORT"; }
svc_wait_ready web "$WEB_PID" "$WORK/web.log" 30 web_ready || exit 1
svc_register "$WEB_PID" cantina-ops-all
log "cantina-ops all ready on 127.0.0.1:$WEB_PORT (pid $WEB_PID)"
export API_TOKEN
CB=("$WORK/cachebench")
CB_FLAGS=(-redis "127.0.0.1:$REDIS_PORT" -db 1 -prefix "$PREFIX" -version 1 -n "$KEYS" -web "http://127.0.0.1:$WEB_PORT")

STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
UPTIME_BEFORE=$(uptime)
"${CB[@]}" delete "${CB_FLAGS[@]}" -rounds "$ROUNDS" -out "$WORK/delete.tsv"
UPTIME_MID=$(uptime)
REDIS_PID=${SVC_PIDS[0]}
r0=$(pid_ticks "$REDIS_PID")
w0=$(pid_ticks "$WEB_PID")
b0=$(busy_ticks)
t0=$(date +%s.%N)
"${CB[@]}" latency "${CB_FLAGS[@]}" -rate "$RATE" -duration "${DURATION}s" -out "$WORK/latency.tsv" -stats "$WORK/commandstats.tsv"
t1=$(date +%s.%N)
# cores LO HI: CPU ticks over the latency run's wall time, in cores.
cores() { awk -v a="$1" -v b="$2" -v hz="$CLK_TCK" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.2f", (b - a) / hz / (t1 - t0) }'; }
REDIS_CORES=$(cores "$r0" "$(pid_ticks "$REDIS_PID")")
WEB_CORES=$(cores "$w0" "$(pid_ticks "$WEB_PID")")
BUSY_CORES=$(cores "$b0" "$(busy_ticks)")
UPTIME_AFTER=$(uptime)
ENDED=$(date -u '+%H:%M UTC')

# med METHOD COLUMN / minv METHOD COLUMN: median and minimum over the rounds.
colstat() {
	awk -F'\t' -v m="$1" -v col="$2" -v fn="$3" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
		$1 == m { v[++n] = $c + 0 }
		END { if (!n) { print "-"; exit } asort(v)
			if (fn == "min") print v[1]; else if (fn == "max") print v[n]
			else print (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }' "$WORK/delete.tsv"
}
s3() { awk -v s="$1" 'BEGIN { if (s == "-") print "-"; else printf "%.2f s", s }'; }
drow() {
	printf '| %s | %s | %s | %s | %s | %s |\n' "$2" "$(awk -F'\t' -v m="$1" '$1 == m' "$WORK/delete.tsv" | wc -l)" \
		"$(s3 "$(colstat "$1" wall_s min)")" "$(s3 "$(colstat "$1" wall_s median)")" "$(s3 "$(colstat "$1" wall_s max)")" \
		"$(s3 "$(colstat "$1" inner_s median)")"
}
OURS=$(colstat ours-api wall_s median)
DJ=$(colstat django wall_s median)
CLI=$(colstat redis-cli wall_s median)
DJ_IN=$(colstat django inner_s median)

# lat Q: nearest-rank percentile Q of the measured requests (warm-up left
# out), in ms; a request answered otherwise than 200 (its keys not known
# gone) ranks above every 200, shown as "> its answer time".
lat() {
	awk -F'\t' -v q="$1" 'NR > 1 && $2 == "false" { v[++n] = ($4 == 200 ? $3 : 1e9 + $3) }
		END { if (!n) { print "-"; exit } asort(v); k = int(q * n + 0.999999); if (k < 1) k = 1; if (k > n) k = n
			if (v[k] >= 1e9) printf "> %.0f", v[k] - 1e9; else printf "%.1f", v[k] }' "$WORK/latency.tsv"
}
count() { awk -F'\t' -v cond="$1" 'NR > 1 && $2 == "false" { if ((cond == "200" && $4 == 200) || (cond == "202" && $4 == 202) || (cond == "other" && $4 != 200 && $4 != 202)) n++ } END { print n + 0 }' "$WORK/latency.tsv"; }
MEASURED=$(awk -F'\t' 'NR > 1 && $2 == "false"' "$WORK/latency.tsv" | wc -l)
WRONG_DELETED=$(awk -F'\t' 'NR > 1 && $4 == 200 && $5 != 1' "$WORK/latency.tsv" | wc -l)
CHECKED=$(awk -F'\t' 'NR > 1 && $6 != -1' "$WORK/latency.tsv" | wc -l)
PRESENT=$(awk -F'\t' 'NR > 1 && $6 > 0' "$WORK/latency.tsv" | wc -l)
P99=$(lat 0.99)

{
	echo "# cantina-ops POS cache benchmark"
	echo
	echo "run        $STARTED → $ENDED"
	echo "command    bench/cache.sh${ARGS[*]:+ ${ARGS[*]}}"
	echo "machine    $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
	echo "tools      cantina-ops $GIT_REV ($(go version 2>/dev/null | awk '{ print $3 }')), \`all\` with WORKER_CONCURRENCY default; Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1 (queue db 0, cache db 1); Django $(/usr/bin/python3 -c 'import django; print(django.get_version())'), django-redis $(/usr/bin/python3 -c 'import django_redis; print(".".join(map(str, django_redis.VERSION)))'), redis-py $(/usr/bin/python3 -c 'import redis; print(redis.__version__)')"
	echo "keys       $((2 * KEYS)) per run: $KEYS \"$PREFIX:1:productos:<i>\" (match) and $KEYS others (near misses such as productos-destacados:, producto:), values 90–110 bytes, TTL 5–60 min"
	echo "uptime     before:  $UPTIME_BEFORE"
	echo "           latency: $UPTIME_MID"
	echo "           after:   $UPTIME_AFTER"
	echo
	echo "## Delete the $KEYS keys matching productos:* out of $((2 * KEYS)) ($ROUNDS rounds, order alternating)"
	echo
	echo "| method | runs | wall min | wall median | wall max | inner median |"
	echo "|---|---|---|---|---|---|"
	drow ours-api "(a) ours: POST /api/v1/cache/invalidate → GET /api/v1/tasks/{id} completed"
	drow ours-direct "(b) ours: cache.Invalidate in process"
	drow django "(c) django-redis delete_pattern(itersize=10000)"
	drow redis-cli "(d) redis-cli --scan --pattern P | xargs redis-cli unlink"
	echo
	echo "inner: (a) the worker's duration_ms (cache.Invalidate in the task), (c) delete_pattern alone"
	echo "(no Python start-up); (b), (d) = wall. Every run checked afterwards: DBSIZE = the $KEYS others"
	echo "and a SCAN finds no productos: key left."
	echo
	echo "| ratio (wall medians) | value | aim |"
	echo "|---|---|---|"
	echo "| (a) / (c) django-redis | $(ratio "$OURS" "$DJ") | ≤ 0.5: $(verdict "$(ratio "$OURS" "$DJ")" 0.5) |"
	echo "| (a) / (c) django-redis, its delete_pattern alone | $(ratio "$OURS" "$DJ_IN") | ≤ 0.5: $(verdict "$(ratio "$OURS" "$DJ_IN")" 0.5) |"
	echo "| (a) / (d) redis-cli pipe | $(ratio "$OURS" "$CLI") | ≤ 0.5: $(verdict "$(ratio "$OURS" "$CLI")" 0.5) |"
	echo
	echo "## End-to-end latency, exact keys: POST {\"keys\": [k], \"wait\": true} → 200, open loop at $RATE/s for $DURATION s"
	echo
	echo "| requests | 200 | 202 (not done in 2 s) | other | p50 | p90 | p99 | max | aim p99 ≤ 20 ms |"
	echo "|---|---|---|---|---|---|---|---|---|"
	echo "| $MEASURED | $(count 200) | $(count 202) | $(count other) | $(lat 0.5) ms | $(lat 0.9) ms | $P99 ms | $(lat 1) ms | $(case $P99 in [0-9]*) verdict "$P99" 20 ;; *) echo MISSED ;; esac) |"
	echo
	echo "Latency from each request's scheduled send time (open loop: no coordinated omission) to its"
	echo "answer; percentiles over all measured requests, a 202 (keys not known gone) ranking above every 200. Checked: $WRONG_DELETED answers of 200 with deleted ≠ 1;"
	echo "$CHECKED keys looked up (EXISTS) right after their 200, $PRESENT still present."
	echo
	echo "CPU during the latency run (warm-up included), in cores of $(nproc): cantina-ops all $WEB_CORES,"
	echo "Redis $REDIS_CORES, the whole machine $BUSY_CORES (cachebench and the other sessions' load included)."
	echo
	echo "Redis commands during the measured part (INFO commandstats, the most called first):"
	echo
	echo "| command | calls | per request | per second | Redis time |"
	echo "|---|---|---|---|---|"
	awk -F'\t' -v n="$MEASURED" 'NR > 1 && NR <= 11 { printf "| %s | %s | %.1f | %s | %s ms |\n", $1, $2, $2 / n, $3, $4 }' "$WORK/commandstats.tsv"
	echo
	echo "### Every delete run"
	echo
	echo "| method | round | wall | inner | deleted | seeding took |"
	echo "|---|---|---|---|---|---|"
	awk -F'\t' 'NR > 1 { printf "| %s | %s | %.3f s | %.3f s | %s | %.1f s |\n", $1, $2, $3, $4, ($5 < 0 ? "(not reported)" : $5), $6 }' "$WORK/delete.tsv"
} >"$WORK/summary.txt"
cat "$WORK/summary.txt"
