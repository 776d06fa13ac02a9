package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// runVersion implements `version`: one line with the release version, the
// commit it was built from and the Go toolchain, for bug reports.
func runVersion(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "version", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	printVersion(a.stdout, version, buildCommit(commit, readVCSRevision()))
	return nil
}

// printVersion writes "cantina-ops VERSION (commit C, GO OS/ARCH)".
func printVersion(w io.Writer, version, commit string) {
	fmt.Fprintf(w, "cantina-ops %s (commit %s, %s %s/%s)\n",
		version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// buildCommit is the commit set with -ldflags, else the one the Go
// toolchain stamped into a plain `go build` from a git checkout, else
// "unknown".
func buildCommit(ldflags, vcs string) string {
	switch {
	case ldflags != "":
		return ldflags
	case vcs != "":
		return vcs
	default:
		return "unknown"
	}
}

// readVCSRevision returns the vcs.revision build setting ("" when the
// binary was built without VCS stamping, e.g. by `go test` or -buildvcs=false).
func readVCSRevision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" && dirty {
		rev += "-dirty"
	}
	return rev
}
