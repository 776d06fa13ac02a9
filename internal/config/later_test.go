package config

import (
	"strings"
	"testing"
	"time"
)

// TestBackupNotifyAndHealthSettings covers the variables that the backup,
// notification and health capabilities read.
func TestBackupNotifyAndHealthSettings(t *testing.T) {
	c := mustLoad(t, withDB(nil))
	if c.BackupGzipLevel != 6 {
		t.Errorf("BACKUP_GZIP_LEVEL default %d, want 6", c.BackupGzipLevel)
	}
	if c := mustLoad(t, withDB(map[string]string{"BACKUP_GZIP_LEVEL": "9"})); c.BackupGzipLevel != 9 {
		t.Errorf("BACKUP_GZIP_LEVEL=9 gives %d", c.BackupGzipLevel)
	}
	if c.BackupEngine != "native" || c.BackupTimeout != time.Hour || c.BackupNotify != "failure" ||
		c.BackupVerifySchedule != DefaultVerifySchedule || c.HealthTimeout != 5*time.Second ||
		c.NotifyLang != "es" || c.PublicURL != "http://localhost:8080" {
		t.Errorf("defaults: engine %q timeout %s notify %q verify %q health %s lang %q url %q",
			c.BackupEngine, c.BackupTimeout, c.BackupNotify, c.BackupVerifySchedule, c.HealthTimeout, c.NotifyLang, c.PublicURL)
	}
	c = mustLoad(t, withDB(map[string]string{
		"BACKUP_ENGINE": "MySQLDump", "BACKUP_TIMEOUT": "90m", "BACKUP_NOTIFY": "always",
		"BACKUP_VERIFY_SCHEDULE": "@weekly", "HEALTH_TIMEOUT": "2s", "NOTIFY_LANG": "en",
		"PUBLIC_URL": "https://ops.example.org/", "PORT": "9000",
	}))
	if c.BackupEngine != "mysqldump" || c.BackupTimeout != 90*time.Minute || c.BackupNotify != "always" ||
		c.BackupVerifySchedule != "@weekly" || c.HealthTimeout != 2*time.Second || c.NotifyLang != "en" ||
		c.PublicURL != "https://ops.example.org" {
		t.Errorf("set: %+v", c)
	}
	if c := mustLoad(t, withDB(map[string]string{"PORT": "9000"})); c.PublicURL != "http://localhost:9000" {
		t.Errorf("PUBLIC_URL default follows PORT: %q", c.PublicURL)
	}

	tests := []struct{ name, value string }{
		{"BACKUP_ENGINE", "xtrabackup"},
		{"BACKUP_TIMEOUT", "forever"},
		{"BACKUP_GZIP_LEVEL", "0"},
		{"BACKUP_GZIP_LEVEL", "fast"},
		{"BACKUP_NOTIFY", "sometimes"},
		{"BACKUP_VERIFY_SCHEDULE", "weekly"},
		{"HEALTH_TIMEOUT", "-1s"},
		{"NOTIFY_LANG", "fr"},
		{"PUBLIC_URL", "ops.example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			err := loadErr(t, withDB(map[string]string{tt.name: tt.value}))
			if p := problems(err); len(p) != 1 || !strings.HasPrefix(p[0], tt.name+": ") {
				t.Errorf("%s=%q: problems %q, want one naming %s", tt.name, tt.value, p, tt.name)
			}
		})
	}
}
