# shellcheck shell=bash
# shellcheck disable=SC2034 # sets variables for the benchmark that sources it
# bench/lib.sh — sourced by the benchmarks, after scripts/services.sh.

# bench_binary DIR: sets BIN to $BENCH_BIN (a prebuilt cantina-ops), or to
# cantina-ops built from this checkout into DIR, and GIT_REV to the
# checkout's revision ("+ uncommitted changes" when the code differs).
bench_binary() {
	local dir=$1
	if [ -n "${BENCH_BIN:-}" ]; then
		BIN=$(cd "$(dirname "$BENCH_BIN")" && pwd)/$(basename "$BENCH_BIN")
		[ -x "$BIN" ] || svc_die "BENCH_BIN=$BENCH_BIN is not an executable"
	else
		command -v go >/dev/null 2>&1 || svc_die "go is not on PATH (or set BENCH_BIN to a built cantina-ops)"
		svc_log "building cantina-ops"
		BIN=$dir/cantina-ops
		go build -o "$BIN" ./cmd/cantina-ops
	fi
	GIT_REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
	if [ -n "$(git status --porcelain -- cmd internal web worker scheduler tasks go.mod go.sum 2>/dev/null)" ]; then
		GIT_REV="$GIT_REV + uncommitted changes"
	fi
}

log() { printf 'bench: %s\n' "$*" >&2; }

# bench_work NAME: sets WORK to a new temp dir and arranges that on exit
# (or Ctrl-C, SIGTERM) every server this shell started is stopped
# (svc_stop_all) and WORK removed; a failed run says so.
bench_work() {
	WORK=""
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/cantina-bench-$1.XXXXXX")
}
# shellcheck disable=SC2317 # trap handler
bench_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	svc_stop_all
	[ -n "$WORK" ] && rm -rf "$WORK"
	[ "$rc" -ne 0 ] && log "FAILED (exit $rc)"
	exit "$rc"
}

# bench_mariadb PORT: the library's MariaDB with the benchmark's buffer pool,
# redo log and packet size (the same server for every tool); the first start
# after a killed run may recover for a while.
bench_mariadb() {
	svc_start_mariadb "$STATE/mariadb" "$1" --innodb-buffer-pool-size="$BUFFER_POOL" \
		--innodb-log-file-size=512M --max-allowed-packet=256M
}

# bench_server PORT: starts bench_mariadb (state in $STATE/mariadb, buffer pool
# $BUFFER_POOL) on PORT or the next free one, with one account for every tool;
# its password reaches the clients through a defaults file ($WORK/client.cnf)
# and cantina-ops through DATABASE_URL in its environment. Sets PORT,
# MYSQL_PID, DB_USER, DB_PASS and DEFAULTS. Call it from the main shell.
bench_server() {
	SVC_MARIADB_WAIT=300
	svc_start_on mariadb "$1" bench_mariadb
	PORT=$SVC_PORT
	MYSQL_PID=$SVC_MARIADB_PID
	DB_USER=bench
	DB_PASS=$(svc_random_password)
	svc_mariadb_account "$DB_USER" "$DB_PASS" || exit 1
	DEFAULTS=$WORK/client.cnf
	(
		umask 077
		printf '[client]\nuser=%s\npassword=%s\nhost=127.0.0.1\nport=%s\nprotocol=tcp\n' \
			"$DB_USER" "$DB_PASS" "$PORT" >"$DEFAULTS"
	)
}

sql() { mariadb --defaults-file="$DEFAULTS" -N -B "$@"; }

# ours_cmd [VAR=VALUE...] -- ARGS...: sets OURS_CMD to cantina-ops ARGS in a
# clean environment (no stray DATABASE_URL or JAWSDB_URL), run from the work
# dir (no ./.env); ours runs it.
ours_cmd() {
	OURS_CMD=(env -i -C "$WORK" PATH="$PATH" HOME="$HOME" TMPDIR="${TMPDIR:-/tmp}" LOG_LEVEL=warn)
	while [ "$1" != -- ]; do
		OURS_CMD+=("$1")
		shift
	done
	shift
	OURS_CMD+=("$BIN" "$@")
}
ours() {
	ours_cmd "$@"
	"${OURS_CMD[@]}"
}

db_url() { printf 'mysql://%s:%s@127.0.0.1:%s/%s' "$DB_USER" "$(svc_urlencode "$DB_PASS")" "$PORT" "$1"; }

# bench_seed DB SIZE: seeds DB with SIZE of demo POS data (seed $SEED) once;
# a cached DB is only checked to be complete.
bench_seed() {
	local db=$1 size=$2 t0
	if [ "$(sql -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='$db'")" -gt 0 ]; then
		log "$db: cached in $STATE/mariadb (checking it is complete)"
	else
		log "$db: seeding $size of demo POS data (seed $SEED; once, cached for later runs)"
	fi
	t0=$(date +%s)
	ours DATABASE_URL="$(db_url "$db")" -- demo seed --size "$size" --seed "$SEED" --if-empty >"$WORK/seed.out" ||
		{
			cat "$WORK/seed.out" >&2
			svc_die "seeding $db failed"
		}
	grep -q 'nothing to do' "$WORK/seed.out" || log "$db: seeded in $(($(date +%s) - t0)) s"
}

CLK_TCK=$(getconf CLK_TCK)
# pid_ticks PID: CPU time (user+system, in clock ticks) PID has used so far.
pid_ticks() {
	local stat rest
	read -r stat <"/proc/$1/stat"
	rest=${stat##*) }
	awk '{ print $12 + $13 }' <<<"$rest" # utime, stime: fields 14 and 15
}
# server_ticks: CPU time (clock ticks) the MariaDB server has used so far.
server_ticks() { pid_ticks "$MYSQL_PID"; }
# busy_ticks: CPU time (clock ticks) the whole machine has spent not idle.
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }

# measure TOOL DB ROUND CMD...: runs CMD under GNU time and sets
#   M_WALL   seconds, from date(1) around it
#   M_CPU    user+system seconds of CMD and its children (the clients)
#   M_SRV    user+system seconds the MariaDB server used meanwhile
#   M_OTHER  CPU the rest of the machine used meanwhile, in cores (busy
#            time minus clients and server, over wall time): other load
#   M_RSS    peak RSS in KiB of the largest single process: GNU time
#            reports the maximum over CMD and the children it waited
#            for, not a sum
#   M_LOAD   the 1-minute load average at the start
measure() {
	local tool=$1 db=$2 round=$3 t0 t1 user sys s0 s1 b0 b1
	shift 3
	M_LOAD=$(cut -d' ' -f1 /proc/loadavg)
	log "$tool on $db, round $round (load $M_LOAD)"
	s0=$(server_ticks)
	b0=$(busy_ticks)
	t0=$(date +%s.%N)
	if ! /usr/bin/time -f '%U %S %M' -o "$WORK/time.out" "$@" >"$WORK/cmd.out" 2>"$WORK/cmd.err"; then
		log "$tool on $db failed:"
		tail -n 20 "$WORK/cmd.err" "$WORK/cmd.out" >&2
		exit 1
	fi
	t1=$(date +%s.%N)
	b1=$(busy_ticks)
	s1=$(server_ticks)
	read -r user sys M_RSS <"$WORK/time.out"
	M_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	M_CPU=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
	M_SRV=$(awk -v a="$s0" -v b="$s1" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / hz }')
	M_OTHER=$(awk -v a="$b0" -v b="$b1" -v hz="$CLK_TCK" -v c="$M_CPU" -v s="$M_SRV" -v w="$M_WALL" \
		'BEGIN { o = ((b - a) / hz - c - s) / w; printf "%.2f", o < 0 ? 0 : o }')
}

# bench_results FILE: sets RESULTS to FILE, started with the header of the
# columns record writes.
bench_results() {
	RESULTS=$1
	printf 'tool\tdb\tround\twall_s\tcpu_s\tserver_cpu_s\trss_kb\tbytes\traw_bytes\tload1\tother_cores\n' >"$RESULTS"
}

# record TOOL DB ROUND BYTES RAW: appends the last measurement to $RESULTS.
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$M_WALL" "$M_CPU" "$M_SRV" "$M_RSS" "$4" "$5" "$M_LOAD" "$M_OTHER" >>"$RESULTS"
	log "  $M_WALL s wall, $M_CPU s CPU (server $M_SRV s, others $M_OTHER cores), $((M_RSS / 1024)) MiB peak RSS, $4 bytes"
}

# ------------------------------------------------------------- summary

# stat_of TOOL DB COLUMN FUNC: min, median or max of a column's values.
stat_of() {
	awk -F'\t' -v tool="$1" -v db="$2" -v col="$3" -v fn="$4" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
		$1 == tool && $2 == db { v[++n] = $c + 0 }
		END {
			if (n == 0) { print "-"; exit }
			asort(v)
			if (fn == "min") print v[1]
			else if (fn == "max") print v[n]
			else if (n % 2) print v[(n + 1) / 2]
			else print (v[n / 2] + v[n / 2 + 1]) / 2
		}' "$RESULTS"
}
runs_of() { awk -F'\t' -v t="$1" -v d="$2" '$1 == t && $2 == d' "$RESULTS" | wc -l; }
# Sizes in decimal units, as the issue's aims (1 GB, 100 MB) and --size are.
mb() { awk -v b="$1" 'BEGIN { if (b == "-" || b == "") print "-"; else printf "%.1f MB", b / 1e6 }'; }
secs() { awk -v s="$1" 'BEGIN { if (s == "-") print "-"; else printf "%.1f s", s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
verdict() { awk -v v="$1" -v lim="$2" 'BEGIN { print (v <= lim) ? "met" : "MISSED" }'; }
# rss TOOL DB: the largest peak RSS of TOOL's runs on DB, in MB.
rss() { mb "$(awk -v k="$(stat_of "$1" "$2" rss_kb max)" 'BEGIN { print k * 1024 }')"; }
# row TOOL DB: the cells runs, wall min, wall median, client CPU median,
# server CPU median, peak RSS and other load (median, in cores).
row() {
	printf '%s | %s | %s | %s | %s | %s | %s' "$(runs_of "$1" "$2")" "$(secs "$(stat_of "$1" "$2" wall_s min)")" \
		"$(secs "$(stat_of "$1" "$2" wall_s median)")" "$(secs "$(stat_of "$1" "$2" cpu_s median)")" \
		"$(secs "$(stat_of "$1" "$2" server_cpu_s median)")" "$(rss "$1" "$2")" \
		"$(awk -v v="$(stat_of "$1" "$2" other_cores median)" 'BEGIN { printf "%.1f", v }')"
}
ROW_HEAD="runs | wall min | wall median | CPU median | server CPU median | peak RSS | other load"
ROW_RULE="---|---|---|---|---|---|---"
# total_cpu TOOL DB: median of client + server CPU seconds.
total_cpu() {
	awk -F'\t' -v t="$1" -v d="$2" '$1 == t && $2 == d { v[++n] = $5 + $6 }
		END { asort(v); print (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }' "$RESULTS"
}

# db_row DB: sets DB_ROWS, DB_DATA, DB_INDEX (approx., information_schema)
# and DB_DISK (bytes of its files).
db_row() {
	local info
	info=$(sql -e "SELECT SUM(table_rows), SUM(data_length), SUM(index_length) FROM information_schema.tables WHERE table_schema='$1' AND table_type='BASE TABLE'")
	read -r DB_ROWS DB_DATA DB_INDEX <<<"$info"
	DB_DISK=$(du -sb "$STATE/mariadb/data/$1" | cut -f1)
}
# range COLUMN: smallest–largest value of a column over all runs.
range() {
	awk -F'\t' -v col="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
		{ if (min == "" || $c + 0 < min) min = $c + 0; if ($c + 0 > max) max = $c + 0 }
		END { print min "–" max }' "$RESULTS"
}

# bench_every_run: the "## Every run" section of a summary, every row of
# $RESULTS (see bench_results) as an aligned table.
bench_every_run() {
	echo "## Every run"
	echo
	echo '```'
	column -t -s $'\t' "$RESULTS"
	echo '```'
}
