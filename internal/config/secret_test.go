package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

func TestSecretFormatting(t *testing.T) {
	const value = "hunter2-but-longer"
	s := Secret(value)
	type holder struct {
		Name string
		Pass Secret
	}
	h := holder{Name: "db", Pass: s}

	jsonOf := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
		return string(b)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "pass", s, "holder", h)

	tests := []struct {
		name string
		got  string
		want string // "" = only check that the value is absent
	}{
		{"String", s.String(), redacted},
		{"GoString", s.GoString(), redacted},
		{"%v", fmt.Sprintf("%v", s), redacted},
		{"%s", fmt.Sprintf("%s", s), redacted},
		{"%q", fmt.Sprintf("%q", s), `"` + redacted + `"`},
		{"%x", fmt.Sprintf("%x", s), ""},
		{"%X", fmt.Sprintf("%X", s), ""},
		{"%#v", fmt.Sprintf("%#v", s), redacted},
		{"%+v of a struct", fmt.Sprintf("%+v", h), "{Name:db Pass:" + redacted + "}"},
		{"%#v of a struct", fmt.Sprintf("%#v", h), ""},
		{"Sprint", fmt.Sprint(s), redacted},
		{"json", jsonOf(s), `"` + redacted + `"`},
		{"json of a struct", jsonOf(h), `{"Name":"db","Pass":"` + redacted + `"}`},
		{"slog", logged.String(), ""},
		{"LogValue", s.LogValue().String(), redacted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Contains(tt.got, value) || strings.Contains(tt.got, fmt.Sprintf("%x", value)) {
				t.Errorf("output leaks the secret: %s", tt.got)
			}
			if tt.want != "" && tt.got != tt.want {
				t.Errorf("got %s, want %s", tt.got, tt.want)
			}
		})
	}
	t.Run("Reveal and IsSet", func(t *testing.T) {
		if s.Reveal() != value || !s.IsSet() {
			t.Errorf("Reveal() = %q, IsSet() = %v", s.Reveal(), s.IsSet())
		}
	})
	t.Run("empty", func(t *testing.T) {
		var e Secret
		if e.String() != "" || e.IsSet() || fmt.Sprint(e) != "" {
			t.Errorf("empty secret prints %q, IsSet %v", e.String(), e.IsSet())
		}
	})
}

// secretEnv is a configuration with every kind of secret, each distinct and
// easy to spot. The database password has characters that must be
// percent-encoded in the URL.
var (
	dbSecret      = "Db#S3cret@pw/%"
	redisSecret   = "RedisS3cretPw"
	cacheSecret   = "CacheS3cretPw"
	mailSecret    = "MailS3cretPw"
	consoleSecret = "ConsoleS3cretPw"
	allSecrets    = []string{dbSecret, redisSecret, cacheSecret, mailSecret, consoleSecret}
)

func secretEnv() map[string]string {
	return map[string]string{
		"DATABASE_URL":        "mysql://pos:" + url.QueryEscape(dbSecret) + "@db.internal:3306/pos?tls=skip-verify",
		"REDIS_URL":           "rediss://:" + redisSecret + "@redis.example.com:6380/0",
		"CACHE_REDIS_URL":     "redis://default:" + cacheSecret + "@cache.internal:6379/1",
		"EMAIL_HOST":          "smtp.example.com",
		"EMAIL_HOST_USER":     "ops@example.com",
		"EMAIL_HOST_PASSWORD": mailSecret,
		"NOTIFY_EMAILS":       "admin@example.com",
		"CONSOLE_USER":        "operator",
		"CONSOLE_PASSWORD":    consoleSecret,
	}
}

// assertNoSecret fails if out contains any of secrets, raw or in an encoded
// form a URL would carry.
func assertNoSecret(tb testing.TB, what, out string, secrets ...string) {
	tb.Helper()
	for _, s := range secrets {
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s), url.UserPassword("u", s).String()[2:]} {
			if strings.Contains(out, form) {
				tb.Errorf("%s leaks secret %q (as %q):\n%s", what, s, form, out)
			}
		}
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	c := mustLoad(t, secretEnv())
	if got := c.DB.Password.Reveal(); got != dbSecret {
		t.Fatalf("test setup: DB password = %q, want %q", got, dbSecret)
	}

	var printed bytes.Buffer
	if err := c.Print(&printed); err != nil {
		t.Fatalf("Print: %v", err)
	}
	var settings strings.Builder
	for _, s := range c.Settings() {
		fmt.Fprintf(&settings, "%s=%s\n", s.Name, s.Value)
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	jsValue, err := json.Marshal(*c)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "cfg", c, "db", c.DB, "redis", c.Redis, "email", c.Email)
	var loggedText bytes.Buffer
	slog.New(slog.NewTextHandler(&loggedText, nil)).Info("config", "cfg", c, "db", c.DB, "redis", c.Redis, "email", c.Email)

	outputs := []struct{ name, out string }{
		{"Print", printed.String()},
		{"Settings", settings.String()},
		{"fmt pointer", fmt.Sprintf("%v %+v %#v", c, c, c)},
		{"fmt value", fmt.Sprintf("%v %+v %#v", *c, *c, *c)},
		{"fmt parts", fmt.Sprintf("%v %+v %#v %v %+v %#v %v %+v %#v", c.DB, c.DB, c.DB, c.Redis, c.Redis, c.Redis, c.Email, c.Email, c.Email)},
		{"json pointer", string(js)},
		{"json value", string(jsValue)},
		{"slog json", logged.String()},
		{"slog text", loggedText.String()},
		{"DB.String", c.DB.String()},
		{"Redis.String", c.Redis.String() + " " + c.CacheRedis.String()},
	}
	for _, o := range outputs {
		t.Run(o.name, func(t *testing.T) {
			assertNoSecret(t, o.name, o.out, allSecrets...)
		})
	}

	t.Run("Print redacts but shows the rest", func(t *testing.T) {
		out := printed.String()
		for _, want := range []string{
			"mysql://pos:[REDACTED]@db.internal:3306/pos (from DATABASE_URL)",
			"rediss://:xxxxx@redis.example.com:6380/0",
			"redis://default:xxxxx@cache.internal:6379/1",
			"EMAIL_HOST_PASSWORD",
			"CONSOLE_USER",
			"operator",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("Print output lacks %q:\n%s", want, out)
			}
		}
		for _, s := range c.Settings() {
			if (s.Name == "EMAIL_HOST_PASSWORD" || s.Name == "CONSOLE_PASSWORD") && s.Value != redacted {
				t.Errorf("%s = %q, want %s", s.Name, s.Value, redacted)
			}
		}
	})

	t.Run("json shows the redacted Redis URLs", func(t *testing.T) {
		for _, want := range []string{`"Redis":"rediss://:xxxxx@redis.example.com:6380/0"`, `"CacheRedis":"redis://default:xxxxx@cache.internal:6379/1"`} {
			if !strings.Contains(string(js), want) {
				t.Errorf("json lacks %s:\n%s", want, js)
			}
		}
	})

	t.Run("Secrets hides every secret for the log scrubber", func(t *testing.T) {
		r := c.Secrets()
		for _, s := range allSecrets {
			if got := r.Redact("x " + s + " y"); got != "x "+redacted+" y" {
				t.Errorf("Secrets().Redact does not hide %q: %q", s, got)
			}
		}
	})
}

func TestSecretsFromDBVariables(t *testing.T) {
	c := mustLoad(t, map[string]string{"DB_NAME": "pos", "DB_USER": "cantina", "DB_PASSWORD": dbSecret})
	var printed bytes.Buffer
	if err := c.Print(&printed); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(c)
	out := printed.String() + fmt.Sprintf("%v %+v %#v", c, c, c) + string(js)
	assertNoSecret(t, "config from DB_*", out, dbSecret)
	if got := c.Secrets().Redact(dbSecret); got != redacted {
		t.Errorf("Secrets() does not hide DB_PASSWORD: %q", got)
	}
}

func TestSecretsOmitsEmpty(t *testing.T) {
	c := mustLoad(t, map[string]string{"DATABASE_URL": "mysql://root@db/pos", "REDIS_URL": "redis://redis:6379/0"})
	if got := c.Secrets(); !got.Empty() {
		t.Errorf("Secrets() = %+v, want none", got)
	}
}

// TestLoadErrorsNeverContainPasswords feeds Load broken URLs and settings
// that hold a password: no problem message may repeat it.
func TestLoadErrorsNeverContainPasswords(t *testing.T) {
	const pw = "s3cretpw"
	const special = "p%40ss%3Aw%2Frd%25" // p@ss:w/rd%
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"mysql port not a number", map[string]string{"DATABASE_URL": "mysql://u:" + pw + "@host:notaport/db"}},
		{"mysql port out of range", map[string]string{"DATABASE_URL": "mysql://u:" + pw + "@host:99999/db"}},
		{"mysql space in host", map[string]string{"DATABASE_URL": "mysql://u:" + pw + "@ho st/db"}},
		{"mysql wrong scheme", map[string]string{"DATABASE_URL": "postgres://u:" + pw + "@host/db"}},
		{"mysql missing host", map[string]string{"DATABASE_URL": "mysql://u:" + pw + "@/db"}},
		{"mysql missing db", map[string]string{"DATABASE_URL": "mysql://u:" + pw + "@host"}},
		{"mysql unknown param", map[string]string{"DATABASE_URL": "mysql://u:" + pw + "@host/db?x=1"}},
		{"mysql bad ssl-mode", map[string]string{"DATABASE_URL": "mysql://u:" + pw + "@host/db?ssl-mode=on"}},
		{"mysql bad timeout", map[string]string{"DATABASE_URL": "mysql://u:" + pw + "@host/db?timeout=x"}},
		{"mysql control character", map[string]string{"DATABASE_URL": "mysql://u:" + pw + "@host/db\x7f"}},
		{"mysql password with unescaped slash", map[string]string{"DATABASE_URL": "mysql://u:" + pw + "/x@host/db"}},
		{"mysql special password, bad port", map[string]string{"DATABASE_URL": "mysql://u:" + special + "@host:notaport/db"}},
		{"mysql special password, wrong scheme", map[string]string{"DATABASE_URL": "mysqlx://u:" + special + "@host/db"}},
		{"JAWSDB_URL", map[string]string{"JAWSDB_URL": "mysql://u:" + pw + "@host:notaport/db"}},
		{"CLEARDB_DATABASE_URL", map[string]string{"CLEARDB_DATABASE_URL": "mysql://u:" + pw + "@ho st/db?reconnect=true"}},
		{"redis port out of range", withDB(map[string]string{"REDIS_URL": "redis://:" + pw + "@host:99999999/0"})},
		{"redis port not a number", withDB(map[string]string{"REDIS_URL": "redis://:" + pw + "@host:port/0"})},
		{"redis space in host", withDB(map[string]string{"REDIS_URL": "redis://:" + pw + "@ho st:6379/0"})},
		{"redis wrong scheme", withDB(map[string]string{"REDIS_URL": "http://:" + pw + "@host:6379/0"})},
		{"redis missing host", withDB(map[string]string{"REDIS_URL": "redis://:" + pw + "@:6379/0"})},
		{"redis bad db", withDB(map[string]string{"REDIS_URL": "redis://:" + pw + "@host:6379/zero"})},
		{"redis negative db", withDB(map[string]string{"REDIS_URL": "redis://:" + pw + "@host:6379/-1"})},
		{"redis deep path", withDB(map[string]string{"REDIS_URL": "redis://:" + pw + "@host:6379/0/1"})},
		{"redis unknown option", withDB(map[string]string{"REDIS_URL": "redis://:" + pw + "@host:6379/0?x=1"})},
		{"redis bad option value", withDB(map[string]string{"REDIS_URL": "redis://:" + pw + "@host:6379/0?dial_timeout=x"})},
		{"rediss user and password, bad port", withDB(map[string]string{"REDIS_URL": "rediss://user:" + pw + "@host:70000/0"})},
		{"redis special password", withDB(map[string]string{"REDIS_URL": "redis://:" + special + "@host:99999999/0"})},
		{"cache redis", withDB(map[string]string{"CACHE_REDIS_URL": "redis://:" + pw + "@ho st/1"})},
		{"other problems with passwords set", map[string]string{
			"DB_NAME": "pos", "DB_PASSWORD": pw, "DB_PORT": "x",
			"EMAIL_HOST_PASSWORD": pw, "CONSOLE_PASSWORD": pw, "PORT": "x",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := loadErr(t, tt.env)
			assertNoSecret(t, "Load error", err.Error(), pw, "p@ss:w/rd%")
			if strings.Contains(err.Error(), special) {
				t.Errorf("Load error leaks the encoded password:\n%v", err)
			}
		})
	}
}

func TestPrint(t *testing.T) {
	c := mustLoad(t, withDB(map[string]string{"PORT": "9000", "LOG_LEVEL": "debug"}))
	var buf bytes.Buffer
	if err := c.Print(&buf); err != nil {
		t.Fatalf("Print: %v", err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	settings := c.Settings()
	if len(lines) != len(settings) {
		t.Fatalf("Print wrote %d lines for %d settings:\n%s", len(lines), len(settings), buf.String())
	}
	valueCol := -1
	for i, line := range lines {
		s := settings[i]
		t.Run(s.Name, func(t *testing.T) {
			fields := strings.Fields(line)
			if len(fields) < 2 || fields[0] != s.Name {
				t.Fatalf("line %q, want %s and a value", line, s.Name)
			}
			want := s.Value
			if want == "" {
				want = "-"
			}
			if got := strings.TrimSpace(line[len(s.Name):]); got != want {
				t.Errorf("value %q, want %q", got, want)
			}
			col := strings.Index(line[len(s.Name):], strings.Fields(line[len(s.Name):])[0]) + len(s.Name)
			if valueCol == -1 {
				valueCol = col
			} else if col != valueCol {
				t.Errorf("value starts at column %d, others at %d (not aligned)", col, valueCol)
			}
		})
	}
	t.Run("README variables", func(t *testing.T) {
		names := map[string]string{}
		for _, s := range settings {
			names[s.Name] = s.Value
		}
		for _, n := range []string{
			"REDIS_URL", "REDIS_TLS_SKIP_VERIFY", "CACHE_REDIS_URL", "CACHE_KEY_PREFIX", "CACHE_VERSION",
			"DATABASE", "BACKUP_DIR", "BACKUP_SCHEDULE", "BACKUP_RETENTION_DAYS", "BACKUP_KEEP_MIN",
			"CLEANUP_SCHEDULE", "HEALTH_SCHEDULE", "SCHEDULE_TZ", "EMAIL_HOST", "EMAIL_PORT",
			"EMAIL_USE_TLS", "EMAIL_USE_SSL", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD", "EMAIL_FROM",
			"NOTIFY_EMAILS", "PORT", "LOG_LEVEL", "LOG_FORMAT", "LOG_FILE", "LOG_MAX_SIZE_MB",
			"LOG_MAX_BACKUPS", "LOG_MAX_AGE_DAYS",
		} {
			if _, ok := names[n]; !ok {
				t.Errorf("Settings() lacks %s", n)
			}
		}
		if names["PORT"] != "9000" || names["LOG_LEVEL"] != "debug" || names["SCHEDULE_TZ"] != "UTC" {
			t.Errorf("PORT %q, LOG_LEVEL %q, SCHEDULE_TZ %q", names["PORT"], names["LOG_LEVEL"], names["SCHEDULE_TZ"])
		}
	})
}

// TestShortSecretsRefused: a password shorter than 3 characters is refused,
// naming its variable and the minimum (see parser.password for why); 3
// characters and an empty value (no password) are accepted.
func TestShortSecretsRefused(t *testing.T) {
	variables := []struct {
		variable string
		env      func(pw string) map[string]string
	}{
		{"DATABASE_URL", func(pw string) map[string]string {
			return map[string]string{"DATABASE_URL": "mysql://u:" + pw + "@db/pos"}
		}},
		{"JAWSDB_URL", func(pw string) map[string]string {
			return map[string]string{"JAWSDB_URL": "mysql://u:" + pw + "@db/pos"}
		}},
		{"CLEARDB_DATABASE_URL", func(pw string) map[string]string {
			return map[string]string{"CLEARDB_DATABASE_URL": "mysql://u:" + pw + "@db/pos?reconnect=true"}
		}},
		{"DB_PASSWORD", func(pw string) map[string]string {
			return map[string]string{"DB_NAME": "pos", "DB_USER": "u", "DB_PASSWORD": pw}
		}},
		{"REDIS_URL", func(pw string) map[string]string {
			return withDB(map[string]string{"REDIS_URL": "redis://:" + pw + "@h:6379/0"})
		}},
		{"CACHE_REDIS_URL", func(pw string) map[string]string {
			return withDB(map[string]string{"CACHE_REDIS_URL": "rediss://user:" + pw + "@h:6380/1"})
		}},
		{"EMAIL_HOST_PASSWORD", func(pw string) map[string]string { return withDB(map[string]string{"EMAIL_HOST_PASSWORD": pw}) }},
		{"CONSOLE_PASSWORD", func(pw string) map[string]string {
			return withDB(map[string]string{"CONSOLE_USER": "op", "CONSOLE_PASSWORD": pw})
		}},
	}
	lengths := []struct {
		name   string
		pw     string
		refuse bool
	}{
		{"one character", "x", true},
		{"two characters", "ab", true},
		{"two multi-byte characters", "ñé", true},
		{"three characters", "abc", false},
		{"three multi-byte characters", "ñéí", false},
	}
	for _, v := range variables {
		for _, l := range lengths {
			t.Run(v.variable+"/"+l.name, func(t *testing.T) {
				pw := l.pw
				if strings.HasSuffix(v.variable, "_URL") {
					pw = url.QueryEscape(pw)
				}
				env := v.env(pw)
				if !l.refuse {
					mustLoad(t, env)
					return
				}
				err := loadErr(t, env)
				wantProblem(t, err, v.variable, "shorter than 3 characters")
				wantOnlyProblemsFor(t, err, v.variable)
			})
		}
	}
	t.Run("no password is not a short password", func(t *testing.T) {
		mustLoad(t, map[string]string{"DATABASE_URL": "mysql://root@db/pos", "REDIS_URL": "redis://h:6379/0"})
		mustLoad(t, map[string]string{"DB_NAME": "pos", "DB_USER": "root", "DB_PASSWORD": ""})
	})
}
