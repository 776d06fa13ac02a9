package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/config"
)

const (
	secret      = "s3cretpw"
	otherSecret = "0therS3cret"
	special     = "p@ss:w/rd%"
)

var testSecrets = []string{secret, otherSecret, special}

// newLogger returns a logger writing to a buffer.
func newLogger(tb testing.TB, format string, level slog.Level, secrets ...string) (*slog.Logger, *bytes.Buffer) {
	tb.Helper()
	var buf bytes.Buffer
	return New(&buf, Options{Level: level, Format: format, Secrets: config.NewSecrets(secrets, nil)}), &buf
}

// assertScrubbed fails if out holds any secret in any encoding a URL uses,
// or if it lacks one of keep.
func assertScrubbed(tb testing.TB, out string, secrets []string, keep ...string) {
	tb.Helper()
	for _, s := range secrets {
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			if strings.Contains(out, form) {
				tb.Errorf("output leaks %q (as %q):\n%s", s, form, out)
			}
		}
	}
	for _, k := range keep {
		if !strings.Contains(out, k) {
			tb.Errorf("output lacks %q:\n%s", k, out)
		}
	}
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

type valuer struct{ v slog.Value }

func (v valuer) LogValue() slog.Value { return v.v }

func TestScrub(t *testing.T) {
	dsn := "mysql://pos:" + secret + "@db:3306/pos"
	tests := []struct {
		name string
		log  func(l *slog.Logger)
		keep []string // non-secret text that must survive
	}{
		{
			name: "message",
			log:  func(l *slog.Logger) { l.Info("connecting with " + secret + " to db") },
			keep: []string{"connecting with [REDACTED] to db"},
		},
		{
			name: "several secrets in one message",
			log:  func(l *slog.Logger) { l.Info(secret + "," + otherSecret + "," + special) },
			keep: []string{"[REDACTED],[REDACTED],[REDACTED]"},
		},
		{
			name: "string attr",
			log:  func(l *slog.Logger) { l.Info("open", "dsn", dsn) },
			keep: []string{"mysql://pos:[REDACTED]@db:3306/pos", "dsn"},
		},
		{
			name: "error attr",
			log: func(l *slog.Logger) {
				l.Error("backup failed", "err", fmt.Errorf("dump: %w", errors.New("access denied for pos:"+secret)))
			},
			keep: []string{"dump: access denied for pos:[REDACTED]", "backup failed"},
		},
		{
			name: "error with an encoded secret",
			log: func(l *slog.Logger) {
				l.Error("redis", "err", errors.New("dial redis://:"+url.QueryEscape(special)+"@host failed"))
			},
			keep: []string{"dial redis://:[REDACTED]@host failed"},
		},
		{
			name: "path-encoded secret",
			log:  func(l *slog.Logger) { l.Info("url", "u", "/x/"+url.PathEscape(special)+"/y") },
			keep: []string{"/x/[REDACTED]/y"},
		},
		{
			name: "grouped attrs",
			log: func(l *slog.Logger) {
				l.Info("g", slog.Group("db", slog.String("dsn", dsn), slog.Int("port", 3306),
					slog.Group("auth", slog.String("password", secret), slog.Any("err", errors.New(otherSecret)))))
			},
			keep: []string{"[REDACTED]", "3306", "auth", "password"},
		},
		{
			name: "With attrs",
			log:  func(l *slog.Logger) { l.With("dsn", dsn, "task", "backup:run").Info("start") },
			keep: []string{"mysql://pos:[REDACTED]@db:3306/pos", "backup:run"},
		},
		{
			name: "With group attrs",
			log: func(l *slog.Logger) {
				l.With(slog.Group("smtp", "password", otherSecret)).Warn("mail")
			},
			keep: []string{"smtp", "[REDACTED]"},
		},
		{
			name: "WithGroup then attrs",
			log:  func(l *slog.Logger) { l.WithGroup("req").With("auth", "Bearer "+secret).Info("x", "q", secret) },
			keep: []string{"Bearer [REDACTED]", "req"},
		},
		{
			name: "Stringer value",
			log:  func(l *slog.Logger) { l.Info("x", "v", stringer{"token=" + secret}) },
			keep: []string{"token=[REDACTED]"},
		},
		{
			name: "LogValuer",
			log:  func(l *slog.Logger) { l.Info("x", "v", valuer{slog.StringValue("pw " + secret)}) },
			keep: []string{"pw [REDACTED]"},
		},
		{
			name: "LogValuer returning a group",
			log: func(l *slog.Logger) {
				l.Info("x", "v", valuer{slog.GroupValue(slog.String("pw", secret), slog.Int("n", 7))})
			},
			keep: []string{"[REDACTED]", "7"},
		},
		{
			name: "slice value",
			log:  func(l *slog.Logger) { l.Info("x", "args", []string{"--user=pos", "--password=" + secret}) },
			keep: []string{"--password=[REDACTED]"},
		},
		{
			name: "secret inside a longer word",
			log:  func(l *slog.Logger) { l.Info("x" + secret + "x") },
			keep: []string{"x[REDACTED]x"},
		},
	}
	for _, format := range []string{"json", "text"} {
		for _, tt := range tests {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				l, buf := newLogger(t, format, slog.LevelDebug, testSecrets...)
				tt.log(l)
				if buf.Len() == 0 {
					t.Fatal("nothing was logged")
				}
				if format == "json" {
					var m map[string]any
					if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
						t.Fatalf("not one JSON line: %v\n%s", err, buf)
					}
				}
				assertScrubbed(t, buf.String(), testSecrets, tt.keep...)
			})
		}
	}
}

// TestScrubOverlappingSecrets: when one secret starts another, the longer one
// must be replaced whole, not leave its tail behind.
func TestScrubOverlappingSecrets(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		msg     string
		want    string
	}{
		{"short first", []string{"abcd", "abcdWXYZ"}, "pw=abcdWXYZ!", "pw=[REDACTED]!"},
		{"long first", []string{"abcdWXYZ", "abcd"}, "pw=abcdWXYZ!", "pw=[REDACTED]!"},
		{"suffix", []string{"WXYZ", "abcdWXYZ"}, "pw=abcdWXYZ!", "pw=[REDACTED]!"},
		{"duplicates", []string{"abcd", "abcd", "abcd"}, "abcd abcd", "[REDACTED] [REDACTED]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, buf := newLogger(t, "json", slog.LevelInfo, tt.secrets...)
			l.Info(tt.msg)
			var m struct{ Msg string }
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			if m.Msg != tt.want {
				t.Errorf("msg = %q, want %q", m.Msg, tt.want)
			}
		})
	}
}

// TestShortSecretsScrubbed: the logger hides a secret however short it is
// (config.Load refuses secrets shorter than 3 characters, so this mangling
// never happens with a loaded configuration; a hand-built list never leaks).
func TestShortSecretsScrubbed(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		msg     string
		want    string
	}{
		{"two characters", []string{"ab"}, "about ab", "[REDACTED]out [REDACTED]"},
		{"one character", []string{"x"}, "x marks", "[REDACTED] marks"},
		{"empty", []string{""}, "anything", "anything"},
		{"three characters", []string{"abc"}, "abc def", "[REDACTED] def"},
		{"short and long", []string{"ab", "longsecret"}, "ab longsecret", "[REDACTED] [REDACTED]"},
		{"no secrets", nil, "plain", "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, buf := newLogger(t, "json", slog.LevelInfo, tt.secrets...)
			l.Info(tt.msg, "k", tt.msg)
			var m struct{ Msg, K string }
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			if m.Msg != tt.want || m.K != tt.want {
				t.Errorf("msg = %q, k = %q, want %q", m.Msg, m.K, tt.want)
			}
		})
	}
}

// TestNamesStayReadable: with the database password equal to the database
// name (and user), log lines keep the name readable and hide the password
// where it is used as one: in the DSN's userinfo.
func TestNamesStayReadable(t *testing.T) {
	secrets := config.NewSecrets([]string{"cantina"}, []string{"cantina", "db.internal"})
	tests := []struct {
		name      string
		log       func(l *slog.Logger)
		msg, attr string // what the message and the "v" attribute must read
	}{
		{"name only", func(l *slog.Logger) { l.Info("backup of cantina done", "v", "cantina") },
			"backup of cantina done", "cantina"},
		{"DSN only", func(l *slog.Logger) {
			l.Error("connect failed", "v", errors.New("dial cantina:cantina@tcp(db.internal:3306)/pos: refused"))
		}, "connect failed", "dial cantina:[REDACTED]@tcp(db.internal:3306)/pos: refused"},
		{"name and DSN", func(l *slog.Logger) {
			l.With("database", "cantina").Error("backup of cantina failed", "v", "mysql://pos:cantina@db.internal:3306/cantina")
		}, "backup of cantina failed", "mysql://pos:[REDACTED]@db.internal:3306/cantina"},
		{"assignment", func(l *slog.Logger) { l.Info("env DB_NAME=cantina", "v", "DB_PASSWORD=cantina") },
			"env DB_NAME=cantina", "DB_PASSWORD=[REDACTED]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(New(&buf, Options{Level: slog.LevelInfo, Format: "json", Secrets: secrets}))
			var m struct{ Msg, V, Database string }
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatalf("not one JSON line: %v\n%s", err, buf.String())
			}
			if m.Msg != tt.msg || m.V != tt.attr {
				t.Errorf("msg = %q, v = %q, want %q, %q", m.Msg, m.V, tt.msg, tt.attr)
			}
			if m.Database != "" && m.Database != "cantina" {
				t.Errorf("database = %q, want cantina", m.Database)
			}
		})
	}
}

func TestNonStringAttrsKeepTheirType(t *testing.T) {
	l, buf := newLogger(t, "json", slog.LevelInfo, secret)
	l.Info("x", "n", 42, "ok", true, "f", 1.5)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["n"] != float64(42) || m["ok"] != true || m["f"] != 1.5 {
		t.Errorf("attrs = %v, want numbers and bools kept", m)
	}
}

func TestFormatsAndLevels(t *testing.T) {
	tests := []struct {
		format    string
		level     slog.Level
		secrets   []string
		wantLines int
		wantText  string
	}{
		{"json", slog.LevelDebug, nil, 4, `"level":"DEBUG"`},
		{"json", slog.LevelInfo, []string{secret}, 3, `"level":"INFO"`},
		{"text", slog.LevelWarn, nil, 2, "level=WARN"},
		{"text", slog.LevelError, []string{secret}, 1, "level=ERROR"},
		{"", slog.LevelInfo, nil, 3, `"msg":"info"`}, // anything but text is JSON
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/secrets=%d", tt.format, tt.level, len(tt.secrets)), func(t *testing.T) {
			l, buf := newLogger(t, tt.format, tt.level, tt.secrets...)
			l.Debug("debug")
			l.Info("info")
			l.Warn("warn")
			l.Error("error")
			lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
			if len(lines) != tt.wantLines {
				t.Errorf("%d lines at level %s, want %d:\n%s", len(lines), tt.level, tt.wantLines, buf)
			}
			if !strings.Contains(buf.String(), tt.wantText) {
				t.Errorf("output lacks %s:\n%s", tt.wantText, buf)
			}
		})
	}
}

func TestAsynqLogger(t *testing.T) {
	tests := []struct {
		name  string
		log   func(a AsynqLogger)
		level string
		msg   string
	}{
		{"Debug", func(a AsynqLogger) { a.Debug("scheduler ", "tick") }, "DEBUG", "scheduler tick"},
		{"Info", func(a AsynqLogger) { a.Info("Starting processing") }, "INFO", "Starting processing"},
		{"Warn", func(a AsynqLogger) { a.Warn("retry in ", 3, "s") }, "WARN", "retry in 3s"},
		{"Error", func(a AsynqLogger) { a.Error("Failed to dequeue: ", errors.New("boom")) }, "ERROR", "Failed to dequeue: boom"},
		{"Error scrubbed", func(a AsynqLogger) { a.Error("dial redis://:" + secret + "@host") }, "ERROR", "dial redis://:[REDACTED]@host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, buf := newLogger(t, "json", slog.LevelDebug, secret)
			tt.log(AsynqLogger{L: l})
			var m struct{ Level, Msg string }
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatalf("not one JSON line: %v\n%s", err, buf)
			}
			if m.Level != tt.level || m.Msg != tt.msg {
				t.Errorf("logged %s %q, want %s %q", m.Level, m.Msg, tt.level, tt.msg)
			}
		})
	}
	t.Run("below the level", func(t *testing.T) {
		l, buf := newLogger(t, "json", slog.LevelWarn)
		a := AsynqLogger{L: l}
		a.Debug("d")
		a.Info("i")
		if buf.Len() != 0 {
			t.Errorf("debug and info logged at warn level:\n%s", buf)
		}
	})
}

// TestAsynqLoggerFatal runs Fatal in a child process: it must log at error
// level and exit with status 1.
func TestAsynqLoggerFatal(t *testing.T) {
	if os.Getenv("CANTINA_LOGGING_FATAL_CHILD") == "1" {
		AsynqLogger{L: New(os.Stderr, Options{Level: slog.LevelInfo, Format: "json", Secrets: config.NewSecrets([]string{secret}, nil)})}.Fatal("cannot start: ", secret)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAsynqLoggerFatal$")
	cmd.Env = append(os.Environ(), "CANTINA_LOGGING_FATAL_CHILD=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("child exited with %v, want status 1\n%s", err, stderr.String())
	}
	var m struct{ Level, Msg string }
	if err := json.Unmarshal(stderr.Bytes(), &m); err != nil {
		t.Fatalf("child output is not one JSON line: %v\n%s", err, stderr.String())
	}
	if m.Level != "ERROR" || m.Msg != "cannot start: [REDACTED]" {
		t.Errorf("logged %s %q, want ERROR %q", m.Level, m.Msg, "cannot start: [REDACTED]")
	}
}

func TestDiscard(t *testing.T) {
	l := Discard()
	l.Error("nothing", "k", secret)
	if l.Enabled(t.Context(), slog.LevelError) {
		t.Error("Discard logger reports itself enabled")
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is not a terminal")
	}
	closed, err := os.Create(filepath.Join(t.TempDir(), "closed"))
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if IsTerminal(closed) {
		t.Error("a closed file is not a terminal")
	}
}
