package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/cantina-pos/cantina-ops/internal/health"
	"github.com/cantina-pos/cantina-ops/internal/notify"
)

// runHealth implements `health [--verbose] [--json] [--notify]`: run the
// checks once, print a table (or, with --json, the document GET /health/
// serves), exit 1 when the status is fail. With --notify it also compares
// the status with the last one recorded (by this command or the scheduled
// health:check) and queues an email on a change.
func runHealth(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "health", "[--verbose] [--json] [--notify]")
	asJSON := fs.Bool("json", false, "print the health document that GET /health/ serves")
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
	rep := d.healthChecker(d.listing()).Run(ctx)
	if err := printHealth(a.stdout, rep, *asJSON, *verbose); err != nil {
		return err
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

// printHealth writes rep as the endpoint's document (asJSON) or as a table
// for people: the checks that did not pass (every check when verbose),
// worst first, then a summary line.
func printHealth(w io.Writer, rep health.Report, asJSON, verbose bool) error {
	if asJSON {
		b, err := health.EncodeDocument(rep, version)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	names := make([]string, 0, len(rep.Checks))
	count := map[health.Status]int{}
	for name, r := range rep.Checks {
		count[r.Status]++
		if verbose || r.Status != health.Pass {
			names = append(names, name)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(rep.Checks[b].Status.Severity()-rep.Checks[a].Status.Severity(), strings.Compare(a, b))
	})
	if len(names) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CHECK\tSTATUS\tVALUE\tTHRESHOLD\tHINT")
		for _, name := range names {
			r := rep.Checks[name]
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, r.Status, orDash(health.FormatValue(r.ObservedValue, r.ObservedUnit)), orDash(r.Threshold), orDash(r.Output))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	status := rep.Status
	if status == "" {
		status = health.Pass
	}
	summary := fmt.Sprintf("status: %s (%d checks: %d pass, %d warn, %d fail)", status, len(rep.Checks), count[health.Pass], count[health.Warn], count[health.Fail])
	if !verbose && count[health.Pass] > 0 {
		summary += "; --verbose shows every check"
	}
	_, err := fmt.Fprintln(w, summary)
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// notifyHealth keeps rep in the round history, as the health task does,
// steps the per-check alert state with rep and queues the email that is
// due, if any.
func notifyHealth(ctx context.Context, d *deps, rep health.Report, out io.Writer) error {
	if err := (&health.History{Redis: d.rdb, Database: d.cfg.DB.Name}).Add(ctx, rep); err != nil {
		return fmt.Errorf("health --notify: the round could not be kept; is the queue Redis (REDIS_URL) reachable? %w", err)
	}
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
