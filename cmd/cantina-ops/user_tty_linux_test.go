package main

import (
	"context"
	"strings"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/password"
)

// TestUserHashOnTerminal: on a terminal the password is asked twice (read
// with echo off by x/term); two different answers hash nothing.
func TestUserHashOnTerminal(t *testing.T) {
	for _, c := range []struct {
		typed string
		code  int
	}{
		{"correct horse battery\ncorrect horse battery\n", 0},
		{"correct horse battery\ncorrect horse batterY\n", 1},
	} {
		master, slave := openPTY(t)
		if _, err := master.WriteString(c.typed); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr strings.Builder
		a := &app{stdin: slave, stdout: &stdout, stderr: &stderr}
		code := exitCode(&stderr, dispatch(context.Background(), a, []string{"user", "hash"}))
		if code != c.code || !strings.Contains(stderr.String(), "Password: ") || !strings.Contains(stderr.String(), "Again: ") {
			t.Fatalf("typed %q: exit %d, want %d, both prompts; stderr %q", c.typed, code, c.code, stderr.String())
		}
		if c.code != 0 {
			if stdout.Len() != 0 || !strings.Contains(stderr.String(), "the two passwords differ") {
				t.Errorf("mismatch: stdout %q, stderr %q", stdout.String(), stderr.String())
			}
			continue
		}
		h, err := password.Parse(strings.TrimSpace(stdout.String()))
		if err != nil || !h.Verify("correct horse battery") {
			t.Errorf("output %q does not hash the password: %v", stdout.String(), err)
		}
	}
}
