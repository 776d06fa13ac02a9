#!/usr/bin/env bash
# scripts/dist_test.sh — run by scripts/test.sh (step "make dist reproducible").
# Builds the linux/amd64 release archive twice into two directories and
# checks that SHA256SUMS are identical and verify, and that the packed binary
# reports the version and commit it was stamped with. One target only, to
# stay cheap; the other targets take the same path through scripts/dist.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cantina-dist-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

for run in 1 2; do
	env -u VERSION -u COMMIT -u SOURCE_DATE_EPOCH TARGETS=linux/amd64 DIST_DIR="$tmp/dist$run" bash scripts/dist.sh >"$tmp/dist$run.log" 2>&1 || {
		cat "$tmp/dist$run.log" >&2
		echo "dist_test: FAIL: scripts/dist.sh (run $run) failed" >&2
		exit 1
	}
done
if ! diff -u "$tmp/dist1/SHA256SUMS" "$tmp/dist2/SHA256SUMS" >&2; then
	echo "dist_test: FAIL: two runs of scripts/dist.sh gave different archives" >&2
	exit 1
fi
(cd "$tmp/dist1" && sha256sum --quiet -c SHA256SUMS) || {
	echo "dist_test: FAIL: SHA256SUMS does not match the archives" >&2
	exit 1
}

version=$(git describe --tags --always --dirty)
commit=$(git rev-parse HEAD)
archive="$tmp/dist1/cantina-ops-$version-linux-amd64.tar.gz"
[ -f "$archive" ] || {
	echo "dist_test: FAIL: no $archive (files: $(ls "$tmp/dist1"))" >&2
	exit 1
}
mkdir "$tmp/x"
tar -C "$tmp/x" -xzf "$archive"
for f in cantina-ops README.md deploy/linux/install.sh deploy/linux/env.example; do
	[ -e "$tmp/x/cantina-ops-$version-linux-amd64/$f" ] || {
		echo "dist_test: FAIL: the archive lacks $f" >&2
		exit 1
	}
done
if [ "$(go env GOHOSTOS)/$(go env GOHOSTARCH)" = linux/amd64 ]; then
	out=$("$tmp/x/cantina-ops-$version-linux-amd64/cantina-ops" version)
	case "$out" in
	"cantina-ops $version (commit $commit, go"*) ;;
	*)
		echo "dist_test: FAIL: version printed '$out', want version $version and commit $commit" >&2
		exit 1
		;;
	esac
fi
echo "dist_test: two builds, same SHA256SUMS:"
cat "$tmp/dist1/SHA256SUMS"
