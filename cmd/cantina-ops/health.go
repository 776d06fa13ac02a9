package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/cantina-pos/cantina-ops/internal/health"
	"github.com/cantina-pos/cantina-ops/internal/notify"
)

// runHealth implements `health [--verbose] [--json] [--notify]`: run the
// checks once, print the report, exit 1 when the status is fail. With
// --notify it also compares the status with the last one recorded (by this
// command or the scheduled health:check) and queues an email on a change.
func runHealth(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "health", "[--verbose] [--json] [--notify]")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	verbose := fs.Bool("verbose", false, "print every check, not only those that did not pass")
	notifyChange := fs.Bool("notify", false, "email NOTIFY_EMAILS if the status changed since the last check (degraded, failed, recovered)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d, err := openDeps(a)
	if err != nil {
		return err
	}
	defer d.close()
	rep := health.Readiness(d.rdb, d.db, d.cfg.HealthTimeout).Run(ctx)
	if *asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.stdout, "status: %s\n", rep.Status)
		names := make([]string, 0, len(rep.Checks))
		for n := range rep.Checks {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			r := rep.Checks[n]
			if r.Status == health.Pass && !*verbose {
				continue
			}
			fmt.Fprintf(a.stdout, "  %-12s %-4s %6.1f ms  %s\n", n, r.Status, r.DurationMS, r.Output)
		}
	}
	if *notifyChange {
		// Keep stdout pure JSON with --json.
		out := a.stdout
		if *asJSON {
			out = a.stderr
		}
		if err := notifyHealth(ctx, d, rep, out); err != nil {
			return err
		}
	}
	if rep.Status == health.Fail {
		return errSilent
	}
	return nil
}

// notifyHealth steps the per-check alert state with rep and queues the
// email that is due, if any.
func notifyHealth(ctx context.Context, d *deps, rep health.Report, out io.Writer) error {
	n := d.notifier()
	w := &notify.HealthWatch{Redis: d.rdb, Notifier: n, Database: d.cfg.DB.Name, Repeat: d.cfg.Health.AlertRepeat}
	notice, err := w.Observe(ctx, rep)
	if err != nil {
		return fmt.Errorf("health --notify: the alert could not be queued; is the queue Redis (REDIS_URL) reachable? %w", err)
	}
	switch {
	case notice.Kind == "":
		fmt.Fprintf(out, "notify: nothing new (%s), nobody emailed\n", rep.Status)
	case !n.Enabled():
		fmt.Fprintf(out, "notify: %s due, but notifications are off (set EMAIL_HOST and NOTIFY_EMAILS)\n", notice.Kind)
	default:
		fmt.Fprintf(out, "notify: %s email queued for the worker to send:", notice.Kind)
		sep := " "
		for _, a := range notice.Alerts {
			fmt.Fprintf(out, "%s%s (%s)", sep, a.Check, a.Change)
			sep = ", "
		}
		fmt.Fprintln(out)
	}
	return nil
}
