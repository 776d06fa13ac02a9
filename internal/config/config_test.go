package config

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c := mustLoad(t, withDB(nil))
	checks := []struct {
		name      string
		got, want any
	}{
		{"REDIS_URL", c.Redis.String(), DefaultRedisURL},
		{"REDIS_TLS_SKIP_VERIFY", c.Redis.SkipVerify, false},
		{"CACHE_REDIS_URL", c.CacheRedis.String(), DefaultRedisURL},
		{"CACHE_KEY_PREFIX", c.CacheKeyPrefix, ""},
		{"CACHE_VERSION", c.CacheVersion, 1},
		{"BACKUP_DIR", c.BackupDir, DefaultBackupDir},
		{"BACKUP_SCHEDULE", c.BackupSchedule, DefaultBackupSchedule},
		{"BACKUP_RETENTION_DAYS", c.BackupRetentionDays, 30},
		{"BACKUP_KEEP_MIN", c.BackupKeepMin, 7},
		{"CLEANUP_SCHEDULE", c.CleanupSchedule, DefaultCleanupSchedule},
		{"HEALTH_SCHEDULE", c.HealthSchedule, DefaultHealthSchedule},
		{"SCHEDULE_TZ", c.ScheduleTZ.String(), "UTC"},
		{"EMAIL_HOST", c.Email.Host, ""},
		{"EMAIL_PORT", c.Email.Port, 587},
		{"EMAIL_USE_TLS", c.Email.UseTLS, true},
		{"EMAIL_USE_SSL", c.Email.UseSSL, false},
		{"EMAIL_FROM", c.Email.From, ""},
		{"NOTIFY_EMAILS", len(c.Email.To), 0},
		{"email enabled", c.Email.Enabled(), false},
		{"PORT", c.Port, 8080},
		{"WORKER_CONCURRENCY", c.WorkerConcurrency, 4},
		{"WORKER_SHUTDOWN_TIMEOUT", c.WorkerShutdownTimeout, 20 * time.Second},
		{"CONSOLE_USER", c.ConsoleUser, ""},
		{"CONSOLE_PASSWORD", c.ConsolePassword.IsSet(), false},
		{"LOG_LEVEL", c.LogLevel, slog.LevelInfo},
		{"LOG_FORMAT", c.LogFormat, ""},
		{"LOG_FILE", c.LogFile.Path, ""},
		{"LOG_MAX_SIZE_MB", c.LogFile.MaxSizeMB, 10},
		{"LOG_MAX_BACKUPS", c.LogFile.MaxBackups, 5},
		{"LOG_MAX_AGE_DAYS", c.LogFile.MaxAgeDays, 0},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			if ck.got != ck.want {
				t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
			}
		})
	}
}

func TestRedis(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		addr     string
		user     string
		password string
		db       int
		tls      bool
		insecure bool
		skip     bool
	}{
		{name: "default", env: nil, addr: "127.0.0.1:6379"},
		{name: "host only gets port 6379 and db 0", env: map[string]string{"REDIS_URL": "redis://redis.internal"}, addr: "redis.internal:6379"},
		{name: "password and db number", env: map[string]string{"REDIS_URL": "redis://:s3cret@redis.internal:6380/5"}, addr: "redis.internal:6380", password: "s3cret", db: 5},
		{name: "Heroku-style user h", env: map[string]string{"REDIS_URL": "redis://h:s3cret@ec2.compute.amazonaws.com:17379"}, addr: "ec2.compute.amazonaws.com:17379", user: "h", password: "s3cret"},
		{name: "ACL user and encoded password", env: map[string]string{"REDIS_URL": "redis://ops:p%40ss%3Aw%2Frd%25@redis:6379/2"}, addr: "redis:6379", user: "ops", password: "p@ss:w/rd%", db: 2},
		{name: "rediss verifies by default", env: map[string]string{"REDIS_URL": "rediss://:s3cret@redis.example.com:6380/0"}, addr: "redis.example.com:6380", password: "s3cret", tls: true},
		{name: "rediss with REDIS_TLS_SKIP_VERIFY=true", env: map[string]string{"REDIS_URL": "rediss://:s3cret@redis.example.com:6380/0", "REDIS_TLS_SKIP_VERIFY": "true"}, addr: "redis.example.com:6380", password: "s3cret", tls: true, insecure: true, skip: true},
		{name: "rediss with REDIS_TLS_SKIP_VERIFY=false", env: map[string]string{"REDIS_URL": "rediss://redis.example.com", "REDIS_TLS_SKIP_VERIFY": "false"}, addr: "redis.example.com:6379", tls: true},
		{name: "redis:// ignores REDIS_TLS_SKIP_VERIFY", env: map[string]string{"REDIS_URL": "redis://redis", "REDIS_TLS_SKIP_VERIFY": "1"}, addr: "redis:6379", skip: true},
		{name: "IPv6", env: map[string]string{"REDIS_URL": "redis://[::1]:6390/3"}, addr: "[::1]:6390", db: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, withDB(tt.env))
			o := c.Redis.Options()
			if o.Addr != tt.addr || o.Username != tt.user || o.Password != tt.password || o.DB != tt.db {
				t.Errorf("options = addr %s user %q db %d, want addr %s user %q db %d", o.Addr, o.Username, o.DB, tt.addr, tt.user, tt.db)
			}
			if o.Password != tt.password {
				t.Errorf("password mismatch")
			}
			if (o.TLSConfig != nil) != tt.tls {
				t.Fatalf("TLS config present = %v, want %v", o.TLSConfig != nil, tt.tls)
			}
			if o.TLSConfig != nil && o.TLSConfig.InsecureSkipVerify != tt.insecure {
				t.Errorf("InsecureSkipVerify = %v, want %v", o.TLSConfig.InsecureSkipVerify, tt.insecure)
			}
			if c.Redis.SkipVerify != tt.skip {
				t.Errorf("SkipVerify = %v, want %v", c.Redis.SkipVerify, tt.skip)
			}
		})
	}
}

func TestRedisOptionsIsACopy(t *testing.T) {
	c := mustLoad(t, withDB(map[string]string{"REDIS_URL": "rediss://:pass@redis:6380/1"}))
	o := c.Redis.Options()
	o.DB = 9
	o.TLSConfig.InsecureSkipVerify = true
	o.TLSConfig.ServerName = "changed"
	again := c.Redis.Options()
	if again.DB != 1 || again.TLSConfig.InsecureSkipVerify || again.TLSConfig.ServerName == "changed" {
		t.Errorf("changing one Options() result changed the next: db %d, insecure %v, server %q",
			again.DB, again.TLSConfig.InsecureSkipVerify, again.TLSConfig.ServerName)
	}
}

func TestCacheRedis(t *testing.T) {
	t.Run("defaults to REDIS_URL", func(t *testing.T) {
		c := mustLoad(t, withDB(map[string]string{"REDIS_URL": "rediss://:pass@redis:6380/2", "REDIS_TLS_SKIP_VERIFY": "true"}))
		if c.CacheRedis.String() != c.Redis.String() {
			t.Errorf("CacheRedis = %s, want REDIS_URL %s", c.CacheRedis, c.Redis)
		}
		o := c.CacheRedis.Options()
		if o.Addr != "redis:6380" || o.DB != 2 || o.Password != "pass" || o.TLSConfig == nil || !o.TLSConfig.InsecureSkipVerify {
			t.Errorf("cache options = addr %s db %d tls %v", o.Addr, o.DB, o.TLSConfig)
		}
	})
	t.Run("own URL, skip-verify inherited", func(t *testing.T) {
		c := mustLoad(t, withDB(map[string]string{
			"REDIS_URL":             "redis://queue:6379/0",
			"CACHE_REDIS_URL":       "rediss://:cachepw@cache:6380/1",
			"REDIS_TLS_SKIP_VERIFY": "yes",
		}))
		o := c.CacheRedis.Options()
		if o.Addr != "cache:6380" || o.DB != 1 || o.Password != "cachepw" {
			t.Errorf("cache options = addr %s db %d", o.Addr, o.DB)
		}
		if o.TLSConfig == nil || !o.TLSConfig.InsecureSkipVerify {
			t.Errorf("cache TLS = %+v, want skip-verify", o.TLSConfig)
		}
		if q := c.Redis.Options(); q.Addr != "queue:6379" || q.TLSConfig != nil {
			t.Errorf("queue options = addr %s tls %v", q.Addr, q.TLSConfig)
		}
	})
	t.Run("same instance, another db", func(t *testing.T) {
		c := mustLoad(t, withDB(map[string]string{"REDIS_URL": "redis://redis:6379/0", "CACHE_REDIS_URL": "redis://redis:6379/1"}))
		if c.Redis.Options().DB != 0 || c.CacheRedis.Options().DB != 1 {
			t.Errorf("dbs = %d, %d, want 0, 1", c.Redis.Options().DB, c.CacheRedis.Options().DB)
		}
	})
}

func TestRedisErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		varName string
		want    []string
	}{
		{"wrong scheme", map[string]string{"REDIS_URL": "http://redis:6379/0"}, "REDIS_URL", []string{"scheme must be redis:// or rediss://", `"http"`}},
		{"unix socket not supported", map[string]string{"REDIS_URL": "unix:///tmp/redis.sock"}, "REDIS_URL", []string{"scheme"}},
		{"no scheme", map[string]string{"REDIS_URL": "redis.internal:6379"}, "REDIS_URL", []string{"scheme"}},
		{"missing host", map[string]string{"REDIS_URL": "redis://"}, "REDIS_URL", []string{"host is missing"}},
		{"missing host with password", map[string]string{"REDIS_URL": "redis://:pass@/0"}, "REDIS_URL", []string{"host is missing"}},
		{"db number not a number", map[string]string{"REDIS_URL": "redis://redis:6379/zero"}, "REDIS_URL", []string{"invalid database number"}},
		{"negative db number", map[string]string{"REDIS_URL": "redis://redis:6379/-1"}, "REDIS_URL", []string{"database number must be 0 or more"}},
		{"negative db query", map[string]string{"REDIS_URL": "redis://redis:6379?db=-2"}, "REDIS_URL", []string{"database number must be 0 or more"}},
		{"path too deep", map[string]string{"REDIS_URL": "redis://redis:6379/0/1"}, "REDIS_URL", []string{"invalid URL path"}},
		{"port out of range", map[string]string{"REDIS_URL": "redis://redis:99999999/0"}, "REDIS_URL", []string{"port must be a number between 1 and 65535"}},
		{"port zero", map[string]string{"REDIS_URL": "redis://redis:0/0"}, "REDIS_URL", []string{"port must be a number between 1 and 65535"}},
		{"port not a number", map[string]string{"REDIS_URL": "redis://redis:port/0"}, "REDIS_URL", []string{"host or port is not valid"}},
		{"unknown option", map[string]string{"REDIS_URL": "redis://redis/0?bogus=1"}, "REDIS_URL", []string{"unexpected option", "bogus"}},
		{"bad CACHE_REDIS_URL names it", map[string]string{"CACHE_REDIS_URL": "memcached://cache"}, "CACHE_REDIS_URL", []string{"scheme"}},
		{"bad REDIS_TLS_SKIP_VERIFY", map[string]string{"REDIS_TLS_SKIP_VERIFY": "sometimes"}, "REDIS_TLS_SKIP_VERIFY", []string{"true or false", `"sometimes"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := loadErr(t, withDB(tt.env))
			wantProblem(t, err, tt.varName, tt.want...)
			wantOnlyProblemsFor(t, err, tt.varName)
		})
	}
}

func TestScheduleTZ(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		errVar  string // variable the problem must name; "" for none
		errText string
	}{
		{name: "neither set is UTC", want: "UTC"},
		{name: "SCHEDULE_TZ", env: map[string]string{"SCHEDULE_TZ": "Europe/Madrid"}, want: "Europe/Madrid"},
		{name: "falls back to TZ", env: map[string]string{"TZ": "America/Mexico_City"}, want: "America/Mexico_City"},
		{name: "SCHEDULE_TZ wins over TZ", env: map[string]string{"SCHEDULE_TZ": "Europe/Madrid", "TZ": "Asia/Tokyo"}, want: "Europe/Madrid"},
		{name: "empty SCHEDULE_TZ falls back to TZ", env: map[string]string{"SCHEDULE_TZ": "", "TZ": "Asia/Tokyo"}, want: "Asia/Tokyo"},
		{name: "a bad TZ is ignored when SCHEDULE_TZ is set", env: map[string]string{"SCHEDULE_TZ": "UTC", "TZ": "Nowhere/Special"}, want: "UTC"},
		{name: "unknown SCHEDULE_TZ names SCHEDULE_TZ", env: map[string]string{"SCHEDULE_TZ": "Mars/Olympus_Mons", "TZ": "Europe/Madrid"}, errVar: "SCHEDULE_TZ", errText: `"Mars/Olympus_Mons"`},
		{name: "unknown TZ names TZ", env: map[string]string{"TZ": "Mars/Olympus_Mons"}, errVar: "TZ", errText: `"Mars/Olympus_Mons"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.errVar != "" {
				err := loadErr(t, withDB(tt.env))
				wantProblem(t, err, tt.errVar, "unknown time zone", tt.errText)
				wantOnlyProblemsFor(t, err, tt.errVar)
				return
			}
			c := mustLoad(t, withDB(tt.env))
			if got := c.ScheduleTZ.String(); got != tt.want {
				t.Errorf("ScheduleTZ = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSchedules(t *testing.T) {
	valid := []string{"0 2 * * *", "*/15 * * * 1-5", "30 2 1 * *", "0 0 * * SUN", "@daily", "@hourly", "@weekly", "@every 1s", "@every 1h30m", "  0 3 * * *  "}
	invalid := []string{"0 0 2 * * *", "0 2 * *", "garbage", "61 * * * *", "0 25 * * *", "@fortnightly", "@every", "@every soon", "* * * * * * *"}
	for _, name := range []string{"BACKUP_SCHEDULE", "CLEANUP_SCHEDULE", "HEALTH_SCHEDULE"} {
		for _, spec := range valid {
			t.Run(name+"="+spec, func(t *testing.T) {
				c := mustLoad(t, withDB(map[string]string{name: spec}))
				got := map[string]string{
					"BACKUP_SCHEDULE":  c.BackupSchedule,
					"CLEANUP_SCHEDULE": c.CleanupSchedule,
					"HEALTH_SCHEDULE":  c.HealthSchedule,
				}[name]
				if got != strings.TrimSpace(spec) {
					t.Errorf("%s = %q, want %q", name, got, strings.TrimSpace(spec))
				}
			})
		}
		for _, spec := range invalid {
			t.Run(name+"="+spec+" is rejected", func(t *testing.T) {
				err := loadErr(t, withDB(map[string]string{name: spec}))
				wantProblem(t, err, name, "invalid cron spec")
				wantOnlyProblemsFor(t, err, name)
			})
		}
	}
}

func TestIntegers(t *testing.T) {
	get := map[string]func(*Config) int{
		"PORT":                  func(c *Config) int { return c.Port },
		"CACHE_VERSION":         func(c *Config) int { return c.CacheVersion },
		"BACKUP_RETENTION_DAYS": func(c *Config) int { return c.BackupRetentionDays },
		"BACKUP_KEEP_MIN":       func(c *Config) int { return c.BackupKeepMin },
		"EMAIL_PORT":            func(c *Config) int { return c.Email.Port },
		"WORKER_CONCURRENCY":    func(c *Config) int { return c.WorkerConcurrency },
		"DB_PORT":               func(c *Config) int { return c.DB.Port },
		"LOG_MAX_SIZE_MB":       func(c *Config) int { return c.LogFile.MaxSizeMB },
		"LOG_MAX_BACKUPS":       func(c *Config) int { return c.LogFile.MaxBackups },
		"LOG_MAX_AGE_DAYS":      func(c *Config) int { return c.LogFile.MaxAgeDays },
	}
	tests := []struct {
		name, value string
		want        int
		err         string // "" = valid
	}{
		{"PORT", "9000", 9000, ""},
		{"PORT", " 9000 ", 9000, ""},
		{"PORT", "1", 1, ""},
		{"PORT", "65535", 65535, ""},
		{"PORT", "0", 0, "between 1 and 65535"},
		{"PORT", "65536", 0, "between 1 and 65535"},
		{"PORT", "-80", 0, "between 1 and 65535"},
		{"PORT", "80a", 0, "whole number"},
		{"PORT", "8080.5", 0, "whole number"},
		{"PORT", "99999999999999999999", 0, "whole number"},
		{"CACHE_VERSION", "0", 0, ""},
		{"CACHE_VERSION", "7", 7, ""},
		{"CACHE_VERSION", "-1", 0, "between 0 and"},
		{"BACKUP_RETENTION_DAYS", "1", 1, ""},
		{"BACKUP_RETENTION_DAYS", "0", 0, "between 1 and 36500"},
		{"BACKUP_RETENTION_DAYS", "36501", 0, "between 1 and 36500"},
		{"BACKUP_KEEP_MIN", "1", 1, ""},
		{"BACKUP_KEEP_MIN", "0", 0, "between 1 and 10000"},
		{"EMAIL_PORT", "465", 465, ""},
		{"EMAIL_PORT", "smtp", 0, "whole number"},
		{"WORKER_CONCURRENCY", "1", 1, ""},
		{"WORKER_CONCURRENCY", "1000", 1000, ""},
		{"WORKER_CONCURRENCY", "0", 0, "between 1 and 1000"},
		{"WORKER_CONCURRENCY", "1001", 0, "between 1 and 1000"},
		{"WORKER_CONCURRENCY", "four", 0, "whole number"},
		{"LOG_MAX_SIZE_MB", "1", 1, ""},
		{"LOG_MAX_SIZE_MB", "100", 100, ""},
		{"LOG_MAX_SIZE_MB", "0", 0, "between 1 and"},
		{"LOG_MAX_SIZE_MB", "-5", 0, "between 1 and"},
		{"LOG_MAX_SIZE_MB", "10MB", 0, "whole number"},
		{"LOG_MAX_SIZE_MB", "1.5", 0, "whole number"},
		{"LOG_MAX_BACKUPS", "1", 1, ""},
		{"LOG_MAX_BACKUPS", "0", 0, "between 1 and 10000"},
		{"LOG_MAX_BACKUPS", "many", 0, "whole number"},
		{"LOG_MAX_AGE_DAYS", "0", 0, ""},
		{"LOG_MAX_AGE_DAYS", "30", 30, ""},
		{"LOG_MAX_AGE_DAYS", "-1", 0, "between 0 and 36500"},
		{"LOG_MAX_AGE_DAYS", "30d", 0, "whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			env := withDB(map[string]string{tt.name: tt.value})
			if tt.err != "" {
				err := loadErr(t, env)
				wantProblem(t, err, tt.name, tt.err)
				wantOnlyProblemsFor(t, err, tt.name)
				return
			}
			if got := get[tt.name](mustLoad(t, env)); got != tt.want {
				t.Errorf("%s = %d, want %d", tt.name, got, tt.want)
			}
		})
	}
}

func TestBooleans(t *testing.T) {
	tests := []struct {
		value string
		want  bool
		ok    bool
	}{
		{"true", true, true}, {"TRUE", true, true}, {"1", true, true}, {"yes", true, true},
		{"on", true, true}, {"t", true, true}, {"Y", true, true},
		{"false", false, true}, {"False", false, true}, {"0", false, true}, {"no", false, true},
		{"off", false, true}, {"f", false, true}, {"N", false, true},
		{"", false, true}, // unset: the default
		{"maybe", false, false}, {"2", false, false}, {"enabled", false, false},
	}
	for _, tt := range tests {
		t.Run("REDIS_TLS_SKIP_VERIFY="+tt.value, func(t *testing.T) {
			env := withDB(map[string]string{"REDIS_TLS_SKIP_VERIFY": tt.value})
			if !tt.ok {
				err := loadErr(t, env)
				wantProblem(t, err, "REDIS_TLS_SKIP_VERIFY", "must be true or false")
				return
			}
			if got := mustLoad(t, env).Redis.SkipVerify; got != tt.want {
				t.Errorf("SkipVerify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWorkerShutdownTimeout(t *testing.T) {
	tests := []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"", 20 * time.Second, true},
		{"5s", 5 * time.Second, true},
		{"1m30s", 90 * time.Second, true},
		{"250ms", 250 * time.Millisecond, true},
		{"0s", 0, false},
		{"-5s", 0, false},
		{"20", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			env := withDB(map[string]string{"WORKER_SHUTDOWN_TIMEOUT": tt.value})
			if !tt.ok {
				err := loadErr(t, env)
				wantProblem(t, err, "WORKER_SHUTDOWN_TIMEOUT", "positive duration", `"`+tt.value+`"`)
				return
			}
			if got := mustLoad(t, env).WorkerShutdownTimeout; got != tt.want {
				t.Errorf("WorkerShutdownTimeout = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestLogSettings(t *testing.T) {
	levels := []struct {
		value string
		want  slog.Level
		ok    bool
	}{
		{"", slog.LevelInfo, true},
		{"debug", slog.LevelDebug, true},
		{"DEBUG", slog.LevelDebug, true},
		{"info", slog.LevelInfo, true},
		{"warn", slog.LevelWarn, true},
		{"error", slog.LevelError, true},
		{"loud", 0, false},
		{"verbose", 0, false},
	}
	for _, tt := range levels {
		t.Run("LOG_LEVEL="+tt.value, func(t *testing.T) {
			env := withDB(map[string]string{"LOG_LEVEL": tt.value})
			if !tt.ok {
				err := loadErr(t, env)
				wantProblem(t, err, "LOG_LEVEL", "debug, info, warn or error")
				return
			}
			if got := mustLoad(t, env).LogLevel; got != tt.want {
				t.Errorf("LogLevel = %v, want %v", got, tt.want)
			}
		})
	}
	formats := []struct {
		value, want string
		ok          bool
	}{
		{"", "", true},
		{"json", "json", true},
		{"text", "text", true},
		{"TEXT", "text", true},
		{"xml", "", false},
		{"logfmt", "", false},
	}
	for _, tt := range formats {
		t.Run("LOG_FORMAT="+tt.value, func(t *testing.T) {
			env := withDB(map[string]string{"LOG_FORMAT": tt.value})
			if !tt.ok {
				err := loadErr(t, env)
				wantProblem(t, err, "LOG_FORMAT", "json or text")
				return
			}
			if got := mustLoad(t, env).LogFormat; got != tt.want {
				t.Errorf("LogFormat = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLogFile: LOG_FILE is kept as given (trimmed); one ending in a path
// separator names a directory and is refused. Whether the file can be
// written is logging.OpenFile's check, at start-up.
func TestLogFile(t *testing.T) {
	tests := []struct {
		value, want string
		err         bool
	}{
		{"", "", false},
		{"/var/log/cantina-ops/worker.log", "/var/log/cantina-ops/worker.log", false},
		{" logs/cantina.log ", "logs/cantina.log", false},
		{"/var/log/cantina-ops/", "", true},
	}
	for _, tt := range tests {
		t.Run("LOG_FILE="+tt.value, func(t *testing.T) {
			env := withDB(map[string]string{"LOG_FILE": tt.value})
			if tt.err {
				err := loadErr(t, env)
				wantProblem(t, err, "LOG_FILE", "must name a file")
				wantOnlyProblemsFor(t, err, "LOG_FILE")
				return
			}
			if got := mustLoad(t, env).LogFile.Path; got != tt.want {
				t.Errorf("LogFile.Path = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	c := mustLoad(t, withDB(map[string]string{
		"BACKUP_DIR":       " /var/backups/pos ",
		"CACHE_KEY_PREFIX": "cantina",
		"CACHE_VERSION":    "2",
	}))
	if c.BackupDir != "/var/backups/pos" || c.CacheKeyPrefix != "cantina" || c.CacheVersion != 2 {
		t.Errorf("BackupDir %q, CacheKeyPrefix %q, CacheVersion %d", c.BackupDir, c.CacheKeyPrefix, c.CacheVersion)
	}
}

func TestEmail(t *testing.T) {
	smtp := map[string]string{
		"EMAIL_HOST":          "smtp.example.com",
		"EMAIL_HOST_USER":     "ops@example.com",
		"EMAIL_HOST_PASSWORD": "mailpw",
		"NOTIFY_EMAILS":       "admin@example.com",
	}
	with := func(over map[string]string) map[string]string {
		env := withDB(smtp)
		for k, v := range over {
			env[k] = v
		}
		return env
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    Email
		enabled bool
	}{
		{
			name:    "Django-style settings",
			env:     with(nil),
			want:    Email{Host: "smtp.example.com", Port: 587, UseTLS: true, User: "ops@example.com", Password: "mailpw", From: "ops@example.com", To: []string{"admin@example.com"}},
			enabled: true,
		},
		{
			name:    "EMAIL_FROM overrides EMAIL_HOST_USER",
			env:     with(map[string]string{"EMAIL_FROM": "cantina@school.example"}),
			want:    Email{Host: "smtp.example.com", Port: 587, UseTLS: true, User: "ops@example.com", Password: "mailpw", From: "cantina@school.example", To: []string{"admin@example.com"}},
			enabled: true,
		},
		{
			name:    "EMAIL_FROM needed when the SMTP user is not an address",
			env:     with(map[string]string{"EMAIL_HOST_USER": "apikey", "EMAIL_FROM": "cantina@school.example"}),
			want:    Email{Host: "smtp.example.com", Port: 587, UseTLS: true, User: "apikey", Password: "mailpw", From: "cantina@school.example", To: []string{"admin@example.com"}},
			enabled: true,
		},
		{
			name:    "NOTIFY_EMAILS list with spaces and empty items",
			env:     with(map[string]string{"NOTIFY_EMAILS": " a@example.com, b@example.org ,,c.d+ops@sub.example.net, "}),
			want:    Email{Host: "smtp.example.com", Port: 587, UseTLS: true, User: "ops@example.com", Password: "mailpw", From: "ops@example.com", To: []string{"a@example.com", "b@example.org", "c.d+ops@sub.example.net"}},
			enabled: true,
		},
		{
			name: "EMAIL_USE_SSL=true alone turns the TLS default off",
			env:  with(map[string]string{"EMAIL_USE_SSL": "true", "EMAIL_PORT": "465"}),
			want: Email{Host: "smtp.example.com", Port: 465, UseTLS: false, UseSSL: true, User: "ops@example.com", Password: "mailpw", From: "ops@example.com", To: []string{"admin@example.com"}},

			enabled: true,
		},
		{
			name:    "EMAIL_USE_SSL=true with an empty EMAIL_USE_TLS",
			env:     with(map[string]string{"EMAIL_USE_SSL": "true", "EMAIL_USE_TLS": ""}),
			want:    Email{Host: "smtp.example.com", Port: 587, UseTLS: false, UseSSL: true, User: "ops@example.com", Password: "mailpw", From: "ops@example.com", To: []string{"admin@example.com"}},
			enabled: true,
		},
		{
			name:    "EMAIL_USE_SSL=true with EMAIL_USE_TLS=false",
			env:     with(map[string]string{"EMAIL_USE_SSL": "1", "EMAIL_USE_TLS": "false"}),
			want:    Email{Host: "smtp.example.com", Port: 587, UseTLS: false, UseSSL: true, User: "ops@example.com", Password: "mailpw", From: "ops@example.com", To: []string{"admin@example.com"}},
			enabled: true,
		},
		{
			name:    "plain SMTP",
			env:     with(map[string]string{"EMAIL_USE_TLS": "false", "EMAIL_PORT": "25", "EMAIL_HOST_USER": "", "EMAIL_HOST_PASSWORD": "", "EMAIL_FROM": "cantina@school.example"}),
			want:    Email{Host: "smtp.example.com", Port: 25, From: "cantina@school.example", To: []string{"admin@example.com"}},
			enabled: true,
		},
		{
			name: "no NOTIFY_EMAILS: configured but not enabled",
			env:  with(map[string]string{"NOTIFY_EMAILS": ""}),
			want: Email{Host: "smtp.example.com", Port: 587, UseTLS: true, User: "ops@example.com", Password: "mailpw", From: "ops@example.com"},
		},
		{
			name: "no EMAIL_HOST: not enabled",
			env:  withDB(map[string]string{"NOTIFY_EMAILS": "admin@example.com"}),
			want: Email{Port: 587, UseTLS: true, To: []string{"admin@example.com"}},
		},
		{
			name: "a non-address SMTP user without notifications is fine",
			env:  withDB(map[string]string{"EMAIL_HOST_USER": "apikey"}),
			want: Email{Port: 587, UseTLS: true, User: "apikey"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustLoad(t, tt.env).Email
			if got.Host != tt.want.Host || got.Port != tt.want.Port || got.UseTLS != tt.want.UseTLS ||
				got.UseSSL != tt.want.UseSSL || got.User != tt.want.User || got.From != tt.want.From {
				t.Errorf("Email = %+v\nwant    %+v", got, tt.want)
			}
			if got.Password.Reveal() != tt.want.Password.Reveal() {
				t.Errorf("Password = %q, want %q", got.Password.Reveal(), tt.want.Password.Reveal())
			}
			if !slices.Equal(got.To, tt.want.To) {
				t.Errorf("To = %q, want %q", got.To, tt.want.To)
			}
			if got.Enabled() != tt.enabled {
				t.Errorf("Enabled() = %v, want %v", got.Enabled(), tt.enabled)
			}
		})
	}
}

func TestEmailErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		varName string
		want    []string
	}{
		{
			name:    "EMAIL_USE_TLS and EMAIL_USE_SSL both true",
			env:     map[string]string{"EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "true"},
			varName: "EMAIL_USE_SSL",
			want:    []string{"mutually exclusive", "EMAIL_USE_TLS"},
		},
		{
			name:    "both true, other spellings",
			env:     map[string]string{"EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "yes"},
			varName: "EMAIL_USE_SSL",
			want:    []string{"mutually exclusive"},
		},
		{
			name:    "bad NOTIFY_EMAILS entry",
			env:     map[string]string{"NOTIFY_EMAILS": "admin@example.com,not-an-address"},
			varName: "NOTIFY_EMAILS",
			want:    []string{`"not-an-address"`, "not an email address"},
		},
		{
			name:    "NOTIFY_EMAILS with a display name",
			env:     map[string]string{"NOTIFY_EMAILS": "Admin <admin@example.com>"},
			varName: "NOTIFY_EMAILS",
			want:    []string{"not an email address"},
		},
		{
			name:    "NOTIFY_EMAILS separated by semicolons",
			env:     map[string]string{"NOTIFY_EMAILS": "a@example.com;b@example.com"},
			varName: "NOTIFY_EMAILS",
			want:    []string{"not an email address"},
		},
		{
			name:    "bad EMAIL_FROM",
			env:     map[string]string{"EMAIL_FROM": "cantina"},
			varName: "EMAIL_FROM",
			want:    []string{`"cantina"`, "not an email address"},
		},
		{
			name:    "notifications without a sender",
			env:     map[string]string{"EMAIL_HOST": "smtp.example.com", "NOTIFY_EMAILS": "admin@example.com"},
			varName: "EMAIL_FROM",
			want:    []string{"set EMAIL_FROM (or EMAIL_HOST_USER)"},
		},
		{
			name:    "notifications with a non-address SMTP user and no EMAIL_FROM",
			env:     map[string]string{"EMAIL_HOST": "smtp.sendgrid.net", "EMAIL_HOST_USER": "apikey", "NOTIFY_EMAILS": "admin@example.com"},
			varName: "EMAIL_FROM",
			want:    []string{"set EMAIL_FROM", `EMAIL_HOST_USER "apikey"`},
		},
		{
			name:    "bad EMAIL_USE_TLS",
			env:     map[string]string{"EMAIL_USE_TLS": "starttls"},
			varName: "EMAIL_USE_TLS",
			want:    []string{"true or false"},
		},
		{
			name:    "bad EMAIL_USE_SSL",
			env:     map[string]string{"EMAIL_USE_SSL": "ssl"},
			varName: "EMAIL_USE_SSL",
			want:    []string{"true or false"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := loadErr(t, withDB(tt.env))
			wantProblem(t, err, tt.varName, tt.want...)
			wantOnlyProblemsFor(t, err, tt.varName)
		})
	}
}

func TestConsoleCredentials(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		errVar  string
		errText string
	}{
		{name: "neither"},
		{name: "both", env: map[string]string{"CONSOLE_USER": "ops", "CONSOLE_PASSWORD": "consolepw"}},
		{name: "user only", env: map[string]string{"CONSOLE_USER": "ops"}, errVar: "CONSOLE_PASSWORD", errText: "CONSOLE_USER and CONSOLE_PASSWORD must be set together"},
		{name: "password only", env: map[string]string{"CONSOLE_PASSWORD": "consolepw"}, errVar: "CONSOLE_USER", errText: "CONSOLE_USER and CONSOLE_PASSWORD must be set together"},
		{name: "blank password counts as missing", env: map[string]string{"CONSOLE_USER": "ops", "CONSOLE_PASSWORD": "   "}, errVar: "CONSOLE_PASSWORD", errText: "must be set together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := withDB(tt.env)
			if tt.errVar != "" {
				err := loadErr(t, env)
				wantProblem(t, err, tt.errVar, tt.errText)
				wantOnlyProblemsFor(t, err, tt.errVar)
				return
			}
			c := mustLoad(t, env)
			if c.ConsoleUser != tt.env["CONSOLE_USER"] || c.ConsolePassword.Reveal() != tt.env["CONSOLE_PASSWORD"] {
				t.Errorf("console = %q/%q", c.ConsoleUser, c.ConsolePassword.Reveal())
			}
		})
	}
}

// TestAllProblemsAtOnce is the administrator's view: one broken environment,
// one error that lists every mistake, each under its variable's name.
func TestAllProblemsAtOnce(t *testing.T) {
	env := map[string]string{
		"REDIS_URL":               "http://redis:6379/0",
		"DATABASE_URL":            "mysql://pos:pass@db:3306/pos?bogus=1",
		"PORT":                    "http",
		"SCHEDULE_TZ":             "Mars/Olympus_Mons",
		"BACKUP_SCHEDULE":         "0 0 2 * * *",
		"HEALTH_SCHEDULE":         "every hour",
		"BACKUP_RETENTION_DAYS":   "0",
		"WORKER_CONCURRENCY":      "-3",
		"WORKER_SHUTDOWN_TIMEOUT": "forever",
		"LOG_LEVEL":               "chatty",
		"LOG_FORMAT":              "xml",
		"LOG_MAX_SIZE_MB":         "0",
		"EMAIL_USE_TLS":           "true",
		"EMAIL_USE_SSL":           "true",
		"NOTIFY_EMAILS":           "admin-at-example.com",
		"CONSOLE_USER":            "ops",
	}
	want := []string{
		"REDIS_URL", "DATABASE_URL", "PORT", "SCHEDULE_TZ", "BACKUP_SCHEDULE", "HEALTH_SCHEDULE",
		"BACKUP_RETENTION_DAYS", "WORKER_CONCURRENCY", "WORKER_SHUTDOWN_TIMEOUT", "LOG_LEVEL",
		"LOG_FORMAT", "LOG_MAX_SIZE_MB", "EMAIL_USE_SSL", "NOTIFY_EMAILS", "CONSOLE_PASSWORD",
	}
	err := loadErr(t, env)
	for _, name := range want {
		t.Run(name, func(t *testing.T) {
			wantProblem(t, err, name)
		})
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Fatalf("error %T does not unwrap to a list", err)
	}
	if got := len(joined.Unwrap()); got != len(want) {
		t.Errorf("%d problems, want one per mistake (%d):\n%v", got, len(want), err)
	}
	wantOnlyProblemsFor(t, err, want...)
}
