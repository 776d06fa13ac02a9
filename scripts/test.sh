#!/usr/bin/env bash
# scripts/test.sh — `make test` and CI: installs what is missing, starts a
# private Redis, MariaDB, Mailpit and MinIO in a fresh temp dir, runs the gofmt
# check, go vet and the race-enabled tests against them, and stops them on
# exit. Extra arguments go to `go test` (e.g. -run X ./internal/config);
# without a package argument the tests run on ./... and the deploy and
# release checks run too (install.sh, systemd units, the four cross-builds,
# go vet for windows, make dist reproducible). `--deploy-only` (make
# check-deploy) runs just those, without services.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/services.sh
. scripts/services.sh

command -v go >/dev/null 2>&1 || svc_die "go is not on PATH; install Go (see go.mod for the version)"

STATE=""
MINIO_DIR=""
STEP_PID=""
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$STEP_PID" ]; then # interrupted mid-step: stop go and its test binaries
		kill -TERM -- "-$STEP_PID" 2>/dev/null || true
		svc_stop_pid "$STEP_PID" "$STEP_NAME"
	fi
	svc_stop_all
	[ -n "$STATE" ] && rm -rf "$STATE"
	[ -n "$MINIO_DIR" ] && rm -rf "$MINIO_DIR"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# step NAME CMD...: runs CMD in its own process group, so that a signal to
# this script can stop it and everything it started at once (the traps run
# during `wait`, not only after a foreground command ends).
failed=()
step() {
	local rc=0
	STEP_NAME=$1
	shift
	svc_log "== $STEP_NAME"
	setsid --wait "$@" &
	STEP_PID=$!
	wait "$STEP_PID" || rc=$?
	STEP_PID=""
	if [ "$rc" -ne 0 ]; then
		failed+=("$STEP_NAME")
		svc_log "== $STEP_NAME FAILED"
	fi
}

# deploy_checks: install.sh into scratch roots, the systemd units, the
# cross-builds CI must show (one step per target) and a reproducible dist.
deploy_checks() {
	local t
	svc_install_packages systemd
	step "install.sh (DESTDIR)" bash deploy/linux/install_test.sh
	step "systemd units" bash deploy/linux/units_test.sh
	for t in linux/amd64 linux/arm64 windows/amd64 darwin/arm64; do
		step "cross-build $t" env CGO_ENABLED=0 GOOS="${t%/*}" GOARCH="${t#*/}" bash -c \
			'go build -trimpath -o /dev/null ./cmd/cantina-ops && echo "cross-build $GOOS/$GOARCH: ok"'
	done
	step "go vet (GOOS=windows)" env GOOS=windows GOARCH=amd64 go vet ./...
	step "make dist reproducible" bash scripts/dist_test.sh
}

# finish: reports the failed steps, if any, and sets the exit status.
finish() {
	if [ ${#failed[@]} -gt 0 ]; then
		svc_log "FAILED: ${failed[*]}"
		exit 1
	fi
	svc_log "all checks passed"
	exit 0
}

if [ "${1:-}" = --deploy-only ]; then
	deploy_checks
	finish
fi

svc_install_packages redis-server redis-tools mariadb-server mariadb-client age curl python3-django python3-django-redis python3-redis chromium
svc_ensure_mailpit
svc_ensure_minio

STATE=$(mktemp -d "${TMPDIR:-/tmp}/cantina-test.XXXXXX")

start_mailpit() {
	local http
	http=$(svc_free_port $(($1 + 7000))) || return 1
	svc_start_mailpit "$STATE/mailpit" "$1" "$http" && MAILPIT_HTTP=$http
}

svc_start_on redis 6390 svc_start_redis "$STATE/redis"
REDIS_PORT=$SVC_PORT
# Many packages' tests share it at once: room for their connections (and
# for the health check's 80 % of max_connections in use, which the tests
# expect to pass).
start_mariadb() { svc_start_mariadb "$STATE/mariadb" "$1" --max-connections=1000; }
svc_start_on mariadb 3307 start_mariadb
MYSQL_PORT=$SVC_PORT
svc_start_on mailpit 1026 start_mailpit
SMTP_PORT=$SVC_PORT
# MinIO refuses every write while its drive is 99 % full, as CI's shared
# disk once was: its data (the tests' objects, a few MB) goes to /dev/shm,
# a RAM disk, when there is one with room for it.
minio_dir="$STATE/minio"
if [ -d /dev/shm ] && [ -w /dev/shm ] && svc_minio_disk /dev/shm 2>/dev/null &&
	MINIO_DIR=$(mktemp -d /dev/shm/cantina-test-minio.XXXXXX); then
	minio_dir=$MINIO_DIR
fi
svc_minio_disk "$minio_dir" || exit 1
svc_start_on minio 9100 svc_start_minio "$minio_dir"
MINIO_PORT=$SVC_PORT

DB_USER=cantina
DB_PASSWORD='p@ss:w/rd%'"$(svc_random_password | head -c 8)"
svc_mariadb_account "$DB_USER" "$DB_PASSWORD" || exit 1

export CANTINA_TEST_REDIS="127.0.0.1:$REDIS_PORT"
CANTINA_TEST_MYSQL="mysql://$DB_USER:$(svc_urlencode "$DB_PASSWORD")@127.0.0.1:$MYSQL_PORT"
export CANTINA_TEST_MYSQL
export CANTINA_TEST_SMTP="127.0.0.1:$SMTP_PORT"
export CANTINA_TEST_MAILPIT="http://127.0.0.1:$MAILPIT_HTTP"
export CANTINA_TEST_S3_ENDPOINT="http://127.0.0.1:$MINIO_PORT"
export CANTINA_TEST_S3_ACCESS_KEY=$SVC_MINIO_USER
export CANTINA_TEST_S3_SECRET_KEY=$SVC_MINIO_PASSWORD
export CANTINA_TEST_MINIO_BIN=$SVC_MINIO
export CANTINA_TEST_MINIO_DIR=${MINIO_DIR:-$STATE}
export CANTINA_REQUIRE_SERVICES=1
svc_log "CANTINA_TEST_REDIS=$CANTINA_TEST_REDIS CANTINA_TEST_MYSQL=mysql://$DB_USER:***@127.0.0.1:$MYSQL_PORT CANTINA_TEST_SMTP=$CANTINA_TEST_SMTP CANTINA_TEST_MAILPIT=$CANTINA_TEST_MAILPIT"
svc_log "CANTINA_TEST_S3_ENDPOINT=$CANTINA_TEST_S3_ENDPOINT CANTINA_TEST_S3_ACCESS_KEY=$CANTINA_TEST_S3_ACCESS_KEY CANTINA_TEST_S3_SECRET_KEY=*** CANTINA_TEST_MINIO_BIN=$CANTINA_TEST_MINIO_BIN"

# go test gets ./... unless the arguments name a package.
test_args=("$@")
has_pkg=0
for a in "$@"; do
	case "$a" in
	. | ./* | ../* | github.com/*) has_pkg=1 ;;
	esac
done
[ "$has_pkg" -eq 1 ] || test_args+=(./...)

svc_log "== gofmt"
unformatted=$(find . \( -path ./.git -o -path ./.state -o -path ./bin -o -path ./backups -o -name node_modules \) -prune \
	-o -name '*.go' -print0 | xargs -0 -r gofmt -l)
if [ -n "$unformatted" ]; then
	failed+=(gofmt)
	svc_log "== gofmt FAILED: these files need gofmt -w:"
	printf '%s\n' "$unformatted" | sed 's/^/  /' >&2
fi
step "go vet" go vet ./...
step "go test" go test -race -count=1 -timeout 30m "${test_args[@]}"
if [ "$has_pkg" -eq 0 ]; then
	deploy_checks
else
	svc_log "== deploy and release checks skipped (packages named; make check-deploy runs them)"
fi
finish
