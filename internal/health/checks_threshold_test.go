package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
)

func TestPercentStatus(t *testing.T) {
	tests := []struct {
		value      float64
		warn, fail int
		want       Status
	}{
		{0, 80, 90, Pass},
		{79.9, 80, 90, Pass},
		{80, 80, 90, Warn},
		{89.99, 80, 90, Warn},
		{90, 80, 90, Fail},
		{100, 80, 90, Fail},
		{50, 90, 90, Pass},
		{90, 90, 90, Fail}, // warn = fail: straight to fail
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.2f of %d/%d", tt.value, tt.warn, tt.fail), func(t *testing.T) {
			if got := percentStatus(tt.value, tt.warn, tt.fail); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	if got := percentThreshold(80, 90); got != "warn ≥ 80 %, fail ≥ 90 %" {
		t.Errorf("threshold %q", got)
	}
	if percent(1, 0) != 0 || percent(1, 3) != 33.3 {
		t.Errorf("percent: %v %v", percent(1, 0), percent(1, 3))
	}
}

func TestResponseStatus(t *testing.T) {
	tests := []struct {
		took time.Duration
		want Status
	}{{time.Millisecond, Pass}, {SlowResponse - 1, Pass}, {SlowResponse, Warn}, {10 * time.Second, Warn}}
	for _, tt := range tests {
		t.Run(tt.took.String(), func(t *testing.T) {
			if got := responseStatus(tt.took); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestQueueMemoryStatus(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name            string
		used, maxmemory int64
		policy          string
		want            Status
		output          string
	}{
		{"no limit, noeviction", 5 * mib, 0, "noeviction", Pass, "no maxmemory limit"},
		{"no limit, lru", 5 * mib, 0, "allkeys-lru", Warn, "set it to noeviction"},
		{"half full", 50 * mib, 100 * mib, "noeviction", Pass, "50.0 MiB of 100.0 MiB"},
		{"80 % warns", 80 * mib, 100 * mib, "noeviction", Warn, "raise maxmemory"},
		{"95 % fails", 95 * mib, 100 * mib, "noeviction", Fail, "raise maxmemory"},
		{"full and evicting: fail wins", 99 * mib, 100 * mib, "volatile-lru", Fail, "set it to noeviction"},
		{"half full, evicting", 50 * mib, 100 * mib, "volatile-ttl", Warn, "maxmemory-policy is volatile-ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, out := queueMemoryStatus(tt.used, tt.maxmemory, tt.policy)
			if st != tt.want || !strings.Contains(out, tt.output) {
				t.Errorf("got %s %q, want %s containing %q", st, out, tt.want, tt.output)
			}
		})
	}
}

func TestHitRatioStatus(t *testing.T) {
	tests := []struct {
		name         string
		hits, misses int64
		shared       bool
		want         Status
		ratio        float64
	}{
		{"no traffic", 0, 0, false, Pass, 0},
		{"good ratio", 900, 100, false, Pass, 90},
		{"low ratio, few lookups", 10, 90, false, Pass, 10},
		{"low ratio", 100, 900, false, Warn, 10},
		{"exactly the threshold", 500, 500, false, Pass, 50},
		{"low ratio, shared with the queue", 100, 900, true, Pass, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, ratio, out := hitRatioStatus(tt.hits, tt.misses, tt.shared)
			if st != tt.want || ratio != tt.ratio || out == "" {
				t.Errorf("got %s %v %q, want %s %v", st, ratio, out, tt.want, tt.ratio)
			}
			if tt.shared != strings.Contains(out, "queue Redis too") {
				t.Errorf("output %q does not say whether the server is shared", out)
			}
		})
	}
}

func TestEvictionStatus(t *testing.T) {
	tests := []struct {
		name    string
		evicted int64
		shared  bool
		want    Status
		output  string
	}{
		{"none", 0, false, Pass, "no keys evicted"},
		{"some", 3, false, Warn, "raise its maxmemory"},
		{"some, shared with the queue", 3, true, Warn, "lose tasks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, out := evictionStatus(tt.evicted, tt.shared)
			if st != tt.want || !strings.Contains(out, tt.output) {
				t.Errorf("got %s %q, want %s containing %q", st, out, tt.want, tt.output)
			}
		})
	}
}

func TestDiskStatus(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		name             string
		used             float64
		free, lastBackup int64
		want             Status
		output           string
	}{
		{"plenty", 40, 60 * gib, gib, Pass, "40.0 % used, 60.0 GiB free"},
		{"no backup yet", 40, 60 * gib, 0, Pass, "free"},
		{"warn", 85, 15 * gib, gib, Warn, "free space in BACKUP_DIR"},
		{"fail", 95, 5 * gib, gib, Fail, "free space in BACKUP_DIR"},
		{"free exactly 2× the backup", 40, 2 * gib, gib, Pass, "free"},
		{"free under 2× the backup", 40, 2*gib - 1, gib, Fail, "the next backup may not fit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, out := diskStatus(tt.used, tt.free, tt.lastBackup, 80, 90)
			if st != tt.want || !strings.Contains(out, tt.output) {
				t.Errorf("got %s %q, want %s containing %q", st, out, tt.want, tt.output)
			}
		})
	}
}

func TestBackupAgeStatus(t *testing.T) {
	maxAge := 26 * time.Hour
	tests := []struct {
		name       string
		age        time.Duration
		found      bool
		unverified int
		want       Status
		output     string
	}{
		{"fresh", 3*time.Hour + 12*time.Minute + 5*time.Second, true, 0, Pass, "is 3h12m old"},
		{"just now", 30 * time.Second, true, 0, Pass, "under a minute"},
		{"at the limit", maxAge, true, 0, Pass, "is 26h old"},
		{"stale", maxAge + time.Minute, true, 0, Fail, "is 26h1m old"},
		{"none", 0, false, 0, Warn, "no backup yet"},
		{"only unverified", 0, false, 2, Warn, "2 unverified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, out := backupAgeStatus(tt.age, tt.found, tt.unverified, maxAge)
			if st != tt.want || !strings.Contains(out, tt.output) {
				t.Errorf("got %s %q, want %s containing %q", st, out, tt.want, tt.output)
			}
		})
	}
}

func TestLastRunStatus(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name                string
		archived, completed time.Time
		want                Status
	}{
		{"nothing finished", time.Time{}, time.Time{}, Pass},
		{"only completed", time.Time{}, t0, Pass},
		{"only archived", t0, time.Time{}, Fail},
		{"archived after completed", t0.Add(24 * time.Hour), t0, Fail},
		{"completed after archived", t0, t0.Add(24 * time.Hour), Pass},
		{"same second", t0, t0, Pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st, out := lastRunStatus(tt.archived, tt.completed); st != tt.want || out == "" {
				t.Errorf("got %s %q, want %s", st, out, tt.want)
			}
		})
	}
}

func TestLatencyStatus(t *testing.T) {
	tests := []struct {
		latency time.Duration
		want    Status
	}{{0, Pass}, {5 * time.Minute, Pass}, {5*time.Minute + 1, Warn}}
	for _, tt := range tests {
		t.Run(tt.latency.String(), func(t *testing.T) {
			if got := latencyStatus(tt.latency, 5*time.Minute); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestHuman(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{26 * time.Hour, "26h"}, {90 * time.Minute, "1h30m"}, {10 * time.Minute, "10m"},
		{time.Minute, "1m"}, {45 * time.Second, "45s"}, {time.Hour + time.Second, "1h0m1s"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := human(tt.d); got != tt.want {
				t.Errorf("human(%s) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}

func TestParseInfo(t *testing.T) {
	s := "# Memory\r\nused_memory:1024\r\nmaxmemory:0\r\nmaxmemory_policy:noeviction\r\n\r\n# Stats\r\nkeyspace_hits:7\r\nbad line\r\n"
	i := parseInfo(s)
	if n, err := i.int("used_memory"); n != 1024 || err != nil {
		t.Errorf("used_memory %d %v", n, err)
	}
	if i["maxmemory_policy"] != "noeviction" {
		t.Errorf("policy %q", i["maxmemory_policy"])
	}
	if _, err := i.int("keyspace_misses"); err == nil {
		t.Error("a missing field read as a number")
	}
	if _, err := i.int("maxmemory_policy"); err == nil {
		t.Error("a word read as a number")
	}
}

// TestDescribe: every error kind gets our words, never the error's text.
func TestDescribe(t *testing.T) {
	secret := "u_admin:s3cret@db.internal:3306"
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 3306}, Err: err}
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"deadline", fmt.Errorf("query %s: %w", secret, context.DeadlineExceeded), "timed out after 5s"},
		{"net timeout", opErr(os.ErrDeadlineExceeded), "timed out after 5s"},
		{"refused", opErr(&os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}), "connection refused"},
		{"dns", &net.DNSError{Err: "no such host", Name: "db.internal", IsNotFound: true}, "host name not found"},
		{"unreachable", opErr(syscall.EHOSTUNREACH), "host unreachable"},
		{"reset", opErr(syscall.ECONNRESET), "the connection was closed"},
		{"eof", fmt.Errorf("read %s: %w", secret, io.EOF), "the connection was closed"},
		{"unknown", fmt.Errorf("read %s: %w", secret, errors.New("x")), "unexpected error; details in the log"},
		{"mysql bad conn", mysql.ErrInvalidConn, "the connection was closed"},
		{"mysql auth", &mysql.MySQLError{Number: 1045, Message: "Access denied for user " + secret}, "authentication failed"},
		{"mysql db", &mysql.MySQLError{Number: 1049, Message: "Unknown database 'pos'"}, "unknown database"},
		{"mysql other", &mysql.MySQLError{Number: 1290, Message: secret}, "server error 1290"},
		{"redis auth", redisError("WRONGPASS invalid username-password pair or user is disabled."), "authentication failed"},
		{"redis noauth", redisError("NOAUTH Authentication required."), "authentication failed"},
		{"redis err", redisError("ERR unknown command " + secret), "server error ERR"},
		{"redis closed", redis.ErrClosed, "the connection was closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describe(tt.err, 5*time.Second)
			if got != tt.want {
				t.Errorf("describe(%v) = %q, want %q", tt.err, got, tt.want)
			}
			for _, leak := range []string{"u_admin", "s3cret", "db.internal", "10.0.0.5", "3306"} {
				if strings.Contains(got, leak) {
					t.Errorf("hint %q leaks %q", got, leak)
				}
			}
		})
	}
	if got := describe(context.DeadlineExceeded, 0); got != "timed out" {
		t.Errorf("no timeout: %q", got)
	}
}

// redisError is a Redis error reply, as go-redis returns it.
type redisError string

func (e redisError) Error() string { return string(e) }
func (redisError) RedisError()     {}

func TestExistingDir(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, want string
	}{
		{"exists", root, root},
		{"not yet created", filepath.Join(root, "backups", "pos"), root},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := existingDir(tt.dir)
			if err != nil || got != tt.want {
				t.Errorf("existingDir(%s) = %q, %v; want %q", tt.dir, got, err, tt.want)
			}
		})
	}
	if _, err := existingDir(filepath.Join(file, "sub")); err == nil {
		t.Error("a path under a file: no error")
	}
}
