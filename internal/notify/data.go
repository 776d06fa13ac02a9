package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/health"
)

// Data is an event's data: the Event of an email:send payload and what the
// templates show. Exactly one of the sections is set, the one of its kind.
type Data struct {
	// Database is the POS database the event is about.
	Database string `json:"database"`
	// Time is when the event happened.
	Time time.Time `json:"time"`
	// Host is the machine that saw the event.
	Host string `json:"host,omitempty"`

	Backup  *Backup  `json:"backup,omitempty"`
	Verify  *Verify  `json:"verify,omitempty"`
	Health  *Health  `json:"health,omitempty"`
	Cleanup *Cleanup `json:"cleanup,omitempty"`
}

// Attempt is the task attempt an event happened in: the email's "attempts"
// line and its link to the task in the console.
type Attempt struct {
	TaskID string `json:"task_id,omitempty"`
	Queue  string `json:"queue,omitempty"`
	// Number is this attempt, from 1; Max is the most there will be.
	Number int `json:"number,omitempty"`
	Max    int `json:"max,omitempty"`
}

type attemptKey struct{}

// ContextWithAttempt returns ctx carrying a: a command that runs a task's
// body itself (`backup run`) names its run this way, so its emails have
// IDs as the worker's do.
func ContextWithAttempt(ctx context.Context, a Attempt) context.Context {
	return context.WithValue(ctx, attemptKey{}, a)
}

// AttemptFromContext describes the attempt ctx runs in: the one
// ContextWithAttempt set, else the asynq task's; outside both it is the
// zero Attempt.
func AttemptFromContext(ctx context.Context) Attempt {
	if a, ok := ctx.Value(attemptKey{}).(Attempt); ok {
		return a
	}
	var a Attempt
	a.TaskID, _ = asynq.GetTaskID(ctx)
	a.Queue, _ = asynq.GetQueueName(ctx)
	if retried, ok := asynq.GetRetryCount(ctx); ok {
		a.Number = retried + 1
	}
	if maxRetry, ok := asynq.GetMaxRetry(ctx); ok {
		a.Max = maxRetry + 1
	}
	return a
}

// Final reports whether a handler returning err ends its task's attempts:
// err is permanent (asynq.SkipRetry) or this was the last attempt. Outside
// a task (a command) every failure is final.
func (a Attempt) Final(err error) bool {
	return err != nil && (errors.Is(err, asynq.SkipRetry) || a.Max == 0 || a.Number >= a.Max)
}

// Backup describes one backup run.
type Backup struct {
	// ID identifies the run: one email per recipient per ID. Empty means
	// Attempt.TaskID (the backup:run task); a command without a task sets
	// it, e.g. to the backup's file name.
	ID string `json:"id,omitempty"`
	// Name is the backup's file name.
	Name     string `json:"name,omitempty"`
	Engine   string `json:"engine,omitempty"`
	Location string `json:"location,omitempty"`
	// Bytes is the compressed size, RawBytes the SQL before compression.
	Bytes    int64         `json:"bytes,omitempty"`
	RawBytes int64         `json:"raw_bytes,omitempty"`
	SHA256   string        `json:"sha256,omitempty"`
	Tables   int           `json:"tables,omitempty"`
	Rows     int64         `json:"rows,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
	// Error is why it failed; Hint what the administrator should do about
	// it, when the producer knows better than the template's generic steps.
	Error   string  `json:"error,omitempty"`
	Hint    string  `json:"hint,omitempty"`
	Attempt Attempt `json:"attempt,omitzero"`
}

func (b Backup) key() string {
	if b.ID != "" {
		return b.ID
	}
	return b.Attempt.TaskID
}

// Verify describes a failed verification of a backup.
type Verify struct {
	// ID identifies the verification, as Backup.ID.
	ID string `json:"id,omitempty"`
	// Name is the backup file that was verified.
	Name string `json:"name,omitempty"`
	// Stage is the step that failed: "checksum", "gzip", "trailer",
	// "restore-test" …
	Stage   string  `json:"stage,omitempty"`
	Error   string  `json:"error,omitempty"`
	Hint    string  `json:"hint,omitempty"`
	Attempt Attempt `json:"attempt,omitzero"`
}

func (v Verify) key() string {
	if v.ID != "" {
		return v.ID
	}
	return v.Attempt.TaskID
}

// Cleanup reports a retention cleanup.
type Cleanup struct {
	// ID identifies the cleanup run (its task ID, or a time stamp).
	ID      string `json:"id"`
	DryRun  bool   `json:"dry_run,omitempty"`
	Deleted []File `json:"deleted,omitempty"`
	// Kept is how many backups remain.
	Kept       int      `json:"kept"`
	FreedBytes int64    `json:"freed_bytes,omitempty"`
	Errors     []string `json:"errors,omitempty"`
}

// File is one backup file.
type File struct {
	Name  string    `json:"name"`
	Bytes int64     `json:"bytes,omitempty"`
	Time  time.Time `json:"time,omitzero"`
}

// Health is one round's health notice (see health.Step): every check that
// fires, each with what changed since the previous notice, and the checks
// that recovered.
type Health struct {
	// Status is the worst status of the firing checks; pass when none
	// fires any more.
	Status health.Status `json:"status"`
	// Checks are the checks that fire (or pass again, not yet for long
	// enough to count as recovered): news first, then the worst.
	Checks []Check `json:"checks,omitempty"`
	// Recovered are the checks that pass again, or are no longer checked.
	Recovered []Check `json:"recovered,omitempty"`
	// Repeat is how often a reminder comes while a check fires (0: never).
	Repeat time.Duration `json:"repeat,omitempty"`
}

// Check is one health check in a notice.
type Check struct {
	Name   string        `json:"name"`
	Status health.Status `json:"status"`
	Output string        `json:"output,omitempty"`
	// Value is the observed value with its unit, e.g. "93 %".
	Value string `json:"value,omitempty"`
	// Change is what happened since the previous notice; Was is the status
	// that notice showed.
	Change health.Change `json:"change,omitempty"`
	Was    health.Status `json:"was,omitempty"`
	// Since is when the check started to fire.
	Since time.Time `json:"since,omitzero"`
	// Gone: the check is no longer run.
	Gone bool `json:"gone,omitempty"`
}

// check reports whether d has the section kind needs.
func (d Data) check(kind Kind) error {
	var ok bool
	switch kind {
	case KindBackupSucceeded, KindBackupFailed:
		ok = d.Backup != nil
	case KindVerifyFailed:
		ok = d.Verify != nil
	case KindHealthDegraded, KindHealthFailed, KindHealthReminder, KindHealthRecovered:
		ok = d.Health != nil
	case KindCleanupReport:
		ok = d.Cleanup != nil
	case KindTest:
		ok = true
	default:
		return fmt.Errorf("unknown notification kind %q", kind)
	}
	if !ok {
		return fmt.Errorf("%s notification without its %s data", kind, section(kind))
	}
	return nil
}

func section(k Kind) string {
	switch k {
	case KindBackupSucceeded, KindBackupFailed:
		return "backup"
	case KindVerifyFailed:
		return "verify"
	case KindCleanupReport:
		return "cleanup"
	}
	return "health"
}

// scrub redacts every secret in every string of d (config.Secrets says
// which occurrences). It copies the sections and slices first, so the
// caller's values are left as they were.
func (d *Data) scrub(s config.Secrets) {
	if s.Empty() {
		return
	}
	d.own()
	d.Database, d.Host = s.Redact(d.Database), s.Redact(d.Host)
	if b := d.Backup; b != nil {
		for _, p := range []*string{&b.ID, &b.Name, &b.Engine, &b.Location, &b.SHA256, &b.Error, &b.Hint, &b.Attempt.TaskID, &b.Attempt.Queue} {
			*p = s.Redact(*p)
		}
	}
	if v := d.Verify; v != nil {
		for _, p := range []*string{&v.ID, &v.Name, &v.Stage, &v.Error, &v.Hint, &v.Attempt.TaskID, &v.Attempt.Queue} {
			*p = s.Redact(*p)
		}
	}
	if h := d.Health; h != nil {
		for _, cs := range [][]Check{h.Checks, h.Recovered} {
			for i := range cs {
				c := &cs[i]
				c.Name, c.Output, c.Value = s.Redact(c.Name), s.Redact(c.Output), s.Redact(c.Value)
			}
		}
	}
	if c := d.Cleanup; c != nil {
		c.ID = s.Redact(c.ID)
		for i := range c.Deleted {
			c.Deleted[i].Name = s.Redact(c.Deleted[i].Name)
		}
		for i := range c.Errors {
			c.Errors[i] = s.Redact(c.Errors[i])
		}
	}
}

// own replaces d's sections and slices with copies.
func (d *Data) own() {
	if d.Backup != nil {
		b := *d.Backup
		d.Backup = &b
	}
	if d.Verify != nil {
		v := *d.Verify
		d.Verify = &v
	}
	if d.Health != nil {
		h := *d.Health
		h.Checks = slices.Clone(h.Checks)
		h.Recovered = slices.Clone(h.Recovered)
		d.Health = &h
	}
	if d.Cleanup != nil {
		c := *d.Cleanup
		c.Deleted = slices.Clone(c.Deleted)
		c.Errors = slices.Clone(c.Errors)
		d.Cleanup = &c
	}
}
