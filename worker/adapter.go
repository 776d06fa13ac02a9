package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/notify"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// reportTimeout bounds a failure report (queueing its emails). It runs on
// a context detached from the task's, which may have expired already.
const reportTimeout = 15 * time.Second

// Failure is a task that failed for good: what its report needs.
type Failure struct {
	Attempt notify.Attempt
	Err     error
	// BadPayload: the payload did not decode, the handler never ran.
	BadPayload bool
}

// Timeout returns the attempt's time limit when Failure is a timeout.
func (f Failure) Timeout() (time.Duration, bool) {
	var te *TimeoutError
	if errors.As(f.Err, &te) {
		return te.Limit, true
	}
	return 0, false
}

// TimeoutError is an attempt that ran out of its time limit.
type TimeoutError struct {
	// Limit is the attempt's time limit (the task's Timeout option).
	Limit time.Duration
	Err   error
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("timed out after %s: %v", e.Limit, e.Err)
}

// Unwrap gives the handler's error and context.DeadlineExceeded.
func (e *TimeoutError) Unwrap() []error { return []error{e.Err, context.DeadlineExceeded} }

// handler is the one adapter between asynq and a typed task body: it
// decodes the payload strictly (a bad one is permanent), runs the body with
// a deadline a little before asynq's so that the body's own error — not
// asynq's — decides the attempt, stores the result as JSON, and on a final
// failure calls the report with a context detached from the task's, so a
// timed-out task is still reported.
//
// A timeout is retried once at most: a job that outgrew its limit will not
// fit in it on the third or fourth try either, and each try costs a full
// limit's worth of load on production.
type handler[A tasks.Args, R any] struct {
	run func(context.Context, A) (R, error)
	// report tells the administrator about a final failure; nil: the
	// error handler's log line is all.
	report func(context.Context, A, Failure) error
	log    *slog.Logger
}

func (h *handler[A, R]) ProcessTask(ctx context.Context, t *asynq.Task) error {
	att := notify.AttemptFromContext(ctx)
	a, err := tasks.Decode[A](t)
	if err != nil {
		h.final(ctx, a, Failure{Attempt: att, Err: err, BadPayload: true})
		return err
	}
	res, err := h.attempt(ctx, a, att)
	if err == nil {
		h.writeResult(t, att, res)
	}
	return err
}

// attempt runs the body once and reports a final failure.
func (h *handler[A, R]) attempt(ctx context.Context, a A, att notify.Attempt) (R, error) {
	rctx, cancel, limit := withMargin(ctx)
	defer cancel()
	res, err := h.run(rctx, a)
	if err == nil {
		return res, nil
	}
	if errors.Is(rctx.Err(), context.DeadlineExceeded) {
		err = &TimeoutError{Limit: limit, Err: err}
		if att.Number >= 2 {
			err = fmt.Errorf("%w; not retried again: %w", err, asynq.SkipRetry)
		}
	}
	final := att.Final(err)
	if ctx.Err() != nil {
		// The body overran the margin: asynq has recorded this attempt
		// on its own, by ctx's error, and retries it unless it was the
		// last; report only what asynq decided.
		final = att.Number >= att.Max
	}
	if final {
		h.final(ctx, a, Failure{Attempt: att, Err: err})
	}
	return res, err
}

// RunOnce runs a task body outside the queue as the worker runs a last
// attempt: limit is its deadline, running out of it is a TimeoutError, and
// a failure is reported (report may be nil) on a detached context. The
// run's attempt is notify.AttemptFromContext(ctx): name it with
// notify.ContextWithAttempt, so its emails get IDs of their own.
func RunOnce[A tasks.Args, R any](ctx context.Context, a A, limit time.Duration, run func(context.Context, A) (R, error), report func(context.Context, A, Failure) error, log *slog.Logger) (R, error) {
	h := &handler[A, R]{run: run, report: report, log: log}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	return h.attempt(ctx, a, notify.AttemptFromContext(ctx))
}

// final reports a final failure on a detached context.
func (h *handler[A, R]) final(ctx context.Context, a A, f Failure) {
	if h.report == nil {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reportTimeout)
	defer cancel()
	if err := h.report(rctx, a, f); err != nil {
		h.log.Error("could not report a failed task", "task", a.TaskType(), "task_id", f.Attempt.TaskID, "err", err)
	}
}

// writeResult stores res as the task's JSON result, readable in the
// console and through the Inspector. The work is done by then: a result
// that cannot be stored is logged, not retried (a retry could repeat the
// work, e.g. send an email twice).
func (h *handler[A, R]) writeResult(t *asynq.Task, att notify.Attempt, res R) {
	w := t.ResultWriter()
	if w == nil { // a task not run by an asynq server (tests)
		return
	}
	b, err := json.Marshal(res)
	if err == nil {
		_, err = w.Write(b)
	}
	if err != nil {
		h.log.Warn("task done, but its result could not be stored", "task", t.Type(), "task_id", att.TaskID, "err", err)
	}
}

// withMargin returns a context that ends a little before ctx's deadline,
// so the body can clean up and return its error before asynq records the
// timeout on its own, and the attempt's time limit.
func withMargin(ctx context.Context) (context.Context, context.CancelFunc, time.Duration) {
	deadline, ok := ctx.Deadline()
	if !ok {
		c, cancel := context.WithCancel(ctx)
		return c, cancel, 0
	}
	left := time.Until(deadline)
	margin := min(max(left/10, 50*time.Millisecond), 30*time.Second)
	c, cancel := context.WithDeadline(ctx, deadline.Add(-margin))
	return c, cancel, roundLimit(left)
}

// roundLimit rounds the time left at an attempt's start to the limit an
// operator configured (2m0s, not 1m59.998s).
func roundLimit(d time.Duration) time.Duration {
	if d >= 10*time.Second {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

// registry collects one handler per task type.
type registry struct {
	mux   *asynq.ServeMux
	types []string
}

func newRegistry() *registry { return &registry{mux: asynq.NewServeMux()} }

// register adds the typed body run (and its failure report) for A's type.
func register[A tasks.Args, R any](r *registry, log *slog.Logger, run func(context.Context, A) (R, error), report func(context.Context, A, Failure) error) {
	var a A
	r.mux.Handle(a.TaskType(), &handler[A, R]{run: run, report: report, log: log})
	r.types = append(r.types, a.TaskType())
}
