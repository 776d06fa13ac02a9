// Package health runs the checks behind /ready/, /health/, the health
// command and the health:check task, and reports them in the shape of
// draft-inadarei-api-health-check ("application/health+json"): an overall
// status of pass, warn or fail, and one entry per check.
//
// A map for a newcomer: checks*.go and sys.go are the checks of the
// contract (Standard), each a thin shell around a pure threshold function
// (checks_threshold.go); round.go shares one round of them between
// requests and web replicas; document.go is the JSON document; alert.go is
// the per-check alert state machine (Step) behind the health emails;
// history.go keeps the last rounds for the console.
package health

import (
	"context"
	"database/sql"
	"time"

	"github.com/redis/go-redis/v9"
)

// Status is pass, warn or fail.
type Status string

// Statuses, from best to worst.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Severity ranks a status: pass 0, warn 1, fail 2.
func (s Status) Severity() int {
	switch s {
	case Warn:
		return 1
	case Fail:
		return 2
	}
	return 0
}

// worse returns the worse of two statuses.
func worse(a, b Status) Status {
	if b.Severity() > a.Severity() {
		return b
	}
	return a
}

// Result is the outcome of one check.
type Result struct {
	Status Status `json:"status"`
	// Output is one line written by us: what was measured and, when the
	// check does not pass, what is wrong and what to do (never a raw
	// driver error with addresses or account names). The /health/
	// document shows it only when the check does not pass.
	Output string `json:"output,omitempty"`
	// Threshold says what the observed value is compared with, for people
	// (e.g. "warn ≥ 80 %, fail ≥ 90 %").
	Threshold     string    `json:"threshold,omitempty"`
	ObservedValue any       `json:"observedValue,omitempty"`
	ObservedUnit  string    `json:"observedUnit,omitempty"`
	DurationMS    float64   `json:"durationMs"`
	Time          time.Time `json:"time"`
}

// Report is the outcome of a set of checks.
type Report struct {
	Status Status            `json:"status"`
	Checks map[string]Result `json:"checks"`
	Time   time.Time         `json:"time"`
}

// Check is one named probe. Run must return promptly when ctx is done.
type Check struct {
	Name string
	Run  func(ctx context.Context) Result
}

// Checker runs checks concurrently, each under its own timeout.
type Checker struct {
	Checks  []Check
	Timeout time.Duration
	Now     func() time.Time
}

// overrunGrace is how long Run waits past a check's timeout for the check
// to return on its own before it reports it as timed out and moves on.
const overrunGrace = 100 * time.Millisecond

// Run runs every check and combines their statuses into the report's. A
// check that does not return within its timeout (one blocked in a call
// that ignores its context, such as a stat on a hung network mount) fails
// as timed out: the round never waits for it longer, so it can never hang
// /health/ or the health task.
func (c *Checker) Run(ctx context.Context) Report {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	rep := Report{Status: Pass, Checks: make(map[string]Result, len(c.Checks)), Time: now().UTC()}
	type done struct {
		name string
		r    Result
	}
	results := make(chan done, len(c.Checks)) // buffered: a late check never blocks
	start := now()
	for _, chk := range c.Checks {
		go func() {
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			begin := now()
			r := chk.Run(cctx)
			r.DurationMS = float64(now().Sub(begin).Microseconds()) / 1000
			r.Time = begin.UTC()
			results <- done{chk.Name, r}
		}()
	}
	deadline := time.NewTimer(timeout + overrunGrace)
	defer deadline.Stop()
	for range c.Checks {
		select {
		case d := <-results:
			rep.Checks[d.name] = d.r
		case <-deadline.C:
			for _, chk := range c.Checks {
				if _, ok := rep.Checks[chk.Name]; !ok {
					rep.Checks[chk.Name] = Result{Status: Fail, Time: start.UTC(), DurationMS: float64(timeout.Microseconds()) / 1000,
						Output: "timed out after " + timeout.String() + " (HEALTH_TIMEOUT): the check did not return"}
				}
			}
		}
		if len(rep.Checks) == len(c.Checks) {
			break
		}
	}
	for _, r := range rep.Checks {
		rep.Status = worse(rep.Status, r.Status)
	}
	return rep
}

// Failed lists the names of checks that did not pass.
func (r Report) Failed() []string {
	var out []string
	for name, res := range r.Checks {
		if res.Status != Pass {
			out = append(out, name)
		}
	}
	return out
}

// RedisPing checks that a Redis server answers PING.
func RedisPing(name string, c redis.UniversalClient) Check {
	return Check{Name: name, Run: func(ctx context.Context) Result {
		if err := c.Ping(ctx).Err(); err != nil {
			return Result{Status: Fail, Output: "ping: " + describe(err, 0)}
		}
		return Result{Status: Pass}
	}}
}

// DBPing checks that the database answers SELECT 1.
func DBPing(name string, db *sql.DB) Check {
	return Check{Name: name, Run: func(ctx context.Context) Result {
		var one int
		if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			return Result{Status: Fail, Output: "select 1: " + describe(err, 0)}
		}
		return Result{Status: Pass}
	}}
}

// Readiness checks the two dependencies every process needs, the queue
// Redis and the POS database, each under timeout.
func Readiness(rdb redis.UniversalClient, db *sql.DB, timeout time.Duration) *Checker {
	return &Checker{
		Timeout: timeout,
		Checks: []Check{
			RedisPing("queue_redis", rdb),
			DBPing("database", db),
		},
	}
}
