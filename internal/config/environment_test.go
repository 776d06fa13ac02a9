package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeEnvFile writes content to a .env file in a fresh temp dir.
func writeEnvFile(tb testing.TB, content string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatalf("write %s: %v", path, err)
	}
	return path
}

// unsetenv removes key from the environment for the test; t.Setenv restores
// the original value at cleanup.
func unsetenv(t *testing.T, key string) {
	t.Helper()
	t.Setenv(key, "")
	if err := os.Unsetenv(key); err != nil {
		t.Fatalf("unsetenv %s: %v", key, err)
	}
}

func mustEnvironment(tb testing.TB, path string) Lookup {
	tb.Helper()
	lookup, err := Environment(path)
	if err != nil {
		tb.Fatalf("Environment(%s): %v", path, err)
	}
	return lookup
}

func TestEnvironmentRealEnvWins(t *testing.T) {
	path := writeEnvFile(t, strings.Join([]string{
		"# comment",
		"CANTINA_TEST_BOTH=from-file",
		"CANTINA_TEST_FILE_ONLY=file-only",
		"export CANTINA_TEST_EXPORTED=exported",
		`CANTINA_TEST_QUOTED="two words # not a comment"`,
		"CANTINA_TEST_SINGLE='p@ss:w/rd%$HOME'",
		"CANTINA_TEST_COMMENTED=value # trailing comment",
		"CANTINA_TEST_EMPTY_IN_ENV=from-file",
		"",
	}, "\n"))
	t.Setenv("CANTINA_TEST_BOTH", "from-env")
	t.Setenv("CANTINA_TEST_ENV_ONLY", "env-only")
	t.Setenv("CANTINA_TEST_EMPTY_IN_ENV", "")
	for _, k := range []string{"CANTINA_TEST_FILE_ONLY", "CANTINA_TEST_EXPORTED", "CANTINA_TEST_QUOTED", "CANTINA_TEST_SINGLE", "CANTINA_TEST_COMMENTED", "CANTINA_TEST_NOWHERE"} {
		unsetenv(t, k)
	}
	lookup := mustEnvironment(t, path)

	tests := []struct {
		key    string
		want   string
		wantOK bool
	}{
		{"CANTINA_TEST_BOTH", "from-env", true},
		{"CANTINA_TEST_ENV_ONLY", "env-only", true},
		{"CANTINA_TEST_FILE_ONLY", "file-only", true},
		{"CANTINA_TEST_EXPORTED", "exported", true},
		{"CANTINA_TEST_QUOTED", "two words # not a comment", true},
		{"CANTINA_TEST_SINGLE", "p@ss:w/rd%$HOME", true},
		{"CANTINA_TEST_COMMENTED", "value", true},
		// Set but empty in the real environment still wins, as with godotenv.Load.
		{"CANTINA_TEST_EMPTY_IN_ENV", "", true},
		{"CANTINA_TEST_NOWHERE", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, ok := lookup(tt.key)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("lookup(%s) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestEnvironmentSeesLaterChanges(t *testing.T) {
	unsetenv(t, "CANTINA_TEST_LATE")
	lookup := mustEnvironment(t, filepath.Join(t.TempDir(), ".env"))
	t.Setenv("CANTINA_TEST_LATE", "now")
	if got, ok := lookup("CANTINA_TEST_LATE"); got != "now" || !ok {
		t.Errorf("lookup = %q, %v; want the current environment", got, ok)
	}
}

func TestEnvironmentMissingFile(t *testing.T) {
	t.Setenv("CANTINA_TEST_ENV_ONLY", "env-only")
	lookup := mustEnvironment(t, filepath.Join(t.TempDir(), "no-such", ".env"))
	if got, ok := lookup("CANTINA_TEST_ENV_ONLY"); got != "env-only" || !ok {
		t.Errorf("lookup = %q, %v; want the real environment", got, ok)
	}
}

func TestEnvironmentEmptyFile(t *testing.T) {
	unsetenv(t, "CANTINA_TEST_NOWHERE")
	lookup := mustEnvironment(t, writeEnvFile(t, ""))
	if _, ok := lookup("CANTINA_TEST_NOWHERE"); ok {
		t.Error("an empty .env file set a variable")
	}
}

func TestEnvironmentErrors(t *testing.T) {
	const pw = "s3cretpw"
	tests := []struct {
		name      string
		content   string
		wantLine  string
		malformed bool
	}{
		{
			name:      "line without =",
			content:   "CANTINA_A=1\nDB_PASSWORD " + pw + "\nCANTINA_B=2\n",
			wantLine:  "line 2",
			malformed: true,
		},
		{
			name:      "bad name before a secret",
			content:   "BAD-NAME=1\nDB_PASSWORD=" + pw + "\n",
			wantLine:  "line 1",
			malformed: true,
		},
		{
			name:      "unterminated quote",
			content:   "CANTINA_A=1\n# comment\nDB_PASSWORD=\"" + pw + "\nCANTINA_B=2\n",
			wantLine:  "line 3",
			malformed: true,
		},
		{
			name:      "after a multi-line value",
			content:   "CANTINA_A=\"one\ntwo\"\nCANTINA_B=2\nDB_PASSWORD='" + pw + "\n",
			wantLine:  "line 4",
			malformed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeEnvFile(t, tt.content)
			lookup, err := Environment(path)
			if err == nil {
				t.Fatal("Environment succeeded on a malformed file")
			}
			if lookup != nil {
				t.Error("Environment returned a Lookup along with its error")
			}
			if !errors.Is(err, ErrMalformedEnvFile) {
				t.Errorf("error %v does not wrap ErrMalformedEnvFile", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, path) || !strings.Contains(msg, tt.wantLine+" ") {
				t.Errorf("error %q should name %s and %s", msg, path, tt.wantLine)
			}
			if strings.Contains(msg, pw) {
				t.Errorf("error leaks the file's content: %q", msg)
			}
		})
	}

	t.Run("unreadable", func(t *testing.T) {
		dir := t.TempDir() // a directory cannot be read as a file
		_, err := Environment(dir)
		if err == nil {
			t.Fatal("Environment succeeded on a directory")
		}
		if errors.Is(err, ErrMalformedEnvFile) || !strings.Contains(err.Error(), dir) {
			t.Errorf("error %q should name %s as unreadable", err, dir)
		}
	})
}

// TestEnvironmentWithLoad runs the start-up path: .env plus the real
// environment into Load.
func TestEnvironmentWithLoad(t *testing.T) {
	for _, k := range []string{
		"DATABASE_URL", "JAWSDB_URL", "CLEARDB_DATABASE_URL", "DB_NAME", "DB_USER", "DB_PASSWORD",
		"DB_HOST", "DB_PORT", "REDIS_URL", "CACHE_REDIS_URL", "REDIS_TLS_SKIP_VERIFY", "BACKUP_DIR",
		"SCHEDULE_TZ", "TZ", "BACKUP_SCHEDULE", "CLEANUP_SCHEDULE", "HEALTH_SCHEDULE",
		"EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS", "EMAIL_USE_SSL", "EMAIL_HOST_USER",
		"EMAIL_HOST_PASSWORD", "EMAIL_FROM", "NOTIFY_EMAILS", "CONSOLE_USER", "CONSOLE_PASSWORD",
		"LOG_LEVEL", "LOG_FORMAT", "CACHE_KEY_PREFIX", "CACHE_VERSION", "BACKUP_RETENTION_DAYS",
		"BACKUP_KEEP_MIN", "WORKER_CONCURRENCY", "WORKER_SHUTDOWN_TIMEOUT",
	} {
		unsetenv(t, k)
	}
	path := writeEnvFile(t, strings.Join([]string{
		"DATABASE_URL=mysql://pos:p%40ss@db:3306/pos",
		"PORT=9000",
		"BACKUP_DIR=/srv/backups",
		"LOG_LEVEL=chatty",
	}, "\n"))
	t.Setenv("PORT", "9100")
	t.Setenv("LOG_LEVEL", "debug")

	c, err := Load(mustEnvironment(t, path))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Port != 9100 {
		t.Errorf("Port = %d, want the environment's 9100", c.Port)
	}
	if c.BackupDir != "/srv/backups" {
		t.Errorf("BackupDir = %q, want the file's", c.BackupDir)
	}
	if c.DB.Host != "db" || c.DB.Password.Reveal() != "p@ss" {
		t.Errorf("DB = %s, want the file's", c.DB)
	}
	if c.LogLevel.String() != "DEBUG" {
		t.Errorf("LogLevel = %s: the file's invalid value should be shadowed by the environment", c.LogLevel)
	}
}
