package health

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/units"
)

// Fixed thresholds of the checks that have no setting of their own.
const (
	// SlowResponse: a dependency that takes this long to answer a ping or
	// SELECT 1 warns.
	SlowResponse = time.Second
	// DBConnectionsWarn and DBConnectionsFail are the share of the
	// server's max_connections in use that warns and fails: at the limit
	// the POS cannot open a connection.
	DBConnectionsWarn, DBConnectionsFail = 80, 95
	// QueueMemoryWarn and QueueMemoryFail are the share of the queue
	// Redis's maxmemory in use that warns and fails: at the limit, with
	// noeviction, every enqueue fails.
	QueueMemoryWarn, QueueMemoryFail = 80, 95
	// HitRatioWarn is the cache hit ratio (%) below which cache:hitRatio
	// warns, once the cache has served HitRatioMinLookups lookups.
	HitRatioWarn       = 50
	HitRatioMinLookups = 1000
	// FreeSpaceFactor: disk:utilization fails when the free space is less
	// than this many times the last backup's size.
	FreeSpaceFactor = 2
)

// percentStatus compares a percentage with its warn and fail thresholds:
// fail at or above fail, warn at or above warn.
func percentStatus(value float64, warn, fail int) Status {
	switch {
	case value >= float64(fail):
		return Fail
	case value >= float64(warn):
		return Warn
	}
	return Pass
}

// percentThreshold describes percentStatus's thresholds.
func percentThreshold(warn, fail int) string {
	return fmt.Sprintf("warn ≥ %d %%, fail ≥ %d %%", warn, fail)
}

// percent is part/whole in %, rounded to 0.1; 0 when whole is 0.
func percent(part, whole float64) float64 {
	if whole <= 0 {
		return 0
	}
	return round1(100 * part / whole)
}

// round1 rounds to one decimal, as observed values are shown.
func round1(v float64) float64 { return math.Round(v*10) / 10 }

// responseStatus: an answer slower than SlowResponse warns.
func responseStatus(took time.Duration) Status {
	if took >= SlowResponse {
		return Warn
	}
	return Pass
}

// responded is the result of a dependency that answered in took: what
// it did, and how long it took, in ms.
func responded(took time.Duration, what string) Result {
	return Result{Status: responseStatus(took), ObservedValue: millis(took), ObservedUnit: "ms",
		Threshold: "warn ≥ " + SlowResponse.String(), Output: what + " in " + took.Round(time.Millisecond/10).String()}
}

// queueMemoryStatus judges the queue Redis's memory: used against
// maxmemory (0 = no limit), and its eviction policy, which must be
// noeviction or Redis may drop task keys.
func queueMemoryStatus(used, maxmemory int64, policy string) (Status, string) {
	st, out := Pass, units.Bytes(used)+" used, no maxmemory limit"
	if maxmemory > 0 {
		st = percentStatus(percent(float64(used), float64(maxmemory)), QueueMemoryWarn, QueueMemoryFail)
		out = units.Bytes(used) + " of " + units.Bytes(maxmemory) + " maxmemory used"
		if st != Pass {
			out += ": raise maxmemory or clear old tasks (completed, archived) in the console"
		}
	}
	if policy != "noeviction" {
		st = worse(st, Warn)
		out += "; maxmemory-policy is " + policy + ", so Redis may evict task keys and lose tasks: set it to noeviction"
	}
	return st, out
}

// hitRatioStatus judges the cache's hit ratio from its lookup counters.
// Without traffic there is nothing to judge. When the cache Redis is the
// queue Redis (shared), the counters include the queue's polling, which
// misses by design, so the ratio is only reported.
func hitRatioStatus(hits, misses int64, shared bool) (Status, float64, string) {
	total := hits + misses
	if total == 0 {
		return Pass, 0, "no lookups since the cache Redis started"
	}
	ratio := percent(float64(hits), float64(total))
	out := fmt.Sprintf("%d hits of %d lookups since the cache Redis started", hits, total)
	switch {
	case shared:
		return Pass, ratio, out + " (it is the queue Redis too, so this counts the queue's lookups as well)"
	case total < HitRatioMinLookups:
		return Pass, ratio, out
	case ratio < HitRatioWarn:
		return Warn, ratio, out + ": most lookups miss; check CACHE_KEY_PREFIX and CACHE_VERSION, and the cache's size"
	}
	return Pass, ratio, out
}

// evictionStatus: a cache Redis that evicted keys is full. The counter
// runs since the server started; after acting, CONFIG RESETSTAT clears it.
func evictionStatus(evicted int64, shared bool) (Status, string) {
	if evicted == 0 {
		return Pass, "no keys evicted since the cache Redis started"
	}
	out := fmt.Sprintf("%d keys evicted since the cache Redis started: it is full; raise its maxmemory (then CONFIG RESETSTAT clears this count)", evicted)
	if shared {
		out += "; it is the queue Redis too, where evictions lose tasks: give the cache its own Redis"
	}
	return Warn, out
}

// diskStatus judges BACKUP_DIR's filesystem: its use against the
// thresholds, and its free space against the next backup, taken to be as
// large as the last one (lastBackup 0: unknown).
func diskStatus(usedPct float64, free, lastBackup int64, warn, fail int) (Status, string) {
	st := percentStatus(usedPct, warn, fail)
	out := fmt.Sprintf("%.1f %% used, %s free", usedPct, units.Bytes(free))
	if lastBackup > 0 && free < FreeSpaceFactor*lastBackup {
		return Fail, out + fmt.Sprintf(", less than %d× the last backup (%s): the next backup may not fit; free space or lower BACKUP_RETENTION_DAYS",
			FreeSpaceFactor, units.Bytes(lastBackup))
	}
	if st != Pass {
		out += ": free space in BACKUP_DIR's filesystem, or lower BACKUP_RETENTION_DAYS"
	}
	return st, out
}

// backupAgeStatus judges the newest good backup's age against maxAge.
// found false: there is no good backup at all, which warns (a new install
// before its first night), unless unverified ones exist.
func backupAgeStatus(age time.Duration, found bool, unverified int, maxAge time.Duration) (Status, string) {
	switch {
	case !found && unverified > 0:
		return Warn, fmt.Sprintf("no verified backup, %d unverified: run `cantina-ops backup verify --latest`", unverified)
	case !found:
		return Warn, "no backup yet: run `cantina-ops backup run` or wait for BACKUP_SCHEDULE"
	case age > maxAge:
		return Fail, "the newest verified backup is " + roundAge(age) + " old: check the last backup:run in the console"
	}
	return Pass, "the newest verified backup is " + roundAge(age) + " old"
}

// roundAge is an age to the minute ("26h5m"), or "under a minute".
func roundAge(d time.Duration) string {
	d = d.Truncate(time.Minute)
	if d < time.Minute {
		return "under a minute"
	}
	return human(d)
}

// human formats a duration without trailing zero units: "26h", "1h30m",
// "5m", "45s".
func human(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// lastRunStatus: the last backup:run failed for good when the newest
// archived one was archived after the newest completed one finished. Ties
// (both in the same second) count as completed.
func lastRunStatus(archived, completed time.Time) (Status, string) {
	switch {
	case archived.IsZero() && completed.IsZero():
		return Pass, "no backup:run has finished yet"
	case archived.After(completed):
		return Fail, "the last backup:run failed after all its retries (archived at " + archived.UTC().Format(time.RFC3339) +
			"): read its error in the console, fix it, and run it again"
	case archived.IsZero():
		return Pass, "the last backup:run completed at " + completed.UTC().Format(time.RFC3339)
	}
	return Pass, "the last backup:run completed at " + completed.UTC().Format(time.RFC3339) +
		", after the last archived one"
}

// latencyStatus: the oldest pending task waited longer than warn.
func latencyStatus(latency, warn time.Duration) Status {
	if latency > warn {
		return Warn
	}
	return Pass
}
