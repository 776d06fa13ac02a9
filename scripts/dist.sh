#!/usr/bin/env bash
# scripts/dist.sh — `make dist`: release archives in dist/.
#
# For each target (TARGETS, default the four below) builds a static binary
# with -trimpath -buildvcs=false and the version and commit in -ldflags, and
# packs it with README.md and deploy/ into
# cantina-ops-VERSION-OS-ARCH.tar.gz (zip for windows), then writes
# SHA256SUMS. Reproducible: names sorted, every mtime = the commit's time
# (SOURCE_DATE_EPOCH), owner 0, fixed modes, gzip without name or time, so
# the same commit and Go version give the same bytes.
#
# Environment: VERSION (default: git describe --tags --always --dirty),
# COMMIT (default: git rev-parse HEAD), SOURCE_DATE_EPOCH (default: commit
# time), TARGETS, DIST_DIR (default: dist).
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022

die() {
	printf 'dist: error: %s\n' "$*" >&2
	exit 1
}
command -v go >/dev/null 2>&1 || die "go is not on PATH"
git rev-parse --git-dir >/dev/null 2>&1 || die "not a git checkout: set VERSION, COMMIT and SOURCE_DATE_EPOCH"

VERSION=${VERSION:-$(git describe --tags --always --dirty)}
COMMIT=${COMMIT:-$(git rev-parse HEAD)}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
TARGETS=${TARGETS:-linux/amd64 linux/arm64 windows/amd64 darwin/arm64}
DIST_DIR=${DIST_DIR:-dist}
export SOURCE_DATE_EPOCH

python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3
command -v "$python" >/dev/null 2>&1 || die "python3 is needed to write zip archives (apt-get install python3)"

mkdir -p "$DIST_DIR"
DIST_DIR=$(cd "$DIST_DIR" && pwd)
stage=$(mktemp -d "${TMPDIR:-/tmp}/cantina-dist.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# zip_dir DIR NAME OUT: a deterministic zip of DIR/NAME (sorted entries,
# SOURCE_DATE_EPOCH as every entry's time, modes from the files).
zip_dir() {
	"$python" - "$@" <<'PY'
import os, sys, time, zipfile
base, name, out = sys.argv[1:4]
stamp = time.gmtime(max(int(os.environ["SOURCE_DATE_EPOCH"]), 315532800))[:6]
paths = []
for d, dirs, files in os.walk(os.path.join(base, name)):
    for f in dirs + files:
        paths.append(os.path.relpath(os.path.join(d, f), base))
with zipfile.ZipFile(out, "w") as z:
    for p in sorted(paths):
        full = os.path.join(base, p)
        isdir = os.path.isdir(full)
        info = zipfile.ZipInfo(p + ("/" if isdir else ""), stamp)
        info.create_system = 3  # unix, so the modes below are kept
        info.external_attr = (os.stat(full).st_mode & 0xFFFF) << 16
        if isdir:
            info.external_attr |= 0x10
            z.writestr(info, b"")
        else:
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(full, "rb") as fh:
                z.writestr(info, fh.read(), compresslevel=9)
PY
}

archives=()
for t in $TARGETS; do
	goos=${t%/*} goarch=${t#*/}
	name="cantina-ops-$VERSION-$goos-$goarch"
	exe=cantina-ops
	[ "$goos" = windows ] && exe=cantina-ops.exe
	dir="$stage/$name"
	mkdir -p "$dir"
	CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch GOFLAGS= go build -trimpath -buildvcs=false \
		-ldflags "-s -w -X main.version=$VERSION -X main.commit=$COMMIT" \
		-o "$dir/$exe" ./cmd/cantina-ops || die "go build for $t failed"
	cp README.md "$dir/"
	# deploy/ as committed plus local edits, without the tests.
	find deploy -type f ! -name '*_test.sh' -exec cp --parents {} "$dir/" \;
	find "$dir" -type d -exec chmod 0755 {} +
	find "$dir" -type f -exec chmod 0644 {} +
	chmod 0755 "$dir/$exe"
	find "$dir" -type f \( -name '*.sh' -o -name cantina-ops-admin \) -exec chmod 0755 {} +
	find "$dir" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	if [ "$goos" = windows ]; then
		out="$name.zip"
		rm -f "$DIST_DIR/$out"
		zip_dir "$stage" "$name" "$DIST_DIR/$out"
	else
		out="$name.tar.gz"
		tar -C "$stage" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
			--format=gnu -cf - "$name" | gzip -n -9 >"$DIST_DIR/$out"
	fi
	archives+=("$out")
	printf 'dist: %s\n' "$DIST_DIR/$out"
done

(cd "$DIST_DIR" && LC_ALL=C sha256sum $(printf '%s\n' "${archives[@]}" | LC_ALL=C sort) >SHA256SUMS)
printf 'dist: %s\n' "$DIST_DIR/SHA256SUMS"
cat "$DIST_DIR/SHA256SUMS"
