#!/usr/bin/env bash
# bench/gateway.sh — the gateway overhead benchmark of issue 11: latency and
# requests/s of wrk straight to a stand-in POS (bench/gatewaybench: a fixed
# 1 KiB page with a Set-Cookie) against the same through `cantina-ops web`
# with POS_UPSTREAM_URL set, in interleaved rounds of three modes:
#   direct    wrk → upstream
#   gateway   wrk → cantina-ops web → upstream: one policy decided (ip)
#   session   the same with a `sessionid` cookie: two policies (ip, user)
# The policies are set so high that nothing is refused, yet every request
# runs its decisions in Redis; a round with any error or answer ≥ 400 (429,
# 5xx) fails the run, and so does a run after which Redis holds no
# cantina:rl:* key. Series: wrk (closed loop) at each --connections, and
# gatewaybench load (open loop) at --rate; each gets its own warm-up and
# rounds.
#
# It installs what is missing (apt), builds cantina-ops and gatewaybench from
# this checkout, starts a private Redis (queue db 0, the cache Redis with
# the rate limits in db 1), the upstream and `cantina-ops web` on free ports,
# and stops them on exit. The web process gets a DATABASE_URL nobody listens
# on (the gateway does not use MariaDB; /ready/ says 503, ignored here).
#
# Usage: bench/gateway.sh [--rounds N] [--duration SECONDS] [--connections "C..."] [--rate R] [--profile]
#   --rounds N             rounds, each mode once per round (default 3)
#   --duration SECONDS     each run (default 15; warm-ups 5)
#   --connections "C..."   wrk connections, one series each (default "16 1");
#                          wrk threads: 2, or 1 for a single connection
#   --rate R               open-loop series at R requests/s (default 1000;
#                          0: none)
#   --profile              afterwards, a CPU profile (perf) of the web process
#                          during one more session run, its top functions
# Environment:
#   BENCH_BIN   a prebuilt cantina-ops binary instead of `go build`
set -euo pipefail

usage() { sed -n '/^# Usage:/,/^#   BENCH_BIN/s/^# \{0,1\}//p' "$0"; }

ARGS=("$@")
ROUNDS=3
DURATION=15
CONNECTIONS="16 1"
RATE=1000
PROFILE=false
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds | --duration | --rate)
		[ $# -ge 2 ] || { usage >&2 && exit 2; }
		case "$2" in '' | *[!0-9]*) echo "bench: $1 takes a whole number" >&2 && exit 2 ;; esac
		case "$1" in
		--rounds) ROUNDS=$2 ;;
		--duration) DURATION=$2 ;;
		--rate) RATE=$2 ;;
		esac
		shift
		;;
	--connections)
		[ $# -ge 2 ] || { usage >&2 && exit 2; }
		for c in $2; do
			case "$c" in '' | *[!0-9]* | 0) echo "bench: --connections takes whole numbers ≥ 1" >&2 && exit 2 ;; esac
		done
		[ -n "${2// /}" ] || { echo "bench: --connections takes whole numbers ≥ 1" >&2 && exit 2; }
		CONNECTIONS=$2
		shift
		;;
	--profile) PROFILE=true ;;
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
if [ "$ROUNDS" -lt 1 ] || [ "$DURATION" -lt 1 ]; then
	echo "bench: --rounds and --duration take a whole number ≥ 1" >&2
	exit 2
fi
SERIES=()
for c in $CONNECTIONS; do SERIES+=("c$c"); done
[ "$RATE" -gt 0 ] && SERIES+=("r$RATE")

cd "$(dirname "$0")/.."
# shellcheck source=scripts/services.sh
. scripts/services.sh
# shellcheck source=bench/lib.sh
. bench/lib.sh

PKGS=(redis-server redis-tools wrk curl)
$PROFILE && PKGS+=(linux-perf)
svc_install_packages "${PKGS[@]}"
for c in redis-server redis-cli wrk curl; do
	command -v "$c" >/dev/null 2>&1 || svc_die "$c is missing after installing packages"
done
$PROFILE && { command -v perf >/dev/null 2>&1 || svc_die "perf is missing after installing linux-perf"; }

bench_work gateway
bench_binary "$WORK"
log "building gatewaybench"
go build -o "$WORK/gatewaybench" ./bench/gatewaybench
LUA=$PWD/bench/gatewaybench/report.lua

svc_start_on redis 6790 svc_start_redis "$WORK/redis"
REDIS_PORT=$SVC_PORT
REDIS_PID=${SVC_PIDS[0]}
rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

UP_PORT=$(svc_free_port 8790)
setsid "$WORK/gatewaybench" serve -addr "127.0.0.1:$UP_PORT" 2>"$WORK/upstream.log" &
UP_PID=$!
up_ready() { curl -fsS -o /dev/null "http://127.0.0.1:$UP_PORT/" && svc_listens "$UP_PID" "$UP_PORT"; }
svc_wait_ready upstream "$UP_PID" "$WORK/upstream.log" 30 up_ready || exit 1
svc_register "$UP_PID" gatewaybench
log "upstream ready on 127.0.0.1:$UP_PORT (pid $UP_PID)"

# Policies no run can exhaust (10 M per subject per day, all at once if need
# be), so every request is decided in Redis and passes; their keys outlive
# the run (each request moves the key's expiry 8.64 ms later), so that the
# check afterwards finds them.
POLICY=10000000/24h
WEB_PORT=$(svc_free_port 8890)
env -i -C "$WORK" PATH="$PATH" HOME="$HOME" LOG_LEVEL=warn LOG_FORMAT=text PORT="$WEB_PORT" \
	REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" CACHE_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/1" \
	DATABASE_URL="mysql://cantina:unused@127.0.0.1:1/cantina" BACKUP_DIR="$WORK/backups" \
	POS_UPSTREAM_URL="http://127.0.0.1:$UP_PORT" RATE_LIMIT_IP="$POLICY" RATE_LIMIT_USER="$POLICY" \
	setsid "$BIN" web 2>"$WORK/web.log" &
WEB_PID=$!
web_ready() { curl -fsS -o /dev/null "http://127.0.0.1:$WEB_PORT/alive/" && svc_listens "$WEB_PID" "$WEB_PORT"; }
svc_wait_ready web "$WEB_PID" "$WORK/web.log" 30 web_ready || exit 1
svc_register "$WEB_PID" cantina-ops-web
log "cantina-ops web ready on 127.0.0.1:$WEB_PORT (pid $WEB_PID), gateway to the upstream"

DIRECT_URL="http://127.0.0.1:$UP_PORT/ventas/"
GATEWAY_URL="http://127.0.0.1:$WEB_PORT/ventas/"
SESSION=$(svc_random_password)
COOKIE="Cookie: sessionid=$SESSION"

# The gateway passes the page and its cookie unchanged and adds the rate
# limit fields; the session's tightest policy is named in them.
curl -fsS -D "$WORK/direct.h" -o "$WORK/direct.body" "$DIRECT_URL"
curl -fsS -D "$WORK/gw.h" -o "$WORK/gw.body" "$GATEWAY_URL"
curl -fsS -D "$WORK/session.h" -o "$WORK/session.body" -H "$COOKIE" "$GATEWAY_URL"
cmp -s "$WORK/direct.body" "$WORK/gw.body" || svc_die "the gateway changed the upstream's page"
grep -qi '^set-cookie: csrftoken=' "$WORK/gw.h" || svc_die "the gateway dropped the upstream's Set-Cookie"
for h in gw session; do
	if ! grep -qi '^ratelimit-policy:' "$WORK/$h.h" || ! grep -qi '^ratelimit:' "$WORK/$h.h"; then
		svc_die "no RateLimit fields on the gateway's answer ($h): the request was not decided"
	fi
done
grep -qi '^ratelimit' "$WORK/direct.h" && svc_die "the upstream itself sends RateLimit fields"
GW_FIELDS=$(grep -i '^ratelimit-policy:' "$WORK/gw.h" | tr -d '\r')
SESSION_FIELDS=$(grep -i '^ratelimit-policy:' "$WORK/session.h" | tr -d '\r')
log "checked: same page and cookie through the gateway; $GW_FIELDS (no cookie), $SESSION_FIELDS (session)"

# Redis command counts (INFO commandstats): calls NAME prints a command's
# calls so far (0 when never called); all_calls every command's but INFO,
# those a script runs (TIME, GET, SET) included.
calls() { rcli info commandstats | tr -d '\r' | awk -F'[:=,]' -v c="cmdstat_$1" '$1 == c { n = $3 } END { print n + 0 }'; }
all_calls() { rcli info commandstats | tr -d '\r' | awk -F'[:=,]' '/^cmdstat_/ && $1 != "cmdstat_info" { n += $3 } END { print n + 0 }'; }

# wrk_run MODE SERIES SECONDS: one run of wrk (series cC: C connections) or
# gatewaybench load (series rR: R requests/s); sets W_* (the report.lua
# line's fields) and the CPU each process used. Fails on any error or
# answer ≥ 400.
wrk_run() {
	local mode=$1 series=$2 secs=$3 threads=2 url=$GATEWAY_URL hdr=() cookie="" user sys line
	case "$mode" in
	direct) url=$DIRECT_URL ;;
	session) hdr=(-H "$COOKIE") cookie=${COOKIE#Cookie: } ;;
	esac
	case "$series" in
	c*)
		[ "${series#c}" -lt 2 ] && threads=1
		WRK_CMD=(wrk -t"$threads" -c"${series#c}" -d"${secs}s" --latency -s "$LUA" "${hdr[@]}" "$url")
		;;
	r*) WRK_CMD=("$WORK/gatewaybench" load -url "$url" -rate "${series#r}" -duration "${secs}s" -cookie "$cookie") ;;
	esac
	LOAD1=$(cut -d' ' -f1 /proc/loadavg)
	g0=$(pid_ticks "$WEB_PID")
	u0=$(pid_ticks "$UP_PID")
	r0=$(pid_ticks "$REDIS_PID")
	b0=$(busy_ticks)
	e0=$(calls evalsha)
	a0=$(all_calls)
	if ! /usr/bin/time -f '%U %S' -o "$WORK/time.out" "${WRK_CMD[@]}" >"$WORK/wrk.out" 2>&1; then
		cat "$WORK/wrk.out" >&2
		svc_die "wrk failed ($mode, series $series)"
	fi
	EVALSHA=$(($(calls evalsha) - e0))
	ALLCALLS=$(($(all_calls) - a0)) # INFO, the counting itself, left out
	B=$(($(busy_ticks) - b0))
	G=$(($(pid_ticks "$WEB_PID") - g0))
	U=$(($(pid_ticks "$UP_PID") - u0))
	R=$(($(pid_ticks "$REDIS_PID") - r0))
	read -r user sys <"$WORK/time.out"
	WRKCPU=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
	line=$(grep '^WRK' "$WORK/wrk.out") || {
		cat "$WORK/wrk.out" >&2
		svc_die "wrk printed no report line ($mode)"
	}
	read -r _ W_REQ W_SECS W_P50 W_P90 W_P99 W_P999 W_MAX _ E_CONN E_READ E_WRITE E_STATUS E_TIMEOUT <<<"$line"
	if [ $((E_CONN + E_READ + E_WRITE + E_STATUS + E_TIMEOUT)) -ne 0 ] || grep -q 'Non-2xx' "$WORK/wrk.out"; then
		cat "$WORK/wrk.out" >&2
		svc_die "$mode, series $series: errors (connect $E_CONN, read $E_READ, write $E_WRITE, status ≥ 400 $E_STATUS, timeout $E_TIMEOUT): a refusal or failure, not a clean run"
	fi
}

RESULTS=$WORK/rounds.tsv
printf 'series\tmode\tround\trequests\tseconds\trps\tp50_us\tp90_us\tp99_us\tp999_us\tmax_us\tload1\tweb_s\tupstream_s\tredis_s\tclient_s\tbusy_s\tevalsha\tredis_calls\n' >"$RESULTS"
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
UPTIME_BEFORE=$(uptime)
MODES=(direct gateway session)
for ser in "${SERIES[@]}"; do
	log "series $ser: warm-up, 5 s per mode"
	for mode in "${MODES[@]}"; do wrk_run "$mode" "$ser" 5; done
	for ((round = 1; round <= ROUNDS; round++)); do
		# The order rotates each round, so no mode always follows another.
		for ((i = 0; i < 3; i++)); do
			mode=${MODES[(i + round - 1) % 3]}
			wrk_run "$mode" "$ser" "$DURATION"
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ser" "$mode" "$round" \
				"$W_REQ" "$W_SECS" "$(awk -v n="$W_REQ" -v s="$W_SECS" 'BEGIN { printf "%.0f", n / s }')" \
				"$W_P50" "$W_P90" "$W_P99" "$W_P999" "$W_MAX" "$LOAD1" \
				"$(awk -v t="$G" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')" \
				"$(awk -v t="$U" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')" \
				"$(awk -v t="$R" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')" "$WRKCPU" \
				"$(awk -v t="$B" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')" "$EVALSHA" "$ALLCALLS" >>"$RESULTS"
			log "  $ser round $round $mode: $W_REQ requests, p50 $W_P50 µs, p99 $W_P99 µs (load $LOAD1)"
		done
	done
done
UPTIME_AFTER=$(uptime)
ENDED=$(date -u '+%H:%M UTC')

# After the runs: the decisions left their keys in the cache Redis (db 1).
RL_KEYS=$(rcli -n 1 --scan --pattern 'cantina:rl:*' | sort)
[ -n "$RL_KEYS" ] || svc_die "no cantina:rl:* key in the cache Redis after the runs: the gateway decided nothing"
RL_COUNT=$(wc -l <<<"$RL_KEYS")

PROFILE_TOP=""
if $PROFILE; then
	log "profiling cantina-ops web (perf, 999 Hz) during one more session run of $DURATION s"
	perf record -F 999 -e cpu-clock -g -p "$WEB_PID" -o "$WORK/perf.data" -- sleep "$DURATION" 2>"$WORK/perf.log" &
	PERF_PID=$!
	wrk_run session "${SERIES[0]}" "$DURATION"
	wait "$PERF_PID" || { cat "$WORK/perf.log" >&2 && svc_die "perf record failed"; }
	PROFILE_TOP=$(perf report -i "$WORK/perf.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null |
		awk '/^ +[0-9.]+%/ && ++n <= 25 { sub(/ +- +- *$/, ""); print }')
	PROFILE_CUM=$(perf report -i "$WORK/perf.data" --children --sort symbol --stdio -g none 2>/dev/null |
		awk '/^ +[0-9.]+% +[0-9.]+%/ && ++n <= 40 { sub(/ +- +- *$/, ""); print }')
fi

# ---------------------------------------------------------------- summary

# med SERIES MODE COLUMN: median over the rounds.
med() {
	awk -F'\t' -v c="$1" -v m="$2" -v col="$3" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) k = i; next }
		$1 == c && $2 == m { v[++n] = $k + 0 }
		END { if (!n) { print "-"; exit } asort(v); print (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }' "$RESULTS"
}
# added SERIES MODE COLUMN: median over the rounds of MODE's value minus
# direct's in the same round, in µs.
added() {
	awk -F'\t' -v c="$1" -v m="$2" -v col="$3" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) k = i; next }
		$1 == c && $2 == "direct" { d[$3] = $k }
		$1 == c && $2 == m { g[$3] = $k }
		END { for (r in g) if (r in d) v[++n] = g[r] - d[r]
			if (!n) { print "-"; exit } asort(v); print (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }' "$RESULTS"
}
ms() { awk -v u="$1" 'BEGIN { if (u == "-") print "-"; else printf "%.3f ms", u / 1000 }'; }
# per_req SERIES MODE COLUMN: a column's total over the rounds per request,
# in µs for seconds of CPU.
per_req() {
	awk -F'\t' -v c="$1" -v m="$2" -v col="$3" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) k = i; next }
		$1 == c && $2 == m { s += $k; n += $4 }
		END { if (!n) print "-"; else if (col ~ /_s$/) printf "%.0f", s / n * 1e6; else printf "%.2f", s / n }' "$RESULTS"
}

{
	echo "# cantina-ops gateway overhead benchmark"
	echo
	echo "run        $STARTED → $ENDED"
	echo "command    bench/gateway.sh${ARGS[*]:+ ${ARGS[*]}}"
	echo "machine    $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
	echo "tools      cantina-ops $GIT_REV ($(go version 2>/dev/null | awk '{ print $3 }')) web, LOG_LEVEL=warn, RATE_LIMIT_IP=RATE_LIMIT_USER=$POLICY; $(wrk --version 2>&1 | head -n 1 | awk '{ print "wrk", $2 }'); Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1 (rate limits in db 1); upstream bench/gatewaybench (Go net/http, $(wc -c <"$WORK/direct.body")-byte page + Set-Cookie)"
	echo "series cC  wrk -t2 -cC -d${DURATION}s --latency -s bench/gatewaybench/report.lua [-H 'Cookie: sessionid=…'] URL  (-t1 for C = 1): closed loop"
	echo "series rR  gatewaybench load -url URL -rate R -duration ${DURATION}s [-cookie 'sessionid=…']: open loop, latency from the scheduled send"
	echo "uptime     before: $UPTIME_BEFORE"
	echo "           after:  $UPTIME_AFTER"
	echo "checked    every run: no socket error, no answer ≥ 400; before: same page and Set-Cookie through the gateway,"
	echo "           fields $GW_FIELDS (no cookie), $SESSION_FIELDS (session);"
	echo "           after: $RL_COUNT cantina:rl:* keys in the cache Redis"
	for ser in "${SERIES[@]}"; do
		case "$ser" in
		c*) title="wrk, ${ser#c} connection(s)" ;;
		r*) title="open loop, ${ser#r} requests/s" ;;
		esac
		echo
		echo "## $title, $ROUNDS rounds × $DURATION s per mode, order rotating (medians of the rounds)"
		echo
		echo "| mode | req/s | p50 | p90 | p99 | p99.9 | CPU µs/req: web | upstream | Redis | client | machine | Redis round trips/req (EVALSHA) | Redis commands/req (in scripts too) |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
		for mode in "${MODES[@]}"; do
			printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$mode" "$(med "$ser" "$mode" rps)" \
				"$(ms "$(med "$ser" "$mode" p50_us)")" "$(ms "$(med "$ser" "$mode" p90_us)")" \
				"$(ms "$(med "$ser" "$mode" p99_us)")" "$(ms "$(med "$ser" "$mode" p999_us)")" \
				"$(per_req "$ser" "$mode" web_s)" "$(per_req "$ser" "$mode" upstream_s)" "$(per_req "$ser" "$mode" redis_s)" \
				"$(per_req "$ser" "$mode" client_s)" "$(per_req "$ser" "$mode" busy_s)" \
				"$(per_req "$ser" "$mode" evalsha)" "$(per_req "$ser" "$mode" redis_calls)"
		done
		echo
		echo "| through the gateway | added p50 | added p90 | added p99 | p99 ratio | req/s ratio | aim added p99 ≤ 1 ms |"
		echo "|---|---|---|---|---|---|---|"
		for mode in gateway session; do
			a99=$(added "$ser" "$mode" p99_us)
			printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$mode" "$(ms "$(added "$ser" "$mode" p50_us)")" \
				"$(ms "$(added "$ser" "$mode" p90_us)")" "$(ms "$a99")" \
				"$(ratio "$(med "$ser" "$mode" p99_us)" "$(med "$ser" direct p99_us)")" \
				"$(ratio "$(med "$ser" "$mode" rps)" "$(med "$ser" direct rps)")" "$(verdict "$a99" 1000)"
		done
	done
	echo
	echo "added: the median over the rounds of (mode − direct in the same round). CPU per request: each"
	echo "process's user+system time over its runs / requests (rusage, /proc/PID/stat); machine: all CPU busy"
	echo "time (other sessions' included; /proc/stat ticks, coarser, can read below a process's) / requests. Redis commands per request count those the script runs (TIME, GET, SET)"
	echo "besides the EVALSHA that carried them: one round trip per request, whatever the number of policies (one per policy to a Redis Cluster)."
	echo
	echo "### Every run"
	echo
	echo "| series | mode | round | requests | req/s | p50 | p90 | p99 | p99.9 | max | load |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	awk -F'\t' 'NR > 1 { printf "| %s | %s | %s | %s | %s | %.3f ms | %.3f ms | %.3f ms | %.3f ms | %.1f ms | %s |\n", $1, $2, $3, $4, $6, $7 / 1000, $8 / 1000, $9 / 1000, $10 / 1000, $11 / 1000, $12 }' "$RESULTS"
	if [ -n "$PROFILE_TOP" ]; then
		echo
		echo "### CPU profile of cantina-ops web during one session run (perf, self time, top 25)"
		echo
		echo '```'
		echo "$PROFILE_TOP"
		echo '```'
		echo
		echo "Inclusive (children) time, top 40:"
		echo
		echo '```'
		echo "$PROFILE_CUM"
		echo '```'
	fi
} >"$WORK/summary.txt"
cat "$WORK/summary.txt"
