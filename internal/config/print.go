package config

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Setting is one effective value, secrets already redacted.
type Setting struct {
	Name  string
	Value string
}

// Settings lists the effective configuration in README order, with every
// secret redacted; it is what `config check` prints.
func (c *Config) Settings() []Setting {
	b := strconv.FormatBool
	s := []Setting{
		{"REDIS_URL", c.Redis.String()},
		{"REDIS_TLS_SKIP_VERIFY", b(c.Redis.SkipVerify)},
		{"CACHE_REDIS_URL", c.CacheRedis.String()},
		{"CACHE_REDIS_CLUSTER", b(c.CacheRedisCluster)},
		{"CACHE_KEY_PREFIX", c.CacheKeyPrefix},
		{"CACHE_VERSION", strconv.Itoa(c.CacheVersion)},
		{"CACHE_INVALIDATE_POLL", c.CachePoll.String()},
		{"CACHE_TTLS", c.CacheTTLs.String()},
		{"CACHE_AUDIT_SCHEDULE", c.CacheAuditSchedule},
		{"DATABASE", c.DB.String() + " (from " + c.DB.Source + ")"},
		{"BACKUP_DIR", c.BackupDir},
		{"BACKUP_STORAGE", c.storageSetting()},
		{"S3_ENDPOINT", c.S3.Endpoint},
		{"S3_REGION", c.S3.Region},
		{"S3_ACCESS_KEY_ID", c.S3.AccessKeyID},
		{"S3_SECRET_ACCESS_KEY", c.S3.SecretAccessKey.String()},
		{"S3_FORCE_PATH_STYLE", b(c.S3.ForcePathStyle)},
		{"BACKUP_SCHEDULE", c.BackupSchedule},
		{"BACKUP_RETENTION_DAYS", strconv.Itoa(c.BackupRetentionDays)},
		{"BACKUP_KEEP_MIN", strconv.Itoa(c.BackupKeepMin)},
		{"CLEANUP_SCHEDULE", c.CleanupSchedule},
		{"BACKUP_ENGINE", c.BackupEngine},
		{"BACKUP_TIMEOUT", c.BackupTimeout.String()},
		{"BACKUP_GZIP_LEVEL", strconv.Itoa(c.BackupGzipLevel)},
		{"BACKUP_NOTIFY", c.BackupNotify},
		{"BACKUP_DEFINERS", c.BackupDefiners},
		{"RESTORE_THREADS", strconv.Itoa(c.RestoreThreads)},
		{"BACKUP_AGE_RECIPIENTS", c.BackupAge.recipientsSetting()},
		{"BACKUP_AGE_IDENTITY_FILE", c.BackupAge.identitySetting()},
		{"BACKUP_VERIFY_SCHEDULE", c.BackupVerifySchedule},
		{"HEALTH_SCHEDULE", c.HealthSchedule},
		{"HEALTH_TIMEOUT", c.HealthTimeout.String()},
		{"HEALTH_DISK_WARN", strconv.Itoa(c.Health.DiskWarn)},
		{"HEALTH_DISK_FAIL", strconv.Itoa(c.Health.DiskFail)},
		{"HEALTH_MEMORY_WARN", strconv.Itoa(c.Health.MemoryWarn)},
		{"HEALTH_MEMORY_FAIL", strconv.Itoa(c.Health.MemoryFail)},
		{"HEALTH_CPU_WARN", strconv.Itoa(c.Health.CPUWarn)},
		{"HEALTH_CPU_FAIL", strconv.Itoa(c.Health.CPUFail)},
		{"HEALTH_BACKUP_MAX_AGE", c.Health.BackupMaxAge.String()},
		{"HEALTH_RTO_WARN", c.Health.RTOWarn.String()},
		{"HEALTH_QUEUE_LATENCY_WARN", c.Health.QueueLatencyWarn.String()},
		{"HEALTH_CACHE_TTL", c.Health.CacheTTL.String()},
		{"HEALTH_ALERT_REPEAT", c.Health.AlertRepeat.String()},
		{"BACKUP_CATCHUP", c.BackupCatchUp.String()},
		{"METRICS_TOKEN", c.MetricsToken.String()},
		{"PROMETHEUS_URL", c.PrometheusURL},
		{"SCHEDULE_TZ", c.ScheduleTZ.String()},
		{"EMAIL_HOST", c.Email.Host},
		{"EMAIL_PORT", strconv.Itoa(c.Email.Port)},
		{"EMAIL_USE_TLS", b(c.Email.UseTLS)},
		{"EMAIL_USE_SSL", b(c.Email.UseSSL)},
		{"EMAIL_HOST_USER", c.Email.User},
		{"EMAIL_HOST_PASSWORD", c.Email.Password.String()},
		{"EMAIL_FROM", c.Email.From},
		{"NOTIFY_EMAILS", strings.Join(c.Email.To, ",")},
		{"NOTIFY_LANG", c.NotifyLang},
		{"PORT", strconv.Itoa(c.Port)},
		{"PUBLIC_URL", c.PublicURL},
		{"WORKER_CONCURRENCY", strconv.Itoa(c.WorkerConcurrency)},
		{"WORKER_SHUTDOWN_TIMEOUT", c.WorkerShutdownTimeout.String()},
		{"CONSOLE_USER", c.ConsoleUser},
		{"CONSOLE_PASSWORD", c.ConsolePassword.String()},
		{"CONSOLE_USERS", c.consoleUsersSetting()},
		{"CONSOLE_IDLE_TIMEOUT", c.Console.IdleTimeout.String()},
		{"API_TOKENS", c.apiTokensSetting()},
		{"RATE_LIMIT_IP", c.RateLimit.IP.String()},
		{"RATE_LIMIT_TOKEN", c.RateLimit.Token.String()},
		{"RATE_LIMIT_USER", c.RateLimit.User.String()},
		{"RATE_LIMIT_LOGIN", c.RateLimit.Login.String()},
		{"RATE_LIMIT_ROUTES", c.RateLimit.Routes.String()},
		{"RATE_LIMIT_FAIL_OPEN", b(c.RateLimit.FailOpen)},
		{"TRUSTED_PROXIES", c.RateLimit.TrustedProxies.String()},
		{"POS_SESSION_COOKIE", c.RateLimit.SessionCookie},
		{"POS_UPSTREAM_URL", c.posUpstreamSetting()},
		{"LOG_LEVEL", strings.ToLower(c.LogLevel.String())},
		{"LOG_FORMAT", c.LogFormat},
		{"LOG_FILE", c.LogFile.Path},
		{"LOG_MAX_SIZE_MB", strconv.Itoa(c.LogFile.MaxSizeMB)},
		{"LOG_MAX_BACKUPS", strconv.Itoa(c.LogFile.MaxBackups)},
		{"LOG_MAX_AGE_DAYS", strconv.Itoa(c.LogFile.MaxAgeDays)},
	}
	return s
}

// Print writes the effective configuration as an aligned table.
func (c *Config) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range c.Settings() {
		v := s.Value
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\n", s.Name, v)
	}
	return tw.Flush()
}

// Secrets returns the redactor of logs and emails: every configured secret
// value, and the configured names (database, user names, hosts, addresses)
// that stay readable even when a secret equals one of them (see Secrets).
func (c *Config) Secrets() Secrets {
	values := []string{c.DB.Password.Reveal(), c.Email.Password.Reveal(), c.ConsolePassword.Reveal(), c.MetricsToken.Reveal(), c.S3.SecretAccessKey.Reveal()}
	names := []string{c.DB.Name, c.DB.User, c.DB.Host, c.Email.Host, c.Email.User, c.Email.From, c.ConsoleUser, c.S3.AccessKeyID, c.S3.Endpoint}
	names = append(names, c.Email.To...)
	for _, t := range c.APITokens {
		values = append(values, t.Token.Reveal())
		names = append(names, t.Name)
	}
	for _, r := range []Redis{c.Redis, c.CacheRedis} {
		if r.URL == nil {
			continue
		}
		names = append(names, r.URL.Hostname())
		if r.URL.User != nil {
			pw, _ := r.URL.User.Password()
			values = append(values, pw)
			names = append(names, r.URL.User.Username())
		}
	}
	return NewSecrets(values, names)
}

// storageSetting lists the destinations as "name=url, …".
func (c *Config) storageSetting() string {
	parts := make([]string, len(c.BackupStorage))
	for i, d := range c.BackupStorage {
		parts[i] = d.Name + "=" + d.String()
	}
	return strings.Join(parts, ", ")
}
