package config

import (
	"strings"
	"testing"
	"time"
)

func TestHealthDefaults(t *testing.T) {
	c := mustLoad(t, withDB(nil))
	want := Health{DiskWarn: 80, DiskFail: 90, MemoryWarn: 85, MemoryFail: 95, CPUWarn: 85, CPUFail: 95,
		BackupMaxAge: 26 * time.Hour, RTOWarn: 10 * time.Minute, QueueLatencyWarn: 5 * time.Minute, CacheTTL: 10 * time.Second, AlertRepeat: 6 * time.Hour}
	if c.Health != want {
		t.Errorf("Health = %+v, want %+v", c.Health, want)
	}
	if c.BackupCatchUp != 12*time.Hour || c.MetricsToken != "" || c.PrometheusURL != "" {
		t.Errorf("catch-up %s, metrics token set %v, prometheus %q", c.BackupCatchUp, c.MetricsToken != "", c.PrometheusURL)
	}
}

func TestHealthErrors(t *testing.T) {
	tests := []struct {
		env  map[string]string
		says []string
	}{
		{map[string]string{"HEALTH_DISK_WARN": "95"}, []string{"HEALTH_DISK_WARN", "below HEALTH_DISK_FAIL (90)"}},
		{map[string]string{"HEALTH_CPU_FAIL": "102"}, []string{"HEALTH_CPU_FAIL"}},
		{map[string]string{"HEALTH_CPU_WARN": "100", "HEALTH_CPU_FAIL": "100"}, []string{"HEALTH_CPU_WARN", "or both 101"}},
		{map[string]string{"HEALTH_MEMORY_WARN": "101"}, []string{"HEALTH_MEMORY_WARN", "below HEALTH_MEMORY_FAIL (95)"}},
		{map[string]string{"HEALTH_MEMORY_WARN": "x"}, []string{"HEALTH_MEMORY_WARN"}},
		{map[string]string{"HEALTH_BACKUP_MAX_AGE": "1d"}, []string{"HEALTH_BACKUP_MAX_AGE"}},
		{map[string]string{"HEALTH_CACHE_TTL": "-1s", "HEALTH_ALERT_REPEAT": "-1h"}, []string{"HEALTH_CACHE_TTL", "HEALTH_ALERT_REPEAT"}},
		{map[string]string{"BACKUP_CATCHUP": "soon"}, []string{"BACKUP_CATCHUP"}},
		{map[string]string{"HEALTH_RTO_WARN": "a while"}, []string{"HEALTH_RTO_WARN"}},
		{map[string]string{"PROMETHEUS_URL": "prometheus:9090"}, []string{"PROMETHEUS_URL"}},
		{map[string]string{"METRICS_TOKEN": "ab"}, []string{"METRICS_TOKEN"}},
	}
	for _, tt := range tests {
		err := loadErr(t, withDB(tt.env))
		for _, s := range tt.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%v: error does not say %q:\n%v", tt.env, s, err)
			}
		}
	}
}

func TestStripDefinersNeedsNativeEngine(t *testing.T) {
	err := loadErr(t, withDB(map[string]string{"BACKUP_DEFINERS": "strip", "BACKUP_ENGINE": "mysqldump"}))
	if !strings.Contains(err.Error(), "BACKUP_DEFINERS") || !strings.Contains(err.Error(), "BACKUP_ENGINE=native") {
		t.Errorf("error %v", err)
	}
	if c := mustLoad(t, withDB(map[string]string{"BACKUP_DEFINERS": "strip"})); c.BackupDefiners != "strip" {
		t.Errorf("BackupDefiners = %q", c.BackupDefiners)
	}
}

func TestHealthOff(t *testing.T) {
	c := mustLoad(t, withDB(map[string]string{"HEALTH_ALERT_REPEAT": "0", "HEALTH_CPU_WARN": "101", "HEALTH_CPU_FAIL": "101", "BACKUP_CATCHUP": "off"}))
	if c.Health.AlertRepeat != 0 || c.Health.CPUWarn != 101 || c.Health.CPUFail != 101 || c.BackupCatchUp != 0 {
		t.Errorf("Health = %+v, catch-up %s", c.Health, c.BackupCatchUp)
	}
}
