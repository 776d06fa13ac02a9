package worker

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/logging"
	"github.com/cantina-pos/cantina-ops/internal/notify"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// recorder is a task body and failure report that remember their calls.
type recorder struct {
	err      error
	block    bool // wait for ctx to end, then return its error
	reported []Failure
	// reportCtxErr is the report context's error when it was called.
	reportCtxErr []error
}

func (r *recorder) run(ctx context.Context, _ tasks.BackupRun) (string, error) {
	if r.block {
		<-ctx.Done()
		return "", ctx.Err()
	}
	return "done", r.err
}

func (r *recorder) report(ctx context.Context, _ tasks.BackupRun, f Failure) error {
	r.reported = append(r.reported, f)
	r.reportCtxErr = append(r.reportCtxErr, ctx.Err())
	return nil
}

func backupTask(t *testing.T, payload string) *asynq.Task {
	t.Helper()
	if payload != "" {
		return asynq.NewTask(tasks.TypeBackupRun, []byte(payload))
	}
	task, err := tasks.New(tasks.BackupRun{Trigger: backup.TriggerAPI}, tasks.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return task
}

// TestAdapter runs the one adapter without an asynq server: attempts come
// from notify.ContextWithAttempt, as asynq's would.
func TestAdapter(t *testing.T) {
	boom := errors.New("database unreachable")
	tests := []struct {
		name       string
		rec        recorder
		payload    string
		attempt    int // of 4
		timeout    time.Duration
		cancelTask bool // the task's own context has ended when the report runs
		wantErr    bool
		wantFinal  bool // the error ends the task (SkipRetry)
		wantReport bool
		wantTO     bool
	}{
		{name: "success", attempt: 1},
		{name: "bad payload is permanent and reported", payload: `{"trigger":"api","password":"x"}`, attempt: 1,
			wantErr: true, wantFinal: true, wantReport: true},
		{name: "error on an early attempt is retried quietly", rec: recorder{err: boom}, attempt: 1, wantErr: true},
		{name: "error on the last attempt is reported", rec: recorder{err: boom}, attempt: 4, wantErr: true, wantReport: true},
		{name: "permanent error is reported at once", rec: recorder{err: errors.Join(boom, asynq.SkipRetry)}, attempt: 1,
			wantErr: true, wantFinal: true, wantReport: true},
		{name: "first timeout is retried", rec: recorder{block: true}, attempt: 1, timeout: 200 * time.Millisecond,
			wantErr: true, wantTO: true},
		{name: "second timeout ends the task and is reported", rec: recorder{block: true}, attempt: 2, timeout: 200 * time.Millisecond,
			wantErr: true, wantFinal: true, wantReport: true, wantTO: true},
		{name: "report runs although the task's context is over", rec: recorder{err: boom}, attempt: 4, cancelTask: true,
			wantErr: true, wantReport: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tt.rec
			h := &handler[tasks.BackupRun, string]{run: rec.run, report: rec.report, log: logging.Discard()}
			ctx := notify.ContextWithAttempt(context.Background(), notify.Attempt{TaskID: "t1", Number: tt.attempt, Max: 4})
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			if tt.cancelTask {
				c, cancel := context.WithCancel(ctx)
				cancel()
				ctx = c
				h.run = func(context.Context, tasks.BackupRun) (string, error) { return "", boom }
			}
			err := h.ProcessTask(ctx, backupTask(t, tt.payload))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if got := errors.Is(err, asynq.SkipRetry); got != tt.wantFinal {
				t.Errorf("SkipRetry %v, want %v (error %v)", got, tt.wantFinal, err)
			}
			var te *TimeoutError
			if got := errors.As(err, &te); got != tt.wantTO {
				t.Errorf("timeout %v, want %v (error %v)", got, tt.wantTO, err)
			} else if got && (te.Limit <= 0 || te.Limit > tt.timeout || !errors.Is(err, context.DeadlineExceeded)) {
				t.Errorf("timeout limit %s (set %s), error %v", te.Limit, tt.timeout, err)
			}
			if got := len(rec.reported) == 1; got != tt.wantReport || len(rec.reported) > 1 {
				t.Fatalf("%d reports, want report %v", len(rec.reported), tt.wantReport)
			}
			if tt.wantReport {
				if rec.reportCtxErr[0] != nil {
					t.Errorf("the report ran on an ended context: %v", rec.reportCtxErr[0])
				}
				if f := rec.reported[0]; f.Attempt.TaskID != "t1" || f.Err == nil {
					t.Errorf("report %+v", f)
				}
			}
		})
	}
}

// TestBodyOverrunsTheMargin: a body that ignores its deadline past the
// margin returns after asynq has recorded the attempt by its own timeout
// (a retry unless it was the last): the report follows asynq's decision.
func TestBodyOverrunsTheMargin(t *testing.T) {
	for _, tt := range []struct {
		attempt    int
		wantReport bool
	}{{2, false}, {4, true}} {
		rec := &recorder{}
		ctx := notify.ContextWithAttempt(context.Background(), notify.Attempt{TaskID: "t1", Number: tt.attempt, Max: 4})
		ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		h := &handler[tasks.BackupRun, string]{log: logging.Discard(), report: rec.report,
			run: func(bodyCtx context.Context, _ tasks.BackupRun) (string, error) {
				<-bodyCtx.Done()
				<-ctx.Done() // overrun: return only once the task's own deadline has passed
				return "", bodyCtx.Err()
			}}
		err := h.ProcessTask(ctx, backupTask(t, ""))
		cancel()
		if err == nil {
			t.Fatal("no error")
		}
		if got := len(rec.reported) == 1; got != tt.wantReport {
			t.Errorf("attempt %d of 4: reported %v, want %v", tt.attempt, got, tt.wantReport)
		}
	}
}

// TestTimeoutEndsBeforeAsynq: the body's deadline comes a margin before
// the task's, so its error (not asynq's own timeout) decides the attempt.
func TestTimeoutEndsBeforeAsynq(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rctx, rcancel, limit := withMargin(ctx)
	defer rcancel()
	d, _ := ctx.Deadline()
	rd, _ := rctx.Deadline()
	if !rd.Before(d) || d.Sub(rd) > 30*time.Second {
		t.Errorf("body deadline %s before the task's, want a margin of at most 30s", d.Sub(rd))
	}
	if limit != time.Minute {
		t.Errorf("limit %s, want 1m0s", limit)
	}
}

// TestRegistryCoversEveryType: the worker registers exactly the task types
// of package tasks, and the scheduler's periodic types are among them.
func TestRegistryCoversEveryType(t *testing.T) {
	r := handlers(&config.Config{}, Deps{Logger: logging.Discard()})
	var want []string
	for _, a := range tasks.All() {
		want = append(want, a.TaskType())
	}
	got := slices.Sorted(slices.Values(r.types))
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("registered %v, want %v", got, want)
	}
	for _, p := range tasks.PeriodicTasks(&config.Config{}) {
		if !slices.Contains(got, p.Args.TaskType()) {
			t.Errorf("periodic %s has no handler", p.Args.TaskType())
		}
	}
}
