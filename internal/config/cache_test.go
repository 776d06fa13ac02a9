package config

import (
	"testing"
	"time"
)

func TestCacheDefaults(t *testing.T) {
	c := mustLoad(t, withDB(nil))
	if len(c.CacheTTLs) != 0 || c.CacheAuditSchedule != DefaultCacheAuditSchedule {
		t.Errorf("CacheTTLs %v, CacheAuditSchedule %q", c.CacheTTLs, c.CacheAuditSchedule)
	}
}

func TestCacheTTLs(t *testing.T) {
	c := mustLoad(t, withDB(map[string]string{"CACHE_TTLS": " productos=5m, dashboard=1m,,sesiones=24h ", "CACHE_AUDIT_SCHEDULE": "@daily"}))
	want := CacheTTLs{"productos": 5 * time.Minute, "dashboard": time.Minute, "sesiones": 24 * time.Hour}
	if len(c.CacheTTLs) != len(want) {
		t.Fatalf("CacheTTLs = %v, want %v", c.CacheTTLs, want)
	}
	for k, d := range want {
		if c.CacheTTLs[k] != d {
			t.Errorf("CacheTTLs[%s] = %s, want %s", k, c.CacheTTLs[k], d)
		}
	}
	if got := c.CacheTTLs.String(); got != "dashboard=1m0s,productos=5m0s,sesiones=24h0m0s" {
		t.Errorf("String() = %q", got)
	}
	if c.CacheAuditSchedule != "@daily" {
		t.Errorf("CacheAuditSchedule = %q", c.CacheAuditSchedule)
	}
}

func TestCacheErrors(t *testing.T) {
	tests := []struct {
		name, value string
		says        []string
	}{
		{"no equals", "productos", []string{`entry 1 ("productos")`, "kind=duration"}},
		{"empty kind", "=5m", []string{"entry 1", "kind=duration"}},
		{"bad duration", "a=1m,productos=5 minutes", []string{`entry 2 ("productos=5 minutes")`, "positive duration"}},
		{"zero duration", "productos=0s", []string{"positive duration"}},
		{"colon in kind", "productos:list=5m", []string{"no colon"}},
		{"duplicate", "a=1m,a=2m", []string{`entry 2`, `"a" appears twice`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := loadErr(t, withDB(map[string]string{"CACHE_TTLS": tt.value}))
			wantProblem(t, err, "CACHE_TTLS", tt.says...)
			wantOnlyProblemsFor(t, err, "CACHE_TTLS")
		})
	}
	t.Run("every bad entry", func(t *testing.T) {
		err := loadErr(t, withDB(map[string]string{"CACHE_TTLS": "x,y=z", "CACHE_AUDIT_SCHEDULE": "nightly"}))
		wantProblem(t, err, "CACHE_TTLS", "entry 1")
		wantProblem(t, err, "CACHE_TTLS", "entry 2")
		wantProblem(t, err, "CACHE_AUDIT_SCHEDULE", "invalid cron spec")
	})
}

func TestCacheInvalidatePoll(t *testing.T) {
	if c := mustLoad(t, withDB(nil)); c.CachePoll != DefaultCachePoll {
		t.Errorf("default %s", c.CachePoll)
	}
	if c := mustLoad(t, withDB(map[string]string{"CACHE_INVALIDATE_POLL": "100ms"})); c.CachePoll.String() != "100ms" {
		t.Errorf("100ms: %s", c.CachePoll)
	}
	for _, v := range []string{"0", "500us", "2s", "soon"} {
		wantProblem(t, loadErr(t, withDB(map[string]string{"CACHE_INVALIDATE_POLL": v})), "CACHE_INVALIDATE_POLL")
	}
}
