package logging

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// TestFileRotation writes past LOG_MAX_SIZE_MB=1 through the process's
// logger and finds the rotated, gzipped file and the live one. Read in
// order, the two hold exactly the lines the log stream got, byte for byte:
// numbered 0…n-1, none lost or duplicated across the boundary, and neither
// file holds the configured secret, though every line was logged with it
// (in a DSN, an error and some messages).
func TestFileRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cantina-ops.log")
	f, err := OpenFile(config.LogFile{Path: path, MaxSizeMB: 1, MaxBackups: 5})
	if err != nil {
		t.Fatalf("OpenFile: %v", err)
	}
	var stream bytes.Buffer
	l := New(&stream, Options{Level: slog.LevelInfo, Format: "json", Secrets: config.NewSecrets(testSecrets, nil), File: f})
	dsn := "mysql://pos:" + secret + "@db:3306/pos"
	// Past one megabyte and short of two: exactly one rotation.
	n := 0
	for ; stream.Len() < 1<<20+1<<19; n++ {
		msg := "backup step"
		if n%100 == 0 {
			msg = "retrying with password " + secret
		}
		l.Info(msg, "n", n, "dsn", dsn, "err", errors.New("access denied for pos:"+special))
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close the log file: %v", err)
	}

	// Lumberjack gzips in a goroutine and removes the plain rotated file
	// only after the .gz is complete.
	var gz string
	testenv.Eventually(t, 10*time.Second, "the rotated file gzipped and its plain copy removed", func() bool {
		rotated, plain := rotatedFiles(t, dir)
		if len(rotated) == 1 && len(plain) == 0 {
			gz = rotated[0]
			return true
		}
		return false
	})
	old := gunzip(t, gz)
	live, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the live file: %v", err)
	}
	if len(old) == 0 || len(old) > 1<<20 || len(live) == 0 {
		t.Fatalf("rotated %d bytes, live %d bytes: want a rotated file of at most 1 MB and a non-empty live one", len(old), len(live))
	}
	if !bytes.HasSuffix(old, []byte("\n")) {
		t.Error("the rotated file ends mid-line")
	}
	if got := string(old) + string(live); got != stream.String() {
		t.Errorf("rotated + live files (%d bytes) differ from the log stream (%d bytes)", len(got), stream.Len())
	}
	want := 0
	for _, file := range []struct {
		name string
		data []byte
	}{{"rotated", old}, {"live", live}} {
		sc := bufio.NewScanner(bytes.NewReader(file.data))
		for sc.Scan() {
			var line struct{ N int }
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("%s file: line after %d is not JSON: %v\n%s", file.name, want, err, sc.Text())
			}
			if line.N != want {
				t.Fatalf("%s file: line %d follows line %d: lines lost or duplicated", file.name, line.N, want-1)
			}
			if assertScrubbed(t, sc.Text(), testSecrets, "[REDACTED]"); t.Failed() {
				t.Fatalf("%s file: line %d holds a secret", file.name, line.N)
			}
			want++
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("read the %s file: %v", file.name, err)
		}
	}
	if want != n {
		t.Errorf("the files hold %d lines, the logger wrote %d", want, n)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("live file mode %v (%v), want 0600: logs name people and hosts", info.Mode().Perm(), err)
	}
}

// rotatedFiles lists the gzipped and the plain rotated files in dir.
func rotatedFiles(tb testing.TB, dir string) (gz, plain []string) {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		switch name := e.Name(); {
		case name == "cantina-ops.log":
		case strings.HasSuffix(name, ".log.gz"):
			gz = append(gz, filepath.Join(dir, name))
		default:
			plain = append(plain, filepath.Join(dir, name))
		}
	}
	return gz, plain
}

func gunzip(tb testing.TB, path string) []byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatalf("gunzip %s: %v", path, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatalf("gunzip %s: %v", path, err)
	}
	return data
}

// TestFileFormat: the file gets FileFormat, JSON when unset, whatever the
// console's format; both get the same records, scrubbed.
func TestFileFormat(t *testing.T) {
	tests := []struct {
		console, file string
		fileJSON      bool
	}{
		{"text", "", true}, // a terminal reads text, the file stays JSON
		{"json", "", true},
		{"text", "text", false},
		{"json", "json", true},
	}
	for _, tt := range tests {
		t.Run(tt.console+"/"+tt.file, func(t *testing.T) {
			var console, file bytes.Buffer
			l := New(&console, Options{Level: slog.LevelInfo, Format: tt.console, FileFormat: tt.file, File: &file,
				Secrets: config.NewSecrets([]string{secret}, nil)})
			l.With("task", "backup:run").Info("connect with "+secret, "n", 1)
			for name, out := range map[string]string{"console": console.String(), "file": file.String()} {
				assertScrubbed(t, out, []string{secret}, "connect with [REDACTED]", "backup:run")
				if strings.Count(out, "\n") != 1 {
					t.Errorf("%s holds %d lines, want 1:\n%s", name, strings.Count(out, "\n"), out)
				}
			}
			if got := json.Valid(file.Bytes()); got != tt.fileJSON {
				t.Errorf("file is JSON: %v, want %v:\n%s", got, tt.fileJSON, file.String())
			}
			if (tt.console == "text") == json.Valid(console.Bytes()) {
				t.Errorf("console is not in format %s:\n%s", tt.console, console.String())
			}
		})
	}
}

// TestOpenFileErrors: a LOG_FILE that cannot be written is a start-up
// error naming LOG_FILE and saying what to do, and leaves nothing behind.
func TestOpenFileErrors(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "plain")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		want       string
	}{
		{"missing directory", filepath.Join(dir, "missing", "cantina-ops.log"), "does not exist: create it"},
		{"parent is a file", filepath.Join(notDir, "cantina-ops.log"), "is not a directory"},
		{"path is a directory", dir, "is a directory: name a file in it"},
		{"directory not writable", unwritableDir(t), "is not writable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := listDir(t, dir)
			w, err := OpenFile(config.LogFile{Path: tt.path, MaxSizeMB: 1, MaxBackups: 1})
			if err == nil {
				w.Close()
				t.Fatalf("OpenFile(%s) succeeded, want an error", tt.path)
			}
			if !strings.HasPrefix(err.Error(), "LOG_FILE: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want LOG_FILE: …%s…", err, tt.want)
			}
			if after := listDir(t, dir); after != before {
				t.Errorf("OpenFile left files behind: %s, was %s", after, before)
			}
		})
	}
	t.Run("ok", func(t *testing.T) {
		okDir := t.TempDir()
		w, err := OpenFile(config.LogFile{Path: filepath.Join(okDir, "cantina-ops.log"), MaxSizeMB: 1, MaxBackups: 1})
		if err != nil {
			t.Fatalf("OpenFile: %v", err)
		}
		defer w.Close()
		if got := listDir(t, okDir); got != "" {
			t.Errorf("OpenFile left %s in the directory; the file appears with the first line", got)
		}
	})
}

// unwritableDir is a directory this process cannot create files in: a
// read-only one, or for root (whom permissions do not stop) a /proc one.
func unwritableDir(tb testing.TB) string {
	tb.Helper()
	if os.Geteuid() == 0 {
		if _, err := os.Stat("/proc/1"); err != nil {
			tb.Skip("running as root without /proc: no directory root cannot write")
		}
		return "/proc/1/cantina-ops.log"
	}
	d := filepath.Join(tb.TempDir(), "ro")
	if err := os.Mkdir(d, 0o555); err != nil {
		tb.Fatal(err)
	}
	return filepath.Join(d, "cantina-ops.log")
}

// listDir names every file in dir, dot files included (Glob's * matches them).
func listDir(tb testing.TB, dir string) string {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		tb.Fatal(err)
	}
	return strings.Join(names, ",")
}
