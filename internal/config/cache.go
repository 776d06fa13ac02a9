package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultCacheAuditSchedule is CACHE_AUDIT_SCHEDULE's default: daily, at
// 03:00, after the backups.
const DefaultCacheAuditSchedule = "0 3 * * *"

// CacheTTLs is the POS cache's TTL policy (CACHE_TTLS): the longest TTL a
// key of each kind should have, the kind being the first ":"-separated
// segment of the logical key ("productos" in "productos:list:1").
type CacheTTLs map[string]time.Duration

// String is the policy as CACHE_TTLS takes it, kinds sorted.
func (t CacheTTLs) String() string {
	kinds := make([]string, 0, len(t))
	for k := range t {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = k + "=" + t[k].String()
	}
	return strings.Join(parts, ",")
}

// ParseCacheTTLs parses "kind=duration,…" (e.g.
// "productos=5m,dashboard=1m,sesiones=24h"); empty entries are skipped.
// It returns every bad entry, each named by its position and text.
func ParseCacheTTLs(s string) (CacheTTLs, []error) {
	ttls := CacheTTLs{}
	var errs []error
	entries := strings.Split(s, ",")
	for i, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("entry %d (%q): %s", i+1, e, fmt.Sprintf(format, args...)))
		}
		kind, dur, ok := strings.Cut(e, "=")
		kind, dur = strings.TrimSpace(kind), strings.TrimSpace(dur)
		if !ok || kind == "" || dur == "" {
			bad("must be kind=duration, e.g. productos=5m")
			continue
		}
		if strings.ContainsAny(kind, ": \t") {
			bad("the kind is the first segment of a logical key: no colon or space")
			continue
		}
		d, err := time.ParseDuration(dur)
		if err != nil || d <= 0 {
			bad("%q is not a positive duration such as 90s, 5m or 24h", dur)
			continue
		}
		if _, dup := ttls[kind]; dup {
			bad("kind %q appears twice", kind)
			continue
		}
		ttls[kind] = d
	}
	return ttls, errs
}

// cacheTTLs reads CACHE_TTLS.
func (p *parser) cacheTTLs() CacheTTLs {
	ttls, errs := ParseCacheTTLs(p.str("CACHE_TTLS", ""))
	for _, err := range errs {
		p.fail("CACHE_TTLS", "%v", err)
	}
	return ttls
}
