#!/usr/bin/env bash
# bench/offsite.sh — the off-site storage and encryption benchmark of issue 9:
# `cantina-ops backup run` of the same demo POS database (1 GB), in one run,
# to five BACKUP_STORAGE configurations:
#
#   local       file:///dir only (the reference)
#   s3          s3://bucket/prefix only, on a private MinIO
#   local-age   file:///dir only, age-encrypted (BACKUP_AGE_RECIPIENTS)
#   s3-age      s3://bucket/prefix only, age-encrypted
#   local+s3    both destinations at once (the realistic configuration)
#
# several rounds in alternating order: wall time (min, median), CPU time,
# peak RSS, bytes per stored copy; ratios to `local` and the issue's aims
# (≤ 1.2× local time, peak RSS < 100 MB). Then the last s3 and s3-age
# backups are verified with `backup verify --latest --restore-test --storage
# s3` (the encrypted one with BACKUP_AGE_IDENTITY_FILE), so the figures are
# of usable backups.
#
# MinIO's data dir and the local backup dir are both under one work dir
# (same file system, checked), so neither side gets a faster disk. Every run
# writes to a fresh directory or a fresh prefix: retention never interferes.
# The MariaDB server and its cached, seeded databases are bench/backup.sh's
# ($BENCH_STATE/<mode>).
#
# Usage: bench/offsite.sh [--quick] [--rounds N]
#   --quick      the 50 MB database, 2 rounds: to try the script
#   --rounds N   rounds of the five configurations (default 5; quick 2)
# Environment:
#   BENCH_STATE        state dir (default ~/.cache/cantina-ops/bench)
#   BENCH_BUFFER_POOL  InnoDB buffer pool of the private server (default 2G)
#   BENCH_BIN          a prebuilt cantina-ops binary instead of `go build`
#   TMPDIR             where the work dir (backups and MinIO's data) goes
set -euo pipefail

usage() { sed -n '/^# Usage:/,/^#   TMPDIR/s/^# \{0,1\}//p' "$0"; }

ARGS=("$@")
QUICK=0
ROUNDS=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--rounds)
		ROUNDS=${2:?--rounds needs a number}
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
	SIZE=50MB
	ROUNDS=${ROUNDS:-2}
else
	MODE=full
	SIZE=1GB
	ROUNDS=${ROUNDS:-5}
fi
case "$ROUNDS" in '' | *[!0-9]*) svc_die "--rounds takes a whole number" ;; esac
[ "$ROUNDS" -ge 1 ] || svc_die "--rounds must be at least 1"
SEED=1
BUFFER_POOL=${BENCH_BUFFER_POOL:-2G}
STATE=${BENCH_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/cantina-ops/bench}/$MODE
DB=pos_$(printf '%s' "$SIZE" | tr '[:upper:]' '[:lower:]')
BUCKET=cantina-bench
CONFIGS=(local s3 local-age s3-age local+s3)

# ---------------------------------------------------------------- set-up

svc_install_packages mariadb-server mariadb-client time gzip jq bsdextrautils age curl
for c in mariadbd mariadb mariadb-dump /usr/bin/time jq column age age-keygen curl; do
	command -v "$c" >/dev/null 2>&1 || svc_die "$c is missing after installing packages"
done
svc_ensure_minio


mkdir -p "$STATE"
chmod 700 "$STATE"
bench_work offsite
bench_results "$WORK/results.tsv"
mkdir -p "$WORK/local" "$WORK/minio"
# Same disk for both destinations: a fair comparison.
[ "$(stat -c %d "$WORK/local")" = "$(stat -c %d "$WORK/minio")" ] ||
	svc_die "$WORK/local and $WORK/minio are on different file systems"
DISK="$(df --output=source,fstype "$WORK" | awk 'NR == 2 { print $1 " (" $2 ")" }')"

bench_binary "$WORK"
bench_server 3440
bench_seed "$DB" "$SIZE"

svc_minio_disk "$WORK" || exit 1
svc_start_on minio 9140 svc_start_minio "$WORK/minio"
S3_URL=http://127.0.0.1:$SVC_PORT
MINIO_PID=${SVC_PIDS[${#SVC_PIDS[@]} - 1]}

# The bucket, made with curl's SigV4 signing; the credentials go through a
# config file, never argv.
CURL_CFG=$WORK/curl.cfg
(
	umask 077
	printf 'user = "%s:%s"\n' "$SVC_MINIO_USER" "$SVC_MINIO_PASSWORD" >"$CURL_CFG"
)
curl -fsS -K "$CURL_CFG" --aws-sigv4 aws:amz:us-east-1:s3 -X PUT "$S3_URL/$BUCKET" >/dev/null ||
	svc_die "creating bucket $BUCKET on MinIO failed"

# An age key pair: the recipient encrypts, the identity (mode 600) decrypts
# in the verification.
AGE_KEY=$WORK/age.key
age-keygen -o "$AGE_KEY" 2>/dev/null
chmod 600 "$AGE_KEY"
AGE_RECIPIENT=$(age-keygen -y "$AGE_KEY")

# ours_offsite STORAGE [VAR=VALUE...] -- ARGS...: OURS_CMD for cantina-ops
# ARGS on the benchmark's database with BACKUP_STORAGE=STORAGE and MinIO's
# S3 settings.
ours_offsite() {
	local storage=$1
	shift
	ours_cmd DATABASE_URL="$(db_url "$DB")" BACKUP_STORAGE="$storage" \
		S3_ENDPOINT="$S3_URL" S3_REGION=us-east-1 S3_FORCE_PATH_STYLE=true \
		S3_ACCESS_KEY_ID="$SVC_MINIO_USER" S3_SECRET_ACCESS_KEY="$SVC_MINIO_PASSWORD" "$@"
}

# run_dir CONFIG ROUND: the fresh dir and prefix of one run ("+" is not
# allowed in a prefix).
run_dir() { printf '%s-r%s' "${1/+/-}" "$2"; }

# storage_of CONFIG ROUND: BACKUP_STORAGE of one run.
storage_of() {
	local f s
	f="file://$WORK/local/$(run_dir "$1" "$2")"
	s="s3://$BUCKET/$(run_dir "$1" "$2")"
	case $1 in
	local | local-age) echo "$f" ;;
	s3 | s3-age) echo "$s" ;;
	local+s3) echo "$f,$s" ;;
	esac
}

# minio_ticks: CPU time (clock ticks) MinIO has used so far.
minio_ticks() {
	local stat rest
	read -r stat <"/proc/$MINIO_PID/stat"
	rest=${stat##*) }
	awk '{ print $12 + $13 }' <<<"$rest"
}

# run_config CONFIG ROUND: one measured `backup run`; checks every
# destination holds one good copy of the same size and records it. The
# last s3 and s3-age storages are kept in LAST_STORAGE for the verification.
declare -A LAST_STORAGE=()
run_config() {
	local cfg=$1 round=$2 storage enc=() m0 m1 sizes n
	storage=$(storage_of "$cfg" "$round")
	case $cfg in *-age) enc=(BACKUP_AGE_RECIPIENTS="$AGE_RECIPIENT") ;; esac
	m0=$(minio_ticks)
	ours_offsite "$storage" "${enc[@]}" -- backup run
	measure "$cfg" "$DB" "$round" "${OURS_CMD[@]}"
	m1=$(minio_ticks)
	ours_offsite "$storage" -- backup list --json
	"${OURS_CMD[@]}" >"$WORK/list.json"
	n=$(tr ',' '\n' <<<"$storage" | wc -l)
	sizes=$(jq -r '[.backups[] | select(.status != "bad")] | map(.size) | unique | join(" ")' "$WORK/list.json")
	[ "$(jq '.backups | length' "$WORK/list.json")" -eq "$n" ] ||
		svc_die "$cfg: expected $n copies in $storage, listing: $(jq -c '.backups | map({destination, name, status})' "$WORK/list.json")"
	[[ $sizes =~ ^[0-9]+$ ]] || svc_die "$cfg: copies of different sizes or none good: $sizes"
	if [ -n "${enc[*]}" ]; then
		jq -e 'all(.backups[]; .name | endswith(".age"))' "$WORK/list.json" >/dev/null || svc_die "$cfg: a copy is not .age"
	fi
	# MinIO's CPU is the storage side's: reported in the log, not in the client's.
	log "  MinIO used $(awk -v a="$m0" -v b="$m1" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / hz }') s CPU"
	printf '%s\t%s\t%s\n' "$cfg" "$round" "$(awk -v a="$m0" -v b="$m1" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / hz }')" >>"$WORK/minio-cpu.tsv"
	record "$cfg" "$DB" "$round" "$sizes" "$(jq '.backups[0].manifest.raw_bytes' "$WORK/list.json")"
	# The local copies are not needed any more; S3 prefixes stay (fresh per run).
	[ "${cfg#s3}" = "$cfg" ] && rm -rf "$WORK/local/$(run_dir "$cfg" "$round")"
	LAST_STORAGE[$cfg]=$storage
}

UPTIME_BEFORE=$(uptime)
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
log "uptime before: $UPTIME_BEFORE"
log "work dir $WORK on $DISK (local backups and MinIO's data)"

# Warm-up (not measured): pages in the buffer pool, the binary in the page cache.
log "warm-up: one unmeasured backup of $DB to a local dir"
ours_offsite "file://$WORK/local/warm-up" -- backup run
"${OURS_CMD[@]}" >/dev/null
rm -rf "$WORK/local/warm-up"

for ((r = 1; r <= ROUNDS; r++)); do
	order=("${CONFIGS[@]}")
	if ((r % 2 == 0)); then
		order=()
		for ((i = ${#CONFIGS[@]} - 1; i >= 0; i--)); do order+=("${CONFIGS[i]}"); done
	fi
	for c in "${order[@]}"; do
		run_config "$c" "$r"
	done
done

# The figures are of usable backups: the last s3 and s3-age backups restored
# from MinIO into a scratch database and compared with their manifests.
VERIFY_CHECK=""
for c in s3 s3-age; do
	id=()
	[ "$c" = s3-age ] && id=(BACKUP_AGE_IDENTITY_FILE="$AGE_KEY")
	ours_offsite "${LAST_STORAGE[$c]}" "${id[@]}" -- backup verify --latest --restore-test --storage s3 --json
	measure "verify-$c" "$DB" 1 "${OURS_CMD[@]}"
	jq -e '.restore_test and (.problems | length == 0) and (.tables | length > 0) and all(.tables[]; .ok)' "$WORK/cmd.out" >/dev/null ||
		svc_die "verify-$c: the restore test did not pass: $(jq -c '{problems, bad: [.tables[]? | select(.ok | not) | .name]}' "$WORK/cmd.out")"
	record "verify-$c" "$DB" 1 "$(jq .compressed_bytes "$WORK/cmd.out")" "$(jq .raw_bytes "$WORK/cmd.out")"
	VERIFY_CHECK+="${VERIFY_CHECK:+; }$c: $(jq -r .name "$WORK/cmd.out") restored, rows and CHECKSUM TABLE of all $(jq '.tables | length' "$WORK/cmd.out") tables equal to the manifest's"
done

UPTIME_AFTER=$(uptime)
log "uptime after: $UPTIME_AFTER"

# ------------------------------------------------------------- summary

med() { stat_of "$1" "$DB" wall_s "$2"; }
label() {
	case $1 in
	local) echo "(a) local dir only" ;;
	s3) echo "(b) MinIO only" ;;
	local-age) echo "(c) local dir only + age" ;;
	s3-age) echo "(d) MinIO only + age" ;;
	local+s3) echo "(e) local dir + MinIO" ;;
	esac
}
minio_cpu() {
	awk -F'\t' -v c="$1" '$1 == c { v[++n] = $3 } END { if (n == 0) { print "-"; exit } asort(v); printf "%.1f s", (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }' "$WORK/minio-cpu.tsv"
}
rss_all=0
for c in "${CONFIGS[@]}" verify-s3 verify-s3-age; do
	k=$(stat_of "$c" "$DB" rss_kb max)
	[ "$k" -gt "$rss_all" ] && rss_all=$k
done
rss_all_mb=$(awk -v k="$rss_all" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')

{
	echo "# cantina-ops off-site storage and encryption benchmark ($MODE mode)"
	echo
	echo "run        $STARTED → $(date -u '+%H:%M UTC')"
	echo "command    bench/offsite.sh${ARGS[*]:+ ${ARGS[*]}} (rounds $ROUNDS, order alternating)"
	echo "machine    $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, $(uname -sr)"
	echo "disk       $DISK: the local backup dirs and MinIO's data dir, both under $WORK"
	echo "server     MariaDB $(sql -e 'SELECT VERSION()'), buffer pool $BUFFER_POOL; MinIO $SVC_MINIO_VERSION on 127.0.0.1 (no network latency)"
	echo "tools      cantina-ops $GIT_REV ($(go version 2>/dev/null | awk '{ print $3 }')); age $(age --version)"
	echo "load       1-min load average at the start of each run: $(range load1); CPU used by other"
	echo "           processes during each run (MinIO included): $(range other_cores) cores (of $(nproc))"
	echo "uptime     before:$UPTIME_BEFORE"
	echo "           after: $UPTIME_AFTER"
	db_row "$DB"
	echo "database   $DB (demo seed --size $SIZE --seed $SEED): $DB_ROWS rows (approx.), $(mb "$DB_DISK") on disk, $(mb "$(stat_of local "$DB" raw_bytes max)") of SQL text"
	echo
	echo "## backup run of $DB ($ROUNDS rounds, order alternating)"
	echo
	echo "| BACKUP_STORAGE | $ROW_HEAD | MinIO CPU median | bytes per copy | wall median / (a) | wall min / (a) |"
	echo "|---|$ROW_RULE|---|---|---|---|"
	for c in "${CONFIGS[@]}"; do
		echo "| $(label "$c") | $(row "$c" "$DB") | $(minio_cpu "$c") | $(mb "$(stat_of "$c" "$DB" bytes median)") | $(ratio "$(med "$c" median)" "$(med local median)") | $(ratio "$(med "$c" min)" "$(med local min)") |"
	done
	echo
	echo "## Restore test from MinIO (backup verify --latest --restore-test --storage s3)"
	echo
	echo "| backup | $ROW_HEAD |"
	echo "|---|$ROW_RULE|"
	echo "| (b) MinIO only | $(row verify-s3 "$DB") |"
	echo "| (d) MinIO only + age (BACKUP_AGE_IDENTITY_FILE) | $(row verify-s3-age "$DB") |"
	echo
	echo "check: $VERIFY_CHECK"
	echo
	echo "## Aims"
	echo
	echo "| measure | value | aim | |"
	echo "|---|---|---|---|"
	for c in s3 s3-age local+s3; do
		v=$(ratio "$(med "$c" median)" "$(med local median)")
		echo "| wall time, $(label "$c") / (a) (medians) | $v | ≤ 1.2 | $(verdict "$v" 1.20) |"
	done
	v=$(ratio "$(med s3-age median)" "$(med local-age median)")
	echo "| wall time, (d) / (c) (medians): S3 with encryption on both sides | $v | ≤ 1.2 | $(verdict "$v" 1.20) |"
	v=$(ratio "$(med local-age median)" "$(med local median)")
	echo "| wall time, (c) / (a) (medians): cost of encryption | $v | | |"
	echo "| peak RSS, any run above | $rss_all_mb MB | < 100 MB | $(verdict "$rss_all_mb" 99.99) |"
	echo
	echo "Wall time from date(1) around each command. CPU = user+system time of cantina-ops; server"
	echo "CPU = the MariaDB server's meanwhile; MinIO CPU = MinIO's meanwhile (/proc/PID/stat), also"
	echo "counted in other load. Peak RSS = GNU time %M of cantina-ops. Bytes per copy = the stored"
	echo "object or file (every destination of a run holds one of the same size)."
	echo
	bench_every_run
} >"$WORK/summary.txt"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
cp "$WORK/summary.txt" "$STATE/offsite-$stamp.txt"
cp "$WORK/summary.txt" "$STATE/offsite-latest.txt"
cp "$RESULTS" "$STATE/offsite-results-$stamp.tsv"
cat "$WORK/summary.txt"
log "summary written to $STATE/offsite-$stamp.txt"
