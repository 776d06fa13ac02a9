package main

import (
	"context"
	"strings"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/password"
)

// TestUserHashFromPipe: piped, the first line is the password; the output
// is one argon2id hash of it, and the password is printed nowhere.
func TestUserHashFromPipe(t *testing.T) {
	tests := []struct {
		name, stdin string
		code        int
		want        string // in stderr, for a failure
	}{
		{"one line", "correct horse battery\n", 0, ""},
		{"crlf, more lines", "correct horse battery\r\nignored\n", 0, ""},
		{"no newline", "correct horse battery", 0, ""},
		{"too short", "short\n", 2, "at least 8 characters"},
		{"empty", "", 2, "at least 8 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			a := &app{stdin: strings.NewReader(tt.stdin), stdout: &stdout, stderr: &stderr}
			code := exitCode(&stderr, dispatch(context.Background(), a, []string{"user", "hash"}))
			if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("exit %d, want %d; stderr %q (want %q)", code, tt.code, stderr.String(), tt.want)
			}
			pw := strings.SplitN(tt.stdin, "\n", 2)[0]
			if pw != "" && strings.Contains(stdout.String()+stderr.String(), strings.TrimSpace(strings.TrimSuffix(pw, "\r"))) {
				t.Errorf("the password is printed: %q %q", stdout.String(), stderr.String())
			}
			if tt.code != 0 {
				return
			}
			h, err := password.Parse(strings.TrimSpace(stdout.String()))
			if err != nil {
				t.Fatalf("output %q: %v", stdout.String(), err)
			}
			if !h.Verify("correct horse battery") {
				t.Error("the hash does not verify the password")
			}
		})
	}
}
