#!/usr/bin/env bash
# bench/backup.sh — the backup benchmark of issue 4, in one run on one machine:
#
#   dump   ours (`cantina-ops backup run`, native engine) vs the baseline
#          `mariadb-dump --single-transaction --quick --routines --events
#          --triggers --hex-blob DB | gzip`, with mydumper (compressed, 2
#          threads), ours with BACKUP_ENGINE=mysqldump and ours with
#          BACKUP_GZIP_LEVEL=7 for reference: wall time (min, median), CPU
#          time of the clients and of the server, peak RSS, compressed bytes;
#   memory peak RSS of ours on a ~0.5 GB and a ~1 GB demo POS database;
#   restore ours (`cantina-ops backup restore`, default RESTORE_THREADS) vs
#          `gunzip -c FILE | mariadb` of the same backup file vs myloader
#          (threads = cores) of a mydumper dump (compressed, threads =
#          cores), rounds interleaved with the order rotating, each into a
#          fresh empty database and checked against the source with
#          CHECKSUM TABLE of every table (and SHOW CREATE TABLE);
#          --restore-only measures just this (issue 13).
#
# It starts a private MariaDB on its own port (state, including the seeded
# databases, cached in $BENCH_STATE/<mode>, so a second run skips seeding),
# builds cantina-ops from this checkout, prints a summary table and writes it
# to $BENCH_STATE/<mode>/summary-latest.txt. Numbers go to docs/BENCHMARKS.md.
#
# Usage: bench/backup.sh [--quick] [--restore-only] [--rounds N] [--restore-rounds N]
#   --quick               50 MB and 100 MB databases, 2 rounds: to try the script
#   --restore-only        no dump rounds: one native backup and one mydumper dump
#                         of the big database (cached, seeded if missing), then
#                         the restore rounds only (~12 min on the 1 GB database)
#   --rounds N            dump rounds (default 5; quick 2)
#   --restore-rounds N    restore rounds (default 2; quick 1)
# Environment:
#   BENCH_STATE        state dir (default ~/.cache/cantina-ops/bench)
#   BENCH_BUFFER_POOL  InnoDB buffer pool of the private server (default 2G)
#   BENCH_RESTORE_EXISTING=1  ours restores into an existing empty database, like the others
#                      (default: into a new one it creates, checked by sha256 first)
#   BENCH_BIN          a prebuilt cantina-ops binary instead of `go build`
set -euo pipefail

usage() { sed -n '/^# Usage:/,/^#   BENCH_BIN/s/^# \{0,1\}//p' "$0"; }

ARGS=("$@")
QUICK=0
RESTORE_ONLY=0
ROUNDS=""
RESTORE_ROUNDS=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--restore-only) RESTORE_ONLY=1 ;;
	--rounds)
		ROUNDS=${2:?--rounds needs a number}
		shift
		;;
	--restore-rounds)
		RESTORE_ROUNDS=${2:?--restore-rounds needs a number}
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

if [ "$QUICK" -eq 1 ]; then
	MODE=quick
	SIZES=(50MB 100MB)
	ROUNDS=${ROUNDS:-2}
	RESTORE_ROUNDS=${RESTORE_ROUNDS:-1}
else
	MODE=full
	SIZES=(500MB 1GB)
	ROUNDS=${ROUNDS:-5}
	RESTORE_ROUNDS=${RESTORE_ROUNDS:-2}
fi
case "$ROUNDS$RESTORE_ROUNDS" in *[!0-9]*) svc_die "--rounds and --restore-rounds take whole numbers" ;; esac
if [ "$ROUNDS" -lt 1 ] || [ "$RESTORE_ROUNDS" -lt 1 ]; then
	svc_die "--rounds and --restore-rounds must be at least 1"
fi
SEED=1
BUFFER_POOL=${BENCH_BUFFER_POOL:-2G}
STATE=${BENCH_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/cantina-ops/bench}/$MODE
# The two demo databases: small (memory check) and big (everything).
DBS=()
for s in "${SIZES[@]}"; do
	DBS+=("pos_$(printf '%s' "$s" | tr '[:upper:]' '[:lower:]')")
done
SMALL_DB=${DBS[0]}
BIG_DB=${DBS[1]}

# ---------------------------------------------------------------- set-up

svc_install_packages mariadb-server mariadb-client mydumper time gzip jq bsdextrautils
for c in mariadbd mariadb mariadb-dump mydumper myloader /usr/bin/time gzip gunzip jq column; do
	command -v "$c" >/dev/null 2>&1 || svc_die "$c is missing after installing packages"
done

CORES=$(nproc)
SCRATCH_DBS=(bench_restore_ours bench_restore_gunzip bench_restore_myloader)
WORK=""
# shellcheck disable=SC2317 # trap handler
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	# A failed run leaves no restore copies behind in the cached data dir.
	if [ ${#SVC_PIDS[@]} -gt 0 ] && [ -s "${DEFAULTS:-}" ]; then
		for db in "${SCRATCH_DBS[@]}"; do
			sql -e "DROP DATABASE IF EXISTS $db" 2>/dev/null || true
		done
	fi
	svc_stop_all
	[ -n "$WORK" ] && rm -rf "$WORK"
	[ "$rc" -ne 0 ] && log "FAILED (exit $rc)"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$STATE"
chmod 700 "$STATE"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cantina-bench.XXXXXX")
bench_results "$WORK/results.tsv"

bench_binary "$WORK"

bench_server 3420

# --------------------------------------------------------------- seeding

for i in "${!DBS[@]}"; do
	if [ "$RESTORE_ONLY" -eq 0 ] || [ "${DBS[i]}" = "$BIG_DB" ]; then
		bench_seed "${DBS[i]}" "${SIZES[i]}"
	fi
done

# ----------------------------------------------------------- measuring

# run_ours TOOL ENGINE LEVEL DB ROUND: one `cantina-ops backup run` with
# BACKUP_ENGINE=ENGINE and BACKUP_GZIP_LEVEL=LEVEL; its backup is left in
# $WORK/backups/TOOL-DB, named in LAST_BACKUP[TOOL-DB].
declare -A LAST_BACKUP=()
run_ours() {
	local tool=$1 engine=$2 level=$3 db=$4 round=$5 dir man size
	dir=$WORK/backups/$tool-$db
	rm -rf "$dir"
	mkdir -p "$dir"
	ours_cmd DATABASE_URL="$(db_url "$db")" BACKUP_DIR="$dir" BACKUP_ENGINE="$engine" BACKUP_GZIP_LEVEL="$level" -- backup run
	measure "$tool" "$db" "$round" "${OURS_CMD[@]}"
	man=$(find "$dir" -maxdepth 1 -name '*.sql.gz.json' -print -quit)
	[ -n "$man" ] || svc_die "$tool on $db: no manifest in $dir"
	LAST_BACKUP[$tool-$db]=$(jq -r .name "$man")
	size=$(stat -c %s "$dir/${LAST_BACKUP[$tool-$db]}")
	[ "$size" -eq "$(jq .compressed_bytes "$man")" ] || svc_die "$tool on $db: file size $size differs from the manifest's"
	[ "$(jq .compression_level "$man")" -eq "$level" ] || svc_die "$tool on $db: gzip level $(jq .compression_level "$man"), not $level (a cantina-ops without BACKUP_GZIP_LEVEL?)"
	record "$tool" "$db" "$round" "$size" "$(jq .raw_bytes "$man")"
}

# run_baseline DB ROUND: mariadb-dump | gzip, the whole pipeline timed; a
# failure of either side fails it (pipefail).
run_baseline() {
	local db=$1 round=$2 out=$WORK/baseline-$1.sql.gz
	rm -f "$out"
	# shellcheck disable=SC2016 # expanded by the inner bash
	measure baseline "$db" "$round" bash -o pipefail -c \
		'mariadb-dump --defaults-file="$1" --single-transaction --quick --routines --events --triggers --hex-blob "$2" | gzip >"$3"' \
		_ "$DEFAULTS" "$db" "$out"
	record baseline "$db" "$round" "$(stat -c %s "$out")" ""
}

# run_mydumper DB ROUND: mydumper, compressed, threads = cores, every
# object; the dump is left in $WORK/mydumper-DB (for myloader).
run_mydumper() {
	local db=$1 round=$2 dir=$WORK/mydumper-$1
	rm -rf "$dir"
	measure mydumper "$db" "$round" mydumper --defaults-file="$DEFAULTS" --database "$db" --outputdir "$dir" \
		--compress --threads "$CORES" --triggers --events --routines --verbose 1
	record mydumper "$db" "$round" "$(find "$dir" -type f -printf '%s\n' | awk '{ n += $1 } END { print n }')" ""
}

# checksums DB: CHECKSUM TABLE of every base table of DB, one "table sum"
# line each, the database name stripped.
checksums() {
	local db=$1 t list=""
	for t in $(sql -e "SELECT table_name FROM information_schema.tables WHERE table_schema='$1' AND table_type='BASE TABLE' ORDER BY table_name"); do
		list+="${list:+, }\`$db\`.\`$t\`"
	done
	sql -e "CHECKSUM TABLE $list" | sed "s/^$db\.//"
}
# schemas DB: SHOW CREATE TABLE of every base table of DB (AUTO_INCREMENT
# counters, index order and names included).
schemas() {
	local t
	for t in $(sql -e "SELECT table_name FROM information_schema.tables WHERE table_schema='$1' AND table_type='BASE TABLE' ORDER BY table_name"); do
		sql -e "SHOW CREATE TABLE \`$1\`.\`$t\`"
	done
}

# loadavg: the three load averages of /proc/loadavg.
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

UPTIME_BEFORE=$(uptime)
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
log "uptime before: $UPTIME_BEFORE"

if [ "$RESTORE_ONLY" -eq 1 ]; then
	# One native backup (format of this checkout) and one mydumper dump of
	# the same database; the first also warms the buffer pool.
	run_ours ours native 6 "$BIG_DB" 1
	run_mydumper "$BIG_DB" 1
else
	# Warm-up (not measured): the first dump reads pages the later ones find
	# in the buffer pool; every measured run then starts from the same state.
	log "warm-up: one unmeasured dump of $BIG_DB"
	mariadb-dump --defaults-file="$DEFAULTS" --single-transaction --quick "$BIG_DB" >/dev/null

	# Dumps of the big database, alternating the order round by round.
	for ((r = 1; r <= ROUNDS; r++)); do
		if ((r % 2)); then
			order=(ours baseline mydumper ours-mysqldump ours-gzip7)
		else
			order=(baseline ours ours-gzip7 ours-mysqldump mydumper)
		fi
		for t in "${order[@]}"; do
			case $t in
			ours) run_ours ours native 6 "$BIG_DB" "$r" ;;
			ours-mysqldump) run_ours ours-mysqldump mysqldump 6 "$BIG_DB" "$r" ;;
			ours-gzip7) run_ours ours-gzip7 native 7 "$BIG_DB" "$r" ;;
			baseline) run_baseline "$BIG_DB" "$r" ;;
			mydumper) run_mydumper "$BIG_DB" "$r" ;;
			esac
		done
	done
	BIG_NAME=${LAST_BACKUP[ours-$BIG_DB]} # the last native backup of the big database
	BIG_DIR=$WORK/backups/ours-$BIG_DB
	rm -rf "$WORK/backups/ours-mysqldump-$BIG_DB" "$WORK/backups/ours-gzip7-$BIG_DB"

	# The baseline's file must be complete: mariadb-dump's own trailer.
	gunzip -c "$WORK/baseline-$BIG_DB.sql.gz" | tail -n 1 | grep -q '^-- Dump completed' ||
		svc_die "the baseline dump of $BIG_DB lacks mariadb-dump's completion trailer"

	# Memory: ours on the small database (the big one's runs are above).
	mariadb-dump --defaults-file="$DEFAULTS" --single-transaction --quick "$SMALL_DB" >/dev/null
	for ((r = 1; r <= 2; r++)); do
		run_ours ours native 6 "$SMALL_DB" "$r"
	done
	rm -rf "$WORK/backups/ours-$SMALL_DB"
fi
BIG_NAME=${LAST_BACKUP[ours-$BIG_DB]} # the last native backup of the big database
BIG_DIR=$WORK/backups/ours-$BIG_DB
MYD_DIR=$WORK/mydumper-$BIG_DB # the last mydumper dump of the big database
BIG_FORMAT=$(jq -r '.tool_version // "?"' "$BIG_DIR/$BIG_NAME.json")

# Restores: ours and gunzip | mariadb of the same .sql.gz, myloader of the
# mydumper dump, each into a fresh database (see below), the order rotating
# round by round; every restore is compared with the source (CHECKSUM
# TABLE of every table: a mismatch fails the run; SHOW CREATE TABLE: must
# be identical for the two loaders of our file, noted for myloader) and
# dropped.
log "CHECKSUM TABLE and SHOW CREATE TABLE of $BIG_DB (the reference)"
checksums "$BIG_DB" >"$WORK/sum-src"
schemas "$BIG_DB" >"$WORK/schema-src"
[ -s "$WORK/sum-src" ] || svc_die "$BIG_DB has no tables"
declare -A SCHEMA_SAME=()
RESTORE_LOADS=()
TOOLS=(ours gunzip myloader)
for ((r = 1; r <= RESTORE_ROUNDS; r++)); do
	for ((k = 0; k < ${#TOOLS[@]}; k++)); do
		t=${TOOLS[(k + r - 1) % ${#TOOLS[@]}]}
		target=bench_restore_$t
		# gunzip | mariadb and myloader load into a database that exists;
		# ours creates its own (a restore into a database that does not
		# exist yet, as on a new server after a disaster; see the README
		# for the check that makes with a manifest). BENCH_RESTORE_EXISTING=1
		# gives ours an existing empty one too.
		sql -e "DROP DATABASE IF EXISTS $target"
		if [ "$t" != ours ] || [ "${BENCH_RESTORE_EXISTING:-0}" = 1 ]; then
			sql -e "CREATE DATABASE $target"
		fi
		before=$(loadavg)
		case $t in
		ours)
			ours_cmd DATABASE_URL="$(db_url "$BIG_DB")" BACKUP_DIR="$BIG_DIR" -- \
				backup restore "$BIG_NAME" --database "$target" --yes
			measure restore-ours "$BIG_DB" "$r" "${OURS_CMD[@]}"
			size=$(stat -c %s "$BIG_DIR/$BIG_NAME")
			;;
		gunzip)
			# shellcheck disable=SC2016 # expanded by the inner bash
			measure restore-gunzip "$BIG_DB" "$r" bash -o pipefail -c 'gunzip -c "$2" | mariadb --defaults-file="$1" "$3"' \
				_ "$DEFAULTS" "$BIG_DIR/$BIG_NAME" "$target"
			size=$(stat -c %s "$BIG_DIR/$BIG_NAME")
			;;
		myloader)
			measure restore-myloader "$BIG_DB" "$r" myloader --defaults-file="$DEFAULTS" --directory "$MYD_DIR" \
				--database "$target" --threads "$CORES" --overwrite-tables --verbose 1
			size=$(find "$MYD_DIR" -type f -printf '%s\n' | awk '{ n += $1 } END { print n }')
			;;
		esac
		record "restore-$t" "$BIG_DB" "$r" "$size" ""
		RESTORE_LOADS+=("round $r, $t: load $before before, $(loadavg) after")
		checksums "$target" >"$WORK/sum-$t"
		if ! diff "$WORK/sum-src" "$WORK/sum-$t" >&2; then
			svc_die "round $r: the restore by $t differs from $BIG_DB (CHECKSUM TABLE above)"
		fi
		schemas "$target" >"$WORK/schema-$t"
		if diff "$WORK/schema-src" "$WORK/schema-$t" >"$WORK/schema-diff-$t"; then
			SCHEMA_SAME[$t]=identical
		elif [ "$t" = myloader ]; then
			SCHEMA_SAME[$t]="differs ($(grep -c '^[<>]' "$WORK/schema-diff-$t") lines of diff)"
		else
			cat "$WORK/schema-diff-$t" >&2
			svc_die "round $r: SHOW CREATE TABLE after the restore by $t differs from $BIG_DB's (diff above)"
		fi
		sql -e "DROP DATABASE $target"
	done
done
RESTORE_CHECK="CHECKSUM TABLE of all $(wc -l <"$WORK/sum-src") tables equal to the source's after every restore; SHOW CREATE TABLE of every table: ours ${SCHEMA_SAME[ours]}, gunzip | mariadb ${SCHEMA_SAME[gunzip]}, myloader ${SCHEMA_SAME[myloader]}"

UPTIME_AFTER=$(uptime)
log "uptime after: $UPTIME_AFTER"

# ------------------------------------------------------------- summary

# header_lines: run, command, machine, server, tools and load of the summary.
header_lines() {
	echo "run        $STARTED → $(date -u '+%H:%M UTC')"
	if [ "$RESTORE_ONLY" -eq 1 ]; then
		echo "command    bench/backup.sh${ARGS[*]:+ ${ARGS[*]}} (restore rounds $RESTORE_ROUNDS)"
	else
		echo "command    bench/backup.sh${ARGS[*]:+ ${ARGS[*]}} (dump rounds $ROUNDS, restore rounds $RESTORE_ROUNDS)"
	fi
	echo "machine    $CORES cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, $(uname -sr)"
	echo "server     MariaDB $(sql -e 'SELECT VERSION()'), buffer pool $BUFFER_POOL, redo log 512M, one server for every tool"
	echo "tools      cantina-ops $GIT_REV ($(go version 2>/dev/null | awk '{ print $3 }')); $(mariadb-dump --version | sed 's/,.*//; s/  */ /g'); gzip $(gzip --version | awk 'NR == 1 { print $2 }'); mydumper $(mydumper --version | awk '{ print $2 }' | tr -d ,); myloader $(myloader --version | awk '{ print $2 }' | tr -d ,)"
	echo "load       1-min load average at the start of each run: $(range load1); CPU used by other"
	echo "           processes during each run: $(range other_cores) cores (of $CORES)"
	echo "uptime     before:$UPTIME_BEFORE"
	echo "           after: $UPTIME_AFTER"
}

# restore_section: the restore table, its check, ratios and aims (issue 13)
# and the load around each restore.
restore_section() {
	local vs_gunzip vs_myloader ours_med
	vs_gunzip=$(ratio "$(stat_of restore-ours "$BIG_DB" wall_s median)" "$(stat_of restore-gunzip "$BIG_DB" wall_s median)")
	vs_myloader=$(ratio "$(stat_of restore-ours "$BIG_DB" wall_s median)" "$(stat_of restore-myloader "$BIG_DB" wall_s median)")
	ours_med=$(stat_of restore-ours "$BIG_DB" wall_s median)
	if [ "${BENCH_RESTORE_EXISTING:-0}" = 1 ]; then
		echo "## Restore of $BIG_DB ($RESTORE_ROUNDS rounds, order rotating, each into a fresh empty database)"
	else
		echo "## Restore of $BIG_DB ($RESTORE_ROUNDS rounds, order rotating; ours into a new database it creates, the others into a fresh empty one)"
	fi
	echo
	echo "Ours and gunzip | mariadb load the same file, ours' native backup $BIG_NAME"
	echo "($BIG_FORMAT, $(mb "$(stat -c %s "$BIG_DIR/$BIG_NAME")")); myloader loads a mydumper dump of the same"
	echo "database (compressed, $CORES threads, $(find "$MYD_DIR" -name '*.sql.gz' ! -name '*-schema*' | wc -l) data files, $(mb "$(stat_of restore-myloader "$BIG_DB" bytes max)"))."
	echo
	echo "| tool | $ROW_HEAD |"
	echo "|---|$ROW_RULE|"
	echo "| ours: backup restore NAME --database X --yes (RESTORE_THREADS default) | $(row restore-ours "$BIG_DB") |"
	echo "| gunzip -c FILE \| mariadb X | $(row restore-gunzip "$BIG_DB") |"
	echo "| myloader -d DIR -B X -t $CORES --overwrite-tables | $(row restore-myloader "$BIG_DB") |"
	echo
	echo "check: $RESTORE_CHECK"
	echo
	echo "| measure | value | aim | |"
	echo "|---|---|---|---|"
	echo "| restore wall time, ours/gunzip\|mariadb (medians) | $vs_gunzip | ≤ 0.50 | $(verdict "$vs_gunzip" 0.50) |"
	echo "| restore wall time, ours/myloader (medians) | $vs_myloader | ≤ 1.00 | $(verdict "$vs_myloader" 1.00) |"
	echo "| restore wall time, ours (median) | $(secs "$ours_med") | ≤ 120 s | $(verdict "$ours_med" 120) |"
	echo
	echo "Load (/proc/loadavg: 1, 5, 15 min) around each restore:"
	echo
	printf -- '- %s\n' "${RESTORE_LOADS[@]}"
}

# notes: how the columns are measured, then every run.
notes() {
	echo "Wall time from date(1) around each command. CPU = user+system time of the command's"
	echo "processes (the clients); server CPU = the MariaDB server's meanwhile (/proc/PID/stat)."
	echo "Peak RSS = GNU time %M: the largest single process of the command (for a pipeline the"
	echo "biggest member, not the sum), the server not counted. Other load = CPU used meanwhile by"
	echo "everything else on the machine (/proc/stat busy time minus clients and server), in cores."
	echo
	bench_every_run
}

# save_summary PREFIX: keeps $WORK/summary.txt and the results in $STATE as
# PREFIXsummary-<time>.txt (and PREFIXsummary-latest.txt) and
# PREFIXresults-<time>.tsv, and prints the summary.
save_summary() {
	local stamp
	stamp=$(date -u +%Y%m%dT%H%M%SZ)
	cp "$WORK/summary.txt" "$STATE/$1summary-$stamp.txt"
	cp "$WORK/summary.txt" "$STATE/$1summary-latest.txt"
	cp "$RESULTS" "$STATE/$1results-$stamp.tsv"
	cat "$WORK/summary.txt"
	log "summary written to $STATE/$1summary-$stamp.txt"
}

if [ "$RESTORE_ONLY" -eq 1 ]; then
	{
		echo "# cantina-ops restore benchmark ($BIG_DB)"
		echo
		header_lines
		echo
		db_row "$BIG_DB"
		echo "database   $BIG_DB: ~$DB_ROWS rows, $(mb "$DB_DATA") data, $(mb "$DB_INDEX") indexes, $(mb "$DB_DISK") on disk (demo seed --seed $SEED)"
		echo
		echo "## The two dumps restored (made once, for reference)"
		echo
		echo "| tool | $ROW_HEAD | size |"
		echo "|---|$ROW_RULE|---|"
		echo "| ours: backup run (native) | $(row ours "$BIG_DB") | $(mb "$(stat_of ours "$BIG_DB" bytes max)") |"
		echo "| mydumper -c -t $CORES | $(row mydumper "$BIG_DB") | $(mb "$(stat_of mydumper "$BIG_DB" bytes max)") |"
		echo
		restore_section
		echo
		notes
	} >"$WORK/summary.txt"
	save_summary restore-
	exit 0
fi

wall_med=$(ratio "$(stat_of ours "$BIG_DB" wall_s median)" "$(stat_of baseline "$BIG_DB" wall_s median)")
wall_min=$(ratio "$(stat_of ours "$BIG_DB" wall_s min)" "$(stat_of baseline "$BIG_DB" wall_s min)")
cpu_med=$(ratio "$(stat_of ours "$BIG_DB" cpu_s median)" "$(stat_of baseline "$BIG_DB" cpu_s median)")
size_r=$(awk -v a="$(stat_of ours "$BIG_DB" bytes median)" -v b="$(stat_of baseline "$BIG_DB" bytes median)" 'BEGIN { printf "%.4f", a / b }')
total_r=$(ratio "$(total_cpu ours "$BIG_DB")" "$(total_cpu baseline "$BIG_DB")")
rss_max_mb=$(awk -v a="$(stat_of ours "$SMALL_DB" rss_kb max)" -v b="$(stat_of ours "$BIG_DB" rss_kb max)" \
	'BEGIN { printf "%.1f", (a > b ? a : b) * 1024 / 1e6 }')
rss_r=$(ratio "$(stat_of ours "$BIG_DB" rss_kb max)" "$(stat_of ours "$SMALL_DB" rss_kb max)")
sql_r=$(ratio "$(stat_of ours "$BIG_DB" raw_bytes max)" "$(stat_of ours "$SMALL_DB" raw_bytes max)")

{
	echo "# cantina-ops backup benchmark ($MODE mode)"
	echo
	header_lines
	echo
	echo "## Databases (demo seed --seed $SEED)"
	echo
	echo "| database | --size | rows (approx.) | data | indexes | on disk | SQL text (ours) |"
	echo "|---|---|---|---|---|---|---|"
	for i in "${!DBS[@]}"; do
		db_row "${DBS[i]}"
		echo "| ${DBS[i]} | ${SIZES[i]} | $DB_ROWS | $(mb "$DB_DATA") | $(mb "$DB_INDEX") | $(mb "$DB_DISK") | $(mb "$(stat_of ours "${DBS[i]}" raw_bytes max)") |"
	done
	echo
	echo "## Dump of $BIG_DB ($ROUNDS rounds, order alternating)"
	echo
	echo "| tool | $ROW_HEAD | compressed |"
	echo "|---|$ROW_RULE|---|"
	echo "| ours: backup run (native) | $(row ours "$BIG_DB") | $(mb "$(stat_of ours "$BIG_DB" bytes median)") |"
	echo "| baseline: mariadb-dump \| gzip | $(row baseline "$BIG_DB") | $(mb "$(stat_of baseline "$BIG_DB" bytes median)") |"
	echo "| reference: mydumper -c -t $CORES | $(row mydumper "$BIG_DB") | $(mb "$(stat_of mydumper "$BIG_DB" bytes median)") |"
	echo "| ours, BACKUP_ENGINE=mysqldump | $(row ours-mysqldump "$BIG_DB") | $(mb "$(stat_of ours-mysqldump "$BIG_DB" bytes median)") |"
	echo "| ours, BACKUP_GZIP_LEVEL=7 | $(row ours-gzip7 "$BIG_DB") | $(mb "$(stat_of ours-gzip7 "$BIG_DB" bytes median)") |"
	echo
	echo "## Peak RSS of ours (native) by database size"
	echo
	echo "| database | SQL text | $ROW_HEAD |"
	echo "|---|---|$ROW_RULE|"
	for db in "$SMALL_DB" "$BIG_DB"; do
		echo "| $db | $(mb "$(stat_of ours "$db" raw_bytes max)") | $(row ours "$db") |"
	done
	echo
	restore_section
	echo
	echo "## Ratios and aims"
	echo
	echo "| measure | value | aim | |"
	echo "|---|---|---|---|"
	echo "| dump wall time, ours/baseline (medians) | $wall_med | ≤ 0.50 | $(verdict "$wall_med" 0.50) |"
	echo "| dump wall time, ours/baseline (minimums) | $wall_min | ≤ 0.50 | $(verdict "$wall_min" 0.50) |"
	echo "| dump CPU time of the clients, ours/baseline (medians) | $cpu_med | | |"
	echo "| dump CPU time, clients + server, ours/baseline (medians) | $total_r | | |"
	echo "| compressed size, ours/baseline | $size_r | ≤ 1 | $(verdict "$size_r" 1.00) |"
	echo "| peak RSS of ours, either database | $rss_max_mb MB | < 100 MB | $(verdict "$rss_max_mb" 99.99) |"
	echo "| peak RSS of ours, $BIG_DB/$SMALL_DB (SQL text ×$sql_r) | $rss_r | flat (≤ 1.2) | $(verdict "$rss_r" 1.20) |"
	echo "| compressed size, ours with BACKUP_GZIP_LEVEL=7/baseline | $(awk -v a="$(stat_of ours-gzip7 "$BIG_DB" bytes median)" -v b="$(stat_of baseline "$BIG_DB" bytes median)" 'BEGIN { printf "%.4f", a / b }') | | |"
	echo "| dump wall time, ours with BACKUP_GZIP_LEVEL=7/baseline (medians) | $(ratio "$(stat_of ours-gzip7 "$BIG_DB" wall_s median)" "$(stat_of baseline "$BIG_DB" wall_s median)") | | |"
	echo "| dump wall time, mydumper/baseline (medians) | $(ratio "$(stat_of mydumper "$BIG_DB" wall_s median)" "$(stat_of baseline "$BIG_DB" wall_s median)") | | |"
	echo
	notes
} >"$WORK/summary.txt"
save_summary ""
