package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/notify"
	"github.com/cantina-pos/cantina-ops/internal/units"
	"github.com/cantina-pos/cantina-ops/tasks"
	"github.com/cantina-pos/cantina-ops/worker"
)

// runBackupRun makes a backup now, in this process (it needs only the
// database and BACKUP_DIR: it works when Redis is down), or with --enqueue
// asks a worker to make it.
func runBackupRun(ctx context.Context, a *app, args []string) error {
	fs := backupFlags(a, "run")
	notifyFlag := fs.Bool("notify", false, "send the emails BACKUP_NOTIFY asks for (failure, or always), through the queue")
	enqueue := fs.Bool("enqueue", false, "queue a backup:run task for a worker instead of running it here")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d, err := openDeps(a)
	if err != nil {
		return err
	}
	defer d.close()
	if *enqueue {
		task, err := tasks.New(tasks.BackupRun{Trigger: backup.TriggerCLI, RequestedAt: time.Now().UTC()}, tasks.Limits{BackupTimeout: d.cfg.BackupTimeout})
		if err != nil {
			return err
		}
		info, err := asynq.NewClientFromRedisClient(d.rdb).EnqueueContext(ctx, task)
		if err != nil {
			return fmt.Errorf("enqueue backup (run `cantina-ops backup run` without --enqueue to back up without Redis): %w", err)
		}
		fmt.Fprintf(a.stdout, "queued backup task %s on queue %s; follow it in the console (%s/monitoring/)\n", info.ID, info.Queue, d.cfg.PublicURL)
		return nil
	}
	m, err := d.backups()
	if err != nil {
		return err
	}
	prog := newProgressLine(a.stderr)
	b := &worker.Backups{Manager: m, Log: d.log, Progress: prog.update}
	if *notifyFlag {
		b.Notifier = d.notifier()
	}
	// The same body and failure report as the worker's backup:run, under
	// an ID of this run's own.
	ctx = notify.ContextWithAttempt(ctx, notify.Attempt{TaskID: "cli:" + time.Now().UTC().Format(backup.TimeLayout)})
	man, err := worker.RunOnce(ctx, tasks.BackupRun{Trigger: backup.TriggerCLI}, d.cfg.BackupTimeout, b.Run, b.RunFailed, d.log)
	prog.done()
	if err != nil {
		if h := worker.RunHint(err); h != "" {
			err = fmt.Errorf("%w\n%s", err, h)
		}
		return fmt.Errorf("backup of %s failed: %w", d.cfg.DB.Name, err)
	}
	fmt.Fprintf(a.stdout, "backup %s: %d tables, %d rows, %s SQL → %s gzip (%.0f%% smaller) in %s\nsha256 %s\n",
		man.Name, len(man.Tables), man.Rows(), units.Bytes(man.RawBytes), units.Bytes(man.CompressedBytes),
		100*(1-float64(man.CompressedBytes)/float64(max(man.RawBytes, 1))), man.Duration().Round(time.Millisecond), man.SHA256)
	if man.Encryption != "" {
		fmt.Fprintf(a.stdout, "encrypted with %s to %d recipient(s)\n", man.Encryption, len(man.Recipients))
	}
	where := make([]string, 0, len(m.Dests()))
	for _, dst := range m.Dests() {
		where = append(where, dst.String())
	}
	fmt.Fprintf(a.stdout, "stored in %s\n", strings.Join(where, ", "))
	return nil
}

// progressLine redraws one status line on a terminal; elsewhere it is silent.
type progressLine struct {
	w    io.Writer
	on   bool
	mu   sync.Mutex
	last time.Time
}

func newProgressLine(w io.Writer) *progressLine {
	return &progressLine{w: w, on: isTerminal(w)}
}

func (p *progressLine) update(pr backup.Progress) {
	p.show(func() string {
		tables := fmt.Sprint(pr.TablesDone)
		if pr.TablesAll > 0 {
			tables += "/" + fmt.Sprint(pr.TablesAll)
		}
		return fmt.Sprintf("tables %s  rows %d  %s  %s", tables, pr.Rows, units.Bytes(pr.Bytes), pr.Table)
	})
}

// show redraws the line with line(), at most five times a second.
func (p *progressLine) show(line func() string) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprint(p.w, "\r\033[K"+line())
}

func (p *progressLine) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
