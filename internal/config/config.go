// Package config reads cantina-ops' configuration from the environment (and
// a .env file) once, validates all of it, and hands one Config struct down to
// every process. Validation never stops at the first problem: Load returns
// every problem found, each naming its variable, so an administrator fixes
// them in one go. Secrets are held as Secret values that print redacted.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/joho/godotenv"
	"github.com/redis/go-redis/v9"
	"github.com/robfig/cron/v3"
)

// Lookup returns the value of an environment variable and whether it is set.
type Lookup func(key string) (string, bool)

// Config is the whole effective configuration.
type Config struct {
	Redis      Redis
	CacheRedis Redis
	// CacheRedisCluster: CACHE_REDIS_URL names one node of a Redis Cluster
	// (CACHE_REDIS_CLUSTER); the client finds the others.
	CacheRedisCluster bool
	// CacheKeyPrefix and CacheVersion are the POS's Django KEY_PREFIX and VERSION.
	CacheKeyPrefix string
	CacheVersion   int
	// CacheTTLs is the TTL policy per kind of cache key (CACHE_TTLS) and
	// CacheAuditSchedule when cache:audit checks the keyspace against it.
	CacheTTLs          CacheTTLs
	CacheAuditSchedule string
	// CachePoll is how often the worker looks for new cache:invalidate
	// tasks when their queue is empty (CACHE_INVALIDATE_POLL).
	CachePoll time.Duration

	DB DB

	BackupDir string
	// BackupStorage are the destinations of every backup (BACKUP_STORAGE;
	// default: BACKUP_DIR alone), in order: the first that has a backup is
	// where verify and restore read it by default.
	BackupStorage []Destination
	// S3 reaches the s3:// destinations.
	S3                  S3
	BackupSchedule      string
	BackupRetentionDays int
	BackupKeepMin       int
	CleanupSchedule     string
	// BackupEngine is "native" (Go, no binary needed) or "mysqldump".
	BackupEngine string
	// BackupTimeout bounds one backup:run attempt.
	BackupTimeout time.Duration
	// BackupGzipLevel is the gzip level of new backups (1 fastest – 9 smallest).
	BackupGzipLevel int
	// BackupNotify is when a backup emails: "failure", "always" or "never".
	BackupNotify         string
	BackupVerifySchedule string
	// BackupDefiners is "keep" (dumps carry each view's, trigger's,
	// routine's and event's DEFINER, as mysqldump writes them) or "strip"
	// (dumps meant for servers where the restoring account has no SUPER).
	BackupDefiners string
	// BackupAge is the age encryption of backups (BACKUP_AGE_RECIPIENTS,
	// BACKUP_AGE_IDENTITY_FILE; see age.go).
	BackupAge BackupAge
	// RestoreThreads is how many connections `backup restore` and the
	// restore drill load tables with (1: one, in order). Default: the
	// number of CPU cores, at least 2.
	RestoreThreads int

	HealthSchedule string
	// HealthTimeout bounds each check of the health command and task.
	HealthTimeout time.Duration
	// Health holds the health checks' thresholds and the alerting.
	Health Health
	// BackupCatchUp is how far back a missed backup slot is still made up
	// for by one catch-up backup (BACKUP_CATCHUP); 0 ("off") makes up none.
	BackupCatchUp time.Duration
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken Secret
	// PrometheusURL is a Prometheus server whose charts the console shows.
	PrometheusURL string
	// ScheduleTZ is the time zone every cron spec is read in.
	ScheduleTZ *time.Location

	Email Email
	// NotifyLang is the language of notification emails: "es" or "en".
	NotifyLang string

	Port int
	// PublicURL is where operators reach the web process; links in emails
	// point there.
	PublicURL string

	WorkerConcurrency     int
	WorkerShutdownTimeout time.Duration

	ConsoleUser     string
	ConsolePassword Secret
	// Console are the console's accounts and session timeouts
	// (CONSOLE_USERS, CONSOLE_USER, CONSOLE_IDLE_TIMEOUT; see console.go).
	Console Console

	// APITokens are the callers of the HTTP API (API_TOKENS); none: the
	// API answers 403.
	APITokens []APIToken

	// RateLimit is the rate limiting (RATE_LIMIT_*, TRUSTED_PROXIES,
	// POS_SESSION_COOKIE; see ratelimit.go).
	RateLimit RateLimit

	// POSUpstream is the POS that the web process fronts as a gateway
	// (POS_UPSTREAM_URL); nil serves only our own routes.
	POSUpstream *url.URL

	LogLevel  slog.Level
	LogFormat string // "json" or "text"; "" means json, or text on a TTY
	// LogFile, when set, receives every log line too (LOG_FILE), rotated
	// by size; LogFile's checks and the rotation live in internal/logging.
	LogFile LogFile
}

// LogFile is the log file and its rotation: the live file is rotated when
// a line would take it past MaxSizeMB; rotated files are gzipped, and the
// oldest removed past MaxBackups files or MaxAgeDays days (0: no age limit).
type LogFile struct {
	Path       string // LOG_FILE; "" = no file, the log stream only
	MaxSizeMB  int    // LOG_MAX_SIZE_MB
	MaxBackups int    // LOG_MAX_BACKUPS
	MaxAgeDays int    // LOG_MAX_AGE_DAYS
}

// Health is what the health checks compare with and how they alert.
// Percentages are of the resource used: warn at or above Warn, fail at or
// above Fail.
type Health struct {
	DiskWarn, DiskFail     int // HEALTH_DISK_WARN / _FAIL, % of BACKUP_DIR's filesystem
	MemoryWarn, MemoryFail int // HEALTH_MEMORY_WARN / _FAIL, % of system memory
	CPUWarn, CPUFail       int // HEALTH_CPU_WARN / _FAIL, % of all cores
	// BackupMaxAge: the newest verified backup older than this fails.
	BackupMaxAge time.Duration
	// RTOWarn: the last restore drill took longer than this to load: warn
	// (HEALTH_RTO_WARN).
	RTOWarn time.Duration
	// QueueLatencyWarn: a queue whose oldest pending task waited longer warns.
	QueueLatencyWarn time.Duration
	// CacheTTL is how long one round of checks serves /health/.
	CacheTTL time.Duration
	// AlertRepeat is how often a check that stays warn or fail is
	// reminded by email.
	AlertRepeat time.Duration
}

// Redis is a parsed Redis URL.
type Redis struct {
	URL           *url.URL
	SkipVerify    bool
	clientOptions *redis.Options
}

// Options returns a fresh copy of the go-redis options, TLS settings applied.
func (r Redis) Options() *redis.Options {
	o := *r.clientOptions
	if o.TLSConfig != nil {
		o.TLSConfig = o.TLSConfig.Clone()
	}
	return &o
}

// String is the URL with its password redacted.
func (r Redis) String() string {
	if r.URL == nil {
		return ""
	}
	return r.URL.Redacted()
}

// MarshalText makes JSON (and slog's JSON handler) show the redacted URL
// instead of url.URL's fields, which would carry the password the day
// url.URL learns to marshal itself.
func (r Redis) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Email is the SMTP and recipient configuration (Django's variable names).
type Email struct {
	Host     string
	Port     int
	UseTLS   bool
	UseSSL   bool
	User     string
	Password Secret
	From     string
	To       []string
}

// Enabled reports whether notifications can be sent at all.
func (e Email) Enabled() bool { return e.Host != "" && len(e.To) > 0 }

// Defaults, exported for the README table and tests.
const (
	DefaultRedisURL  = "redis://127.0.0.1:6379/0"
	DefaultBackupDir = "./backups"
	// DefaultCachePoll: an invalidation picked up within a few ms, for
	// about 550 Redis commands/s and 5 % of a core while idle.
	DefaultCachePoll       = 5 * time.Millisecond
	DefaultBackupSchedule  = "0 2 * * *"
	DefaultCleanupSchedule = "30 2 * * *"
	DefaultHealthSchedule  = "0 * * * *"
	DefaultVerifySchedule  = "0 4 * * 0"
)

// Environment returns a Lookup over the process environment and, when
// present, the .env file at path: the real environment wins over the file.
// A missing file is not an error; an unreadable or malformed one is.
func Environment(path string) (Lookup, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		data = nil
	} else if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	file, err := godotenv.UnmarshalBytes(data)
	if err != nil {
		// godotenv's message quotes the file from the bad line on, secrets
		// included: name the line instead.
		return nil, fmt.Errorf("read %s: line %d is not NAME=value (quote values that contain spaces, # or quotes, and close every quote): %w",
			path, badDotenvLine(data), ErrMalformedEnvFile)
	}
	return func(key string) (string, bool) {
		if v, ok := os.LookupEnv(key); ok {
			return v, true
		}
		v, ok := file[key]
		return v, ok
	}, nil
}

// ErrMalformedEnvFile is wrapped by Environment when the .env file cannot be parsed.
var ErrMalformedEnvFile = errors.New("malformed .env file")

// badDotenvLine returns the 1-based line where the first unparsable
// statement of a .env file starts: one past the longest run of leading lines
// that parses on its own.
func badDotenvLine(data []byte) int {
	lines := strings.SplitAfter(string(data), "\n")
	for n := len(lines); n > 0; n-- {
		if _, err := godotenv.Unmarshal(strings.Join(lines[:n], "")); err == nil {
			return n + 1
		}
	}
	return 1
}

// Load reads and validates the configuration. On failure it returns a
// non-nil error listing every problem (errors.Join of one error per problem).
func Load(lookup Lookup) (*Config, error) {
	p := &parser{lookup: lookup}
	c := &Config{}

	c.Redis = p.redis("REDIS_URL", p.str("REDIS_URL", DefaultRedisURL), p.boolean("REDIS_TLS_SKIP_VERIFY", false))
	if v := p.str("CACHE_REDIS_URL", ""); v != "" {
		c.CacheRedis = p.redis("CACHE_REDIS_URL", v, c.Redis.SkipVerify)
	} else {
		c.CacheRedis = c.Redis
	}
	c.CacheRedisCluster = p.boolean("CACHE_REDIS_CLUSTER", false)
	if c.CacheRedisCluster {
		switch {
		case c.CacheRedis.String() == c.Redis.String():
			p.fail("CACHE_REDIS_CLUSTER", "needs CACHE_REDIS_URL set to a node of the cluster (the queue's Redis is a single server)")
		case c.CacheRedis.URL != nil && c.CacheRedis.Options().DB != 0:
			p.fail("CACHE_REDIS_CLUSTER", "a Redis Cluster has database 0 only: end CACHE_REDIS_URL with /0")
		}
	}

	c.CacheKeyPrefix = p.str("CACHE_KEY_PREFIX", "")
	c.CacheVersion = p.integer("CACHE_VERSION", 1, 0, 1<<31-1)
	c.CacheTTLs = p.cacheTTLs()
	c.CachePoll = p.duration("CACHE_INVALIDATE_POLL", DefaultCachePoll)
	if c.CachePoll < time.Millisecond || c.CachePoll > time.Second {
		p.fail("CACHE_INVALIDATE_POLL", "must be between 1ms and 1s, not %s", c.CachePoll)
	}

	c.DB = p.database()

	c.BackupDir = p.str("BACKUP_DIR", DefaultBackupDir)
	c.BackupStorage, c.S3 = p.storage(c.BackupDir)
	c.BackupDir = p.backupDir(c.BackupDir, c.BackupStorage)
	c.BackupRetentionDays = p.integer("BACKUP_RETENTION_DAYS", 30, 1, 36500)
	c.BackupKeepMin = p.integer("BACKUP_KEEP_MIN", 7, 1, 10000)

	tzName := p.str("SCHEDULE_TZ", "")
	tzVar := "SCHEDULE_TZ"
	if tzName == "" {
		tzName, tzVar = p.str("TZ", "UTC"), "TZ"
	}
	loc, err := time.LoadLocation(tzName)
	if err != nil {
		p.fail(tzVar, "unknown time zone %q (use an IANA name such as Europe/Madrid)", tzName)
		loc = time.UTC
	}
	c.ScheduleTZ = loc
	c.BackupSchedule = p.schedule("BACKUP_SCHEDULE", DefaultBackupSchedule)
	c.CleanupSchedule = p.schedule("CLEANUP_SCHEDULE", DefaultCleanupSchedule)
	c.HealthSchedule = p.schedule("HEALTH_SCHEDULE", DefaultHealthSchedule)
	c.CacheAuditSchedule = p.schedule("CACHE_AUDIT_SCHEDULE", DefaultCacheAuditSchedule)
	c.BackupVerifySchedule = DefaultVerifySchedule
	if v := p.str("BACKUP_VERIFY_SCHEDULE", ""); strings.EqualFold(v, ScheduleOff) {
		c.BackupVerifySchedule = ScheduleOff // a worker without the age identity cannot drill
	} else {
		c.BackupVerifySchedule = p.schedule("BACKUP_VERIFY_SCHEDULE", DefaultVerifySchedule)
	}
	c.HealthTimeout = p.duration("HEALTH_TIMEOUT", 5*time.Second)
	c.Health = p.health()
	c.BackupCatchUp = p.durationOrOff("BACKUP_CATCHUP", 12*time.Hour)
	c.MetricsToken = Secret(p.str("METRICS_TOKEN", ""))
	p.password("METRICS_TOKEN", c.MetricsToken, "choose a longer one")
	c.PrometheusURL = strings.TrimRight(p.str("PROMETHEUS_URL", ""), "/")
	if c.PrometheusURL != "" {
		if u, err := url.Parse(c.PrometheusURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.fail("PROMETHEUS_URL", "must be an http:// or https:// URL of a Prometheus server, e.g. http://prometheus:9090")
		}
	}
	c.BackupEngine = p.oneOf("BACKUP_ENGINE", "native", "native", "mysqldump")
	c.BackupTimeout = p.duration("BACKUP_TIMEOUT", time.Hour)
	c.BackupGzipLevel = p.integer("BACKUP_GZIP_LEVEL", 6, 1, 9)
	c.BackupNotify = p.oneOf("BACKUP_NOTIFY", "failure", "failure", "always", "never")
	c.BackupDefiners = p.oneOf("BACKUP_DEFINERS", "keep", "keep", "strip")
	if c.BackupDefiners == "strip" && c.BackupEngine == "mysqldump" {
		p.fail("BACKUP_DEFINERS", "strip works only with BACKUP_ENGINE=native (mysqldump always writes definers; `backup restore` rewrites them for an account without SUPER)")
	}
	c.BackupAge = p.backupAge()
	c.RestoreThreads = p.integer("RESTORE_THREADS", DefaultRestoreThreads(), 1, 64)

	c.Email = p.email()
	c.NotifyLang = p.oneOf("NOTIFY_LANG", "es", "es", "en")

	c.Port = p.integer("PORT", 8080, 1, 65535)
	c.PublicURL = strings.TrimRight(p.str("PUBLIC_URL", "http://localhost:"+strconv.Itoa(c.Port)), "/")
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.fail("PUBLIC_URL", "must be an http:// or https:// URL such as https://ops.example.org")
	}
	c.WorkerConcurrency = p.integer("WORKER_CONCURRENCY", 4, 1, 1000)
	c.WorkerShutdownTimeout = p.duration("WORKER_SHUTDOWN_TIMEOUT", 20*time.Second)

	c.ConsoleUser = p.str("CONSOLE_USER", "")
	c.ConsolePassword = Secret(p.str("CONSOLE_PASSWORD", ""))
	p.password("CONSOLE_PASSWORD", c.ConsolePassword, "choose a longer one")
	switch {
	case c.ConsoleUser != "" && c.ConsolePassword == "":
		p.fail("CONSOLE_PASSWORD", "CONSOLE_USER and CONSOLE_PASSWORD must be set together; CONSOLE_PASSWORD is missing")
	case c.ConsoleUser == "" && c.ConsolePassword != "":
		p.fail("CONSOLE_USER", "CONSOLE_USER and CONSOLE_PASSWORD must be set together; CONSOLE_USER is missing")
	}
	c.Console = p.console(c.ConsoleUser, c.ConsolePassword)

	c.APITokens = p.apiTokens()
	c.RateLimit = p.rateLimit()
	c.POSUpstream = p.posUpstream()

	c.LogLevel = p.logLevel("LOG_LEVEL")
	switch f := strings.ToLower(p.str("LOG_FORMAT", "")); f {
	case "", "json", "text":
		c.LogFormat = f
	default:
		p.fail("LOG_FORMAT", "must be json or text, not %q", f)
	}
	c.LogFile = p.logFile()

	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return c, nil
}

// parser reads variables and collects every problem instead of stopping.
type parser struct {
	lookup Lookup
	errs   []error
}

func (p *parser) fail(name, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

// str returns the trimmed value of name, or def when unset or empty.
func (p *parser) str(name, def string) string {
	v, ok := p.lookup(name)
	v = strings.TrimSpace(v)
	if !ok || v == "" {
		return def
	}
	return v
}

func (p *parser) integer(name string, def, minimum, maximum int) int {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		p.fail(name, "must be a whole number, not %q", v)
		return def
	}
	if n < minimum || n > maximum {
		p.fail(name, "must be between %d and %d, not %d", minimum, maximum, n)
		return def
	}
	return n
}

func (p *parser) boolean(name string, def bool) bool {
	v := strings.ToLower(p.str(name, ""))
	switch v {
	case "":
		return def
	case "1", "true", "yes", "on", "t", "y":
		return true
	case "0", "false", "no", "off", "f", "n":
		return false
	}
	p.fail(name, "must be true or false, not %q", v)
	return def
}

// oneOf returns the lower-cased value of name, which must be one of allowed.
func (p *parser) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(p.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.fail(name, "must be one of %s, not %q", strings.Join(allowed, ", "), v)
	return def
}

// health reads the health thresholds; each warn must be below its fail.
func (p *parser) health() Health {
	h := Health{
		// 101 is past any percentage: that level never trips.
		DiskWarn: p.integer("HEALTH_DISK_WARN", 80, 1, 101), DiskFail: p.integer("HEALTH_DISK_FAIL", 90, 1, 101),
		MemoryWarn: p.integer("HEALTH_MEMORY_WARN", 85, 1, 101), MemoryFail: p.integer("HEALTH_MEMORY_FAIL", 95, 1, 101),
		CPUWarn: p.integer("HEALTH_CPU_WARN", 85, 1, 101), CPUFail: p.integer("HEALTH_CPU_FAIL", 95, 1, 101),
		BackupMaxAge:     p.duration("HEALTH_BACKUP_MAX_AGE", 26*time.Hour),
		RTOWarn:          p.duration("HEALTH_RTO_WARN", 10*time.Minute),
		QueueLatencyWarn: p.duration("HEALTH_QUEUE_LATENCY_WARN", 5*time.Minute),
		CacheTTL:         p.duration("HEALTH_CACHE_TTL", 10*time.Second),
		AlertRepeat:      p.durationOrOff("HEALTH_ALERT_REPEAT", 6*time.Hour),
	}
	for _, t := range []struct {
		name       string
		warn, fail int
	}{{"HEALTH_DISK", h.DiskWarn, h.DiskFail}, {"HEALTH_MEMORY", h.MemoryWarn, h.MemoryFail}, {"HEALTH_CPU", h.CPUWarn, h.CPUFail}} {
		// Both at 101: the check never trips (a test machine's own load).
		if t.warn >= t.fail && (t.warn != 101 || t.fail != 101) {
			p.fail(t.name+"_WARN", "must be below %s_FAIL (%d), not %d (or both 101: never)", t.name, t.fail, t.warn)
		}
	}
	return h
}

// durationOrOff is duration where "0" (or "off") turns the feature off.
func (p *parser) durationOrOff(name string, def time.Duration) time.Duration {
	switch strings.ToLower(p.str(name, "")) {
	case "0", "off":
		return 0
	}
	return p.duration(name, def)
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		p.fail(name, "must be a positive duration such as 20s or 5m, not %q", v)
		return def
	}
	return d
}

// cronParser accepts the five standard fields and descriptors (@daily,
// @every 1h); it is the parser asynq's scheduler uses.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a cron spec as every *_SCHEDULE variable takes it:
// five fields (minute hour day-of-month month day-of-week) or a descriptor
// (@daily, @every 1h). It is the one cron parser of the project: Load
// validates with it and the scheduler computes its slots with it, so a spec
// Load accepts is one the scheduler runs.
func ParseSchedule(spec string) (cron.Schedule, error) { return cronParser.Parse(spec) }

// ScheduleOff turns a periodic task off (BACKUP_VERIFY_SCHEDULE only).
const ScheduleOff = "off"

func (p *parser) schedule(name, def string) string {
	v := p.str(name, def)
	if _, err := ParseSchedule(v); err != nil {
		p.fail(name, "invalid cron spec %q: %v (use 5 fields like \"0 2 * * *\" or @daily)", v, err)
	}
	return v
}

// logFile reads LOG_FILE and its rotation. Whether the file can be written
// is checked when it is opened (logging.OpenFile), at start-up.
func (p *parser) logFile() LogFile {
	f := LogFile{
		Path:       p.str("LOG_FILE", ""),
		MaxSizeMB:  p.integer("LOG_MAX_SIZE_MB", 10, 1, 1<<20),
		MaxBackups: p.integer("LOG_MAX_BACKUPS", 5, 1, 10000),
		MaxAgeDays: p.integer("LOG_MAX_AGE_DAYS", 0, 0, 36500),
	}
	if f.Path != "" && (strings.HasSuffix(f.Path, "/") || strings.HasSuffix(f.Path, string(os.PathSeparator))) {
		p.fail("LOG_FILE", "must name a file, not a directory (e.g. %scantina-ops.log)", f.Path)
	}
	return f
}

func (p *parser) logLevel(name string) slog.Level {
	v := p.str(name, "info")
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		p.fail(name, "must be debug, info, warn or error, not %q", v)
		return slog.LevelInfo
	}
	return l
}

// redis parses a redis:// or rediss:// URL. Error messages never repeat
// the URL, its password or its port (see parseSecretURL).
func (p *parser) redis(name, raw string, skipVerify bool) Redis {
	u, err := parseSecretURL(raw, "redis://[:password@]host:port/db or rediss://…")
	if err != nil {
		p.fail(name, "%v", err)
		return Redis{}
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		p.fail(name, "scheme must be redis:// or rediss://, not %q", u.Scheme)
		return Redis{}
	}
	if u.Hostname() == "" {
		p.fail(name, "host is missing")
		return Redis{}
	}
	// go-redis accepts any digits as a port and any integer as a database;
	// both would only fail later, at every connection attempt.
	if ps := u.Port(); ps != "" {
		if port, err := strconv.Atoi(ps); err != nil || port < 1 || port > 65535 {
			p.fail(name, "port must be a number between 1 and 65535")
			return Redis{}
		}
	}
	if u.User != nil {
		pw, _ := u.User.Password()
		p.password(name, Secret(pw), "set a longer password on the Redis server (requirepass or ACL) and in the URL")
	}
	opts, err := redis.ParseURL(raw)
	if err != nil {
		p.fail(name, "%s", redactURLError(err, u))
		return Redis{}
	}
	if opts.DB < 0 {
		p.fail(name, "database number must be 0 or more, not %d", opts.DB)
		return Redis{}
	}
	if opts.TLSConfig != nil && skipVerify {
		opts.TLSConfig.InsecureSkipVerify = true
	}
	return Redis{URL: u, SkipVerify: skipVerify, clientOptions: opts}
}

// redactURLError hides the URL's password in go-redis's message. After
// parseSecretURL the password cannot be in the parts go-redis quotes (path,
// options); this is a second line of defence.
func redactURLError(err error, u *url.URL) string {
	var pw string
	if u.User != nil {
		pw, _ = u.User.Password()
	}
	return NewSecrets([]string{pw}, nil).Redact(err.Error())
}

// minSecretLen is the shortest password or token Load accepts.
const minSecretLen = 3

// dbPasswordFix is what to do about a too short database password.
const dbPasswordFix = "give the database account a longer password (ALTER USER … IDENTIFIED BY …) and set it here"

// password refuses a secret shorter than minSecretLen, naming the variable.
//
// Why refuse rather than scrub: the log and email scrubber (Secrets) hides
// every occurrence of a secret. A one- or two-character secret occurs in
// almost every line ("pw" in "upload", "a" everywhere), so scrubbing it
// would blank ordinary words and make the logs unreadable; not scrubbing
// it would let it leak. And such a password protects nothing: it is guessed
// in a few thousand tries. Even a database password we did not choose is one
// the administrator can change (ALTER USER), and managed databases (JawsDB,
// ClearDB) generate long ones. An empty secret means "none" and is allowed.
func (p *parser) password(name string, s Secret, fix string) {
	if n := utf8.RuneCountInString(s.Reveal()); n > 0 && n < minSecretLen {
		p.fail(name, "the password is shorter than %d characters, too short to keep out of logs and emails and to protect anything: %s",
			minSecretLen, fix)
	}
}

func (p *parser) email() Email {
	e := Email{
		Host:     p.str("EMAIL_HOST", ""),
		Port:     p.integer("EMAIL_PORT", 587, 1, 65535),
		UseTLS:   p.boolean("EMAIL_USE_TLS", true),
		UseSSL:   p.boolean("EMAIL_USE_SSL", false),
		User:     p.str("EMAIL_HOST_USER", ""),
		Password: Secret(p.str("EMAIL_HOST_PASSWORD", "")),
	}
	p.password("EMAIL_HOST_PASSWORD", e.Password, "use the full password or API key your mail provider gave you")
	// EMAIL_FROM defaults to EMAIL_HOST_USER only when that is an address:
	// many providers use a fixed user name (SendGrid's is "apikey").
	e.From = p.str("EMAIL_FROM", "")
	if e.From == "" && looksLikeEmail(e.User) {
		e.From = e.User
	}
	if e.UseTLS && e.UseSSL {
		// Django refuses this combination too; the implicit-TLS setting is the
		// explicit choice, so say which one to unset. An empty EMAIL_USE_TLS
		// counts as unset, as everywhere else.
		if p.str("EMAIL_USE_TLS", "") != "" {
			p.fail("EMAIL_USE_SSL", "EMAIL_USE_TLS and EMAIL_USE_SSL are mutually exclusive; set one to false")
		} else {
			e.UseTLS = false
		}
	}
	for _, addr := range strings.Split(p.str("NOTIFY_EMAILS", ""), ",") {
		addr = strings.TrimSpace(addr)
		if addr == "" {
			continue
		}
		if !looksLikeEmail(addr) {
			p.fail("NOTIFY_EMAILS", "%q is not an email address (plain addresses, separated by commas)", addr)
			continue
		}
		e.To = append(e.To, addr)
	}
	if e.From != "" && !looksLikeEmail(e.From) {
		p.fail("EMAIL_FROM", "%q is not an email address (a plain address such as cantina@example.com)", e.From)
	}
	if e.Host != "" && len(e.To) > 0 && e.From == "" {
		if e.User != "" {
			p.fail("EMAIL_FROM", "set EMAIL_FROM to the sender address (EMAIL_HOST_USER %q is not an email address)", e.User)
		} else {
			p.fail("EMAIL_FROM", "set EMAIL_FROM (or EMAIL_HOST_USER) to send notifications")
		}
	}
	return e
}

// looksLikeEmail reports whether s is one plain address (no display name):
// what SMTP's MAIL FROM and RCPT TO take. It catches lists separated by
// semicolons, which would otherwise fail only when a notification is sent.
func looksLikeEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}
