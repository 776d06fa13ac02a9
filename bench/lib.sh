# shellcheck shell=bash
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
