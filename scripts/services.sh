# shellcheck shell=bash
# scripts/services.sh — sourced by scripts/test.sh and scripts/run.sh.
#
# Installs what is missing (apt packages, cached Mailpit and MinIO binaries)
# and runs private Redis, MariaDB, Mailpit and MinIO instances in the foreground of the calling
# shell, each under its own state directory and on its own port, so that the
# caller can stop exactly what it started (svc_stop_all) and nothing else.
#
# Functions must be called from the main shell, never inside $(...): the
# servers have to be children of the script that stops them.

SVC_MAILPIT_VERSION=v1.33.1
SVC_MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
SVC_PIDS=()        # servers started by this shell, in start order
SVC_NAMES=()
SVC_APT_UPDATED=0
SVC_MYSQL_SOCKET=""
SVC_MARIADB_PID="" # set by svc_start_mariadb
SVC_PORT=""        # set by svc_start_on
SVC_MAILPIT=""
SVC_MINIO=""
SVC_MINIO_USER="" # MinIO's root credentials, made up by svc_start_minio
SVC_MINIO_PASSWORD=""

# Debian puts mariadbd in /usr/sbin, which a non-root PATH may lack.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin:/sbin" ;; esac

# Servers are started with setsid, in a session of their own: a Ctrl-C (or
# any signal to the script's process group) reaches the script and
# cantina-ops, not the servers, which the script stops by PID only after
# cantina-ops has finished shutting down (and handed its tasks back).
svc_log() { printf 'cantina-ops: %s\n' "$*" >&2; }

svc_die() {
	svc_log "error: $*"
	exit 1
}

# svc_as_root CMD...: runs CMD as root, through sudo when not root.
svc_as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		svc_die "need root to run '$*': run as root or install sudo"
	fi
}

# svc_install_packages PKG...: installs the Debian packages that are missing,
# running apt-get update once, and only when something is missing.
svc_install_packages() {
	local missing=() p
	if ! command -v dpkg-query >/dev/null 2>&1; then
		svc_log "not a Debian system: make sure these are installed: $*"
		return 0
	fi
	for p in "$@"; do
		if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
			missing+=("$p")
		fi
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	svc_log "installing ${missing[*]}"
	if [ "$SVC_APT_UPDATED" -eq 0 ]; then
		svc_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || svc_die "apt-get update failed"
		SVC_APT_UPDATED=1
	fi
	svc_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" ||
		svc_die "apt-get install ${missing[*]} failed"
}

# svc_ensure_mailpit: sets SVC_MAILPIT, building Mailpit into the cache dir
# the first time (about a minute; needs the Go module proxy).
svc_ensure_mailpit() {
	local dir="${XDG_CACHE_HOME:-$HOME/.cache}/cantina-ops/bin"
	SVC_MAILPIT="$dir/mailpit"
	[ -x "$SVC_MAILPIT" ] && return 0
	command -v go >/dev/null 2>&1 || svc_die "go is not on PATH (needed to build Mailpit)"
	svc_log "building Mailpit $SVC_MAILPIT_VERSION into $dir (once; about a minute)"
	mkdir -p "$dir"
	(cd / && GOBIN="$dir" GOFLAGS="" go install "github.com/axllent/mailpit@$SVC_MAILPIT_VERSION") ||
		svc_die "building Mailpit failed"
}

# svc_ensure_minio: sets SVC_MINIO, building the pinned MinIO into the cache
# dir when it is missing or another version (about three minutes and
# 150 MB; needs the Go module proxy). The build log is kept in
# ${TMPDIR:-/tmp}/minio-build.log.
svc_ensure_minio() {
	local dir="${XDG_CACHE_HOME:-$HOME/.cache}/cantina-ops/bin" log="${TMPDIR:-/tmp}/minio-build.log"
	SVC_MINIO="$dir/minio"
	command -v go >/dev/null 2>&1 || svc_die "go is not on PATH (needed to build MinIO)"
	if [ -x "$SVC_MINIO" ] &&
		go version -m "$SVC_MINIO" 2>/dev/null | grep -q "github.com/minio/minio[[:space:]]*$SVC_MINIO_VERSION"; then
		return 0
	fi
	svc_log "building MinIO $SVC_MINIO_VERSION into $dir (once; about three minutes; log in $log)"
	mkdir -p "$dir"
	if ! (cd / && GOBIN="$dir" GOFLAGS="" go install "github.com/minio/minio@$SVC_MINIO_VERSION") >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		svc_die "building MinIO failed (log in $log)"
	fi
}

# svc_port_in_use PORT: true when something accepts connections on 127.0.0.1:PORT.
svc_port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# svc_free_port FIRST: prints the first port from FIRST on that nobody listens on.
svc_free_port() {
	local p
	for ((p = $1; p < $1 + 100; p++)); do
		if ! svc_port_in_use "$p"; then
			echo "$p"
			return 0
		fi
	done
	svc_log "no free port in $1-$(($1 + 99))"
	return 1
}

# svc_alive PID: true while PID runs (an exited, unreaped child is a zombie,
# which kill -0 would still report as alive).
svc_alive() {
	local stat rest
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	rest=${stat##*) }
	[ "${rest%% *}" != Z ]
}

# svc_check_port NAME PORT: fails with a clear message when PORT is taken.
svc_check_port() {
	if svc_port_in_use "$2"; then
		svc_log "cannot start $1: port $2 on 127.0.0.1 is already in use (another run still going? see: ss -ltnp 'sport = :$2')"
		return 1
	fi
}

# svc_wait_ready NAME PID LOG SECONDS CMD...: polls CMD until it succeeds.
# Fails, showing the end of LOG, when the server exits or SECONDS pass.
svc_wait_ready() {
	local name=$1 pid=$2 log=$3 end=$((SECONDS + $4))
	shift 4
	until "$@" >/dev/null 2>&1; do
		if ! svc_alive "$pid"; then
			wait "$pid" 2>/dev/null || true
			svc_log "$name exited during start-up; end of $log:"
			tail -n 20 "$log" >&2 2>/dev/null || true
			return 1
		fi
		if [ "$SECONDS" -ge "$end" ]; then
			svc_log "$name not ready after $4 s; end of $log:"
			tail -n 20 "$log" >&2 2>/dev/null || true
			svc_stop_pid "$pid" "$name"
			return 1
		fi
		sleep 0.05
	done
}

# svc_listens PID PORT: true when PID itself holds the listening socket on
# PORT, so that a readiness probe answered by another server on a port we
# lost the race for does not count.
svc_listens() {
	local pid=$1 hex inodes inode fd
	hex=$(printf '%04X' "$2")
	inodes=$(awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
	[ -n "$inodes" ] || return 1
	for fd in /proc/"$pid"/fd/*; do
		fd=$(readlink "$fd" 2>/dev/null) || continue
		for inode in $inodes; do
			[ "$fd" = "socket:[$inode]" ] && return 0
		done
	done
	return 1
}

svc_register() {
	SVC_PIDS+=("$1")
	SVC_NAMES+=("$2")
}

svc_redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p "$2" ping 2>/dev/null)" = PONG ] && svc_listens "$1" "$2"; }

# svc_start_redis DIR PORT: a queue-safe Redis (256 databases, no eviction,
# no persistence) on 127.0.0.1:PORT.
svc_start_redis() {
	local dir=$1 port=$2 pid
	mkdir -p "$dir"
	svc_check_port redis "$port" || return 1
	: >"$dir/redis.log"
	setsid redis-server --port "$port" --bind 127.0.0.1 --daemonize no \
		--databases 256 --maxmemory-policy noeviction --save '' --appendonly no \
		--dir "$dir" --logfile "$dir/redis.log" &
	pid=$!
	echo "$pid" >"$dir/redis.pid"
	svc_wait_ready redis "$pid" "$dir/redis.log" 30 svc_redis_ready "$pid" "$port" || return 1
	svc_register "$pid" redis
	svc_log "redis ready on 127.0.0.1:$port (pid $pid)"
}

svc_mariadb_ready() {
	mariadb-admin --no-defaults --socket="$3" -uroot --connect-timeout=2 ping && svc_listens "$1" "$2"
}

# svc_start_mariadb DIR PORT [OPTION...]: a MariaDB on 127.0.0.1:PORT with
# its data in DIR/data (initialised once) and root reachable through
# SVC_MYSQL_SOCKET; sets SVC_MARIADB_PID. The OPTIONs go to mariadbd after
# ours and so win over them (e.g. --innodb-buffer-pool-size=2G).
# SVC_MARIADB_WAIT: seconds to wait for it to answer (default 60; a big
# buffer pool or a crash recovery can take longer).
svc_start_mariadb() {
	local dir=$1 port=$2 pid user
	shift 2
	user=$(id -un)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	svc_check_port mariadb "$port" || return 1
	SVC_MYSQL_SOCKET="$dir/mysqld.sock"
	if [ ${#SVC_MYSQL_SOCKET} -gt 100 ]; then # sun_path holds 108 bytes
		SVC_MYSQL_SOCKET="${TMPDIR:-/tmp}/cantina-ops-mysqld-$port.sock"
	fi
	if [ ! -f "$dir/data/.cantina-initialised" ]; then
		rm -rf "$dir/data"
		svc_log "initialising MariaDB data dir $dir/data"
		if ! mariadb-install-db --no-defaults --user="$user" --datadir="$dir/data" \
			--auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1; then
			svc_log "mariadb-install-db failed; end of $dir/install.log:"
			tail -n 20 "$dir/install.log" >&2
			return 1
		fi
		touch "$dir/data/.cantina-initialised"
	fi
	: >"$dir/mariadb.log"
	setsid mariadbd --no-defaults --user="$user" --datadir="$dir/data" --port="$port" \
		--bind-address=127.0.0.1 --socket="$SVC_MYSQL_SOCKET" --pid-file="$dir/mariadbd.pid" \
		--skip-name-resolve --skip-log-bin --innodb-buffer-pool-size=64M \
		--log-error="$dir/mariadb.log" "$@" >>"$dir/mariadb.log" 2>&1 &
	pid=$!
	svc_wait_ready mariadb "$pid" "$dir/mariadb.log" "${SVC_MARIADB_WAIT:-60}" svc_mariadb_ready "$pid" "$port" "$SVC_MYSQL_SOCKET" || return 1
	svc_register "$pid" mariadb
	SVC_MARIADB_PID=$pid
	svc_log "mariadb ready on 127.0.0.1:$port (pid $pid${*:+; $*})"
}

# svc_mariadb_account USER PASSWORD: creates (or resets the password of)
# USER@'%' with every privilege, through root's socket. The password goes
# through stdin, never argv.
svc_mariadb_account() {
	local user=$1 pw=$2
	pw=${pw//\\/\\\\}
	pw=${pw//\'/\\\'}
	mariadb --no-defaults --socket="$SVC_MYSQL_SOCKET" -uroot <<-SQL || { svc_log "creating MariaDB account $user failed"; return 1; }
		CREATE USER IF NOT EXISTS '$user'@'%' IDENTIFIED BY '$pw';
		ALTER USER '$user'@'%' IDENTIFIED BY '$pw';
		GRANT ALL PRIVILEGES ON *.* TO '$user'@'%' WITH GRANT OPTION;
	SQL
}

svc_mailpit_ready() { svc_listens "$1" "$2" && svc_listens "$1" "$3" && svc_port_in_use "$2" && svc_port_in_use "$3"; }

# svc_start_mailpit DIR SMTP_PORT HTTP_PORT: Mailpit with its SMTP server and
# HTTP API on 127.0.0.1. Call svc_ensure_mailpit first.
svc_start_mailpit() {
	local dir=$1 smtp=$2 http=$3 pid
	mkdir -p "$dir"
	svc_check_port "mailpit smtp" "$smtp" || return 1
	svc_check_port "mailpit http" "$http" || return 1
	# Tests rely on a permanent SMTP rejection (550) for any recipient
	# outside these test domains, e.g. nobody@rejected.test.
	setsid "$SVC_MAILPIT" --smtp "127.0.0.1:$smtp" --listen "127.0.0.1:$http" \
		--database "$dir/mailpit.db" --disable-version-check \
		--smtp-allowed-recipients '@(example\.(com|org|net)|cantina\.test)$' >"$dir/mailpit.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/mailpit.pid"
	svc_wait_ready mailpit "$pid" "$dir/mailpit.log" 30 svc_mailpit_ready "$pid" "$smtp" "$http" || return 1
	svc_register "$pid" mailpit
	svc_log "mailpit ready: smtp 127.0.0.1:$smtp, http://127.0.0.1:$http (pid $pid)"
}

svc_minio_ready() {
	svc_listens "$1" "$2" && curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$2/minio/health/ready"
}

# svc_minio_disk DIR: MinIO refuses every write ("Storage backend has
# reached its minimum free drive threshold") while less than 1% of the drive
# holding DIR is free; say so before starting it rather than let each S3
# test fail with that message. Asks for 1% plus 1 GiB for the tests' objects.
svc_minio_disk() {
	local total="" avail="" need
	mkdir -p "$1" || return 1
	read -r total avail < <(df -P -k "$1" | awk 'NR == 2 {print $2, $4}') || true
	if [ -z "$total" ] || [ -z "$avail" ]; then
		svc_log "minio: cannot tell the free space of the drive of $1 (df)"
		return 1
	fi
	need=$((total / 100 + 1024 * 1024))
	if [ "$avail" -lt "$need" ]; then
		svc_log "minio: only $((avail / 1024)) MiB free on the drive of $1, it needs $((need / 1024)) MiB (1% of the drive, which MinIO keeps free, plus 1 GiB): free some space (e.g. go clean -cache)"
		return 1
	fi
}

# svc_start_minio DIR PORT: MinIO serving DIR/data on 127.0.0.1:PORT, without
# its web console. Its root user and password are made up here (kept in
# SVC_MINIO_USER and SVC_MINIO_PASSWORD) and reach MinIO through its
# environment, never its arguments. Call svc_ensure_minio first.
svc_start_minio() {
	local dir=$1 port=$2 pid r
	mkdir -p "$dir/data"
	svc_check_port minio "$port" || return 1
	if [ -z "$SVC_MINIO_USER" ]; then
		r=$(svc_random_password)
		SVC_MINIO_USER="cantina-${r:0:8}"
		SVC_MINIO_PASSWORD=$(svc_random_password)
	fi
	MINIO_ROOT_USER=$SVC_MINIO_USER MINIO_ROOT_PASSWORD=$SVC_MINIO_PASSWORD MINIO_BROWSER=off MINIO_UPDATE=off \
		setsid "$SVC_MINIO" server "$dir/data" --address "127.0.0.1:$port" --quiet >"$dir/minio.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/minio.pid"
	svc_wait_ready minio "$pid" "$dir/minio.log" 60 svc_minio_ready "$pid" "$port" || return 1
	svc_register "$pid" minio
	svc_log "minio ready on http://127.0.0.1:$port (pid $pid, data in $dir/data)"
}

# svc_start_on NAME FIRST_PORT CMD...: runs CMD with a free port (from
# FIRST_PORT on) appended, retrying on the next free port if another process
# grabbed it first. Sets SVC_PORT; dies after three failed attempts.
svc_start_on() {
	local name=$1 port=$2 try
	shift 2
	for try in 1 2 3; do
		port=$(svc_free_port "$port") || break
		if "$@" "$port"; then
			SVC_PORT=$port
			return 0
		fi
		svc_log "starting $name on port $port failed (attempt $try)"
		port=$((port + 1))
	done
	svc_die "could not start $name"
}

# svc_stop_pid PID NAME: SIGTERM, wait up to 30 s, then SIGKILL; reaps PID.
svc_stop_pid() {
	local pid=$1 end=$((SECONDS + 30))
	kill -TERM "$pid" 2>/dev/null || true
	while svc_alive "$pid"; do
		if [ "$SECONDS" -ge "$end" ]; then
			svc_log "$2 (pid $pid) ignored SIGTERM for 30 s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		sleep 0.05
	done
	wait "$pid" 2>/dev/null || true
}

# svc_stop_all: stops every server this shell started, newest first.
svc_stop_all() {
	local i
	for ((i = ${#SVC_PIDS[@]} - 1; i >= 0; i--)); do
		svc_stop_pid "${SVC_PIDS[i]}" "${SVC_NAMES[i]}"
		svc_log "stopped ${SVC_NAMES[i]} (pid ${SVC_PIDS[i]})"
	done
	SVC_PIDS=()
	SVC_NAMES=()
}

# svc_urlencode STRING: percent-encodes STRING for the userinfo of a URL.
svc_urlencode() {
	local LC_ALL=C s=$1 out="" c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case "$c" in
		[A-Za-z0-9._~-]) out+=$c ;;
		*) out+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	printf '%s' "$out"
}

# svc_random_password: 24 URL-safe random characters.
svc_random_password() {
	head -c 18 /dev/urandom | base64 | tr '+/' '-_'
}
