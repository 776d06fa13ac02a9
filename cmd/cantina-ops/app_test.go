package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// logPassword is the database password of the LOG_FILE tests.
const logPassword = "L0gFilePassw0rd"

// logEnv sets a configuration with a database password and LOG_FILE=path.
func logEnv(t *testing.T, path string) {
	t.Helper()
	t.Setenv("DATABASE_URL", "mysql://pos:"+logPassword+"@127.0.0.1:1/pos")
	t.Setenv("LOG_FILE", path)
	t.Setenv("LOG_FORMAT", "")
}

// TestLoadLogFile: with LOG_FILE set, the logger load builds writes each
// line to stderr and, identical, to the file (JSON: neither is a terminal),
// the database password scrubbed from both; the command's end closes it.
func TestLoadLogFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cantina-ops.log")
	logEnv(t, path)
	var stderr bytes.Buffer
	a := &app{stderr: &stderr}
	cfg, log, err := a.load()
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	log.Error("connect failed", "dsn", cfg.DB.String(), "err", errors.New("access denied for pos:"+logPassword))
	if len(a.closers) != 1 {
		t.Fatalf("load kept %d closers, want the log file's", len(a.closers))
	}
	a.close()
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read LOG_FILE: %v", err)
	}
	if string(file) != stderr.String() {
		t.Errorf("file and stderr differ:\nfile:   %s\nstderr: %s", file, stderr.String())
	}
	if strings.Contains(string(file), logPassword) || !strings.Contains(string(file), "access denied for pos:[REDACTED]") {
		t.Errorf("file line not scrubbed as stderr's:\n%s", file)
	}
}

// TestLogFileStartUpError: a LOG_FILE in a missing directory stops every
// command at start-up with a configuration error naming LOG_FILE.
func TestLogFileStartUpError(t *testing.T) {
	dir := t.TempDir()
	logEnv(t, filepath.Join(dir, "missing", "cantina-ops.log"))
	for _, args := range [][]string{{"config", "check"}, {"health"}, {"worker"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			a := &app{stdout: &stdout, stderr: &stderr}
			code := exitCode(&stderr, dispatch(context.Background(), a, args))
			out := stderr.String()
			if code != 1 || !strings.Contains(out, "LOG_FILE: directory "+filepath.Join(dir, "missing")+" does not exist") ||
				!strings.Contains(out, "Fix the variables above") {
				t.Errorf("exit %d, stderr:\n%s\nwant 1 and a configuration error naming LOG_FILE", code, out)
			}
			if _, err := os.Stat(filepath.Join(dir, "missing")); err == nil {
				t.Error("the missing directory was created")
			}
		})
	}
}
