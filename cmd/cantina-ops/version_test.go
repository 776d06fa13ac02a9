package main

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
)

func TestBuildCommit(t *testing.T) {
	tests := []struct {
		name, ldflags, vcs, want string
	}{
		{"ldflags win", "abc123", "def456", "abc123"},
		{"vcs stamp when no ldflags", "", "def456-dirty", "def456-dirty"},
		{"neither", "", "", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := buildCommit(tt.ldflags, tt.vcs); got != tt.want {
				t.Errorf("buildCommit(%q, %q) = %q, want %q", tt.ldflags, tt.vcs, got, tt.want)
			}
		})
	}
}

func TestPrintVersion(t *testing.T) {
	var b bytes.Buffer
	printVersion(&b, "v1.2.3", "0123abcd")
	want := "cantina-ops v1.2.3 (commit 0123abcd, " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestVersionCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr}
	if err := dispatch(context.Background(), a, []string{"version"}); err != nil {
		t.Fatalf("version: %v (stderr %q)", err, stderr.String())
	}
	out := stdout.String()
	for _, part := range []string{"cantina-ops " + version + " ", "(commit ", runtime.Version()} {
		if !strings.Contains(out, part) {
			t.Errorf("version output %q lacks %q", out, part)
		}
	}
	if err := dispatch(context.Background(), a, []string{"version", "extra"}); err == nil {
		t.Error("version with an argument: no error")
	}
}
