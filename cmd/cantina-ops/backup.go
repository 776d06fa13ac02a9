package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/backup/sqlload"
	"github.com/cantina-pos/cantina-ops/internal/notify"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// backupUsage is each `backup` subcommand's arguments.
var backupUsage = map[string]string{
	"run":     "[--notify] [--enqueue]",
	"list":    "[--json]",
	"verify":  "[NAME | --latest] [--restore-test] [--json]",
	"restore": "NAME [--database DB] [--yes]",
	"cleanup": "[--dry-run] [--json]",
}

// backupCommands are the `backup` subcommands, in usage order.
func backupCommands() []command {
	return []command{
		{"run", backupUsage["run"], runBackupRun},
		{"list", backupUsage["list"], runBackupList},
		{"verify", backupUsage["verify"], runBackupVerify},
		{"restore", backupUsage["restore"], runBackupRestore},
		{"cleanup", backupUsage["cleanup"], runBackupCleanup},
	}
}

func runBackup(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 {
		for _, c := range backupCommands() {
			if c.name == args[0] {
				return c.run(ctx, a, args[1:])
			}
		}
	}
	w := a.stderr
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		w = a.stdout
	}
	fmt.Fprintln(w, "Usage:")
	for _, c := range backupCommands() {
		fmt.Fprintf(w, "  cantina-ops backup %s %s\n", c.name, c.summary)
	}
	switch {
	case len(args) == 0:
		return errUsage
	case w == a.stdout:
		return nil
	}
	return fmt.Errorf("%w: unknown backup command %q", errUsage, args[0])
}

// backupFlags returns the FlagSet of a backup subcommand.
func backupFlags(a *app, name string) *flag.FlagSet {
	return newFlags(a, "backup "+name, backupUsage[name])
}

// parseWithArgs parses flags that may come before or after positional
// arguments (`backup verify NAME --restore-test`) and returns the positional
// ones; at most maxArgs are allowed.
func parseWithArgs(fs *flag.FlagSet, args []string, maxArgs int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) > maxArgs {
		fs.Usage()
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, pos[maxArgs])
	}
	return pos, nil
}

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
		task, err := tasks.NewBackupRun(tasks.BackupRun{Trigger: tasks.TriggerCLI, RequestedAt: time.Now().UTC()}, d.cfg.BackupTimeout)
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
	var n *notify.Notifier
	if *notifyFlag {
		n = d.notifier()
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.BackupTimeout)
	defer cancel()
	prog := newProgressLine(a.stderr)
	man, err := m.Run(ctx, backup.RunOptions{Trigger: tasks.TriggerCLI, Progress: prog.update})
	prog.done()
	if err != nil {
		if nerr := n.BackupFailed(ctx, notify.Backup{
			ID: "cli:" + time.Now().UTC().Format(backup.TimeLayout), Error: err.Error(),
		}); nerr != nil {
			fmt.Fprintln(a.stderr, "cantina-ops: could not queue the failure email:", nerr)
		}
		return fmt.Errorf("backup of %s failed: %w", d.cfg.DB.Name, err)
	}
	ev := notify.Backup{ID: "cli:" + man.Name, Name: man.Name, Engine: man.Engine, Bytes: man.CompressedBytes,
		RawBytes: man.RawBytes, SHA256: man.SHA256, Tables: len(man.Tables), Rows: man.Rows(), Duration: man.Duration()}
	if nerr := n.BackupSucceeded(ctx, ev); nerr != nil {
		fmt.Fprintln(a.stderr, "cantina-ops: could not queue the success email:", nerr)
	}
	fmt.Fprintf(a.stdout, "backup %s: %d tables, %d rows, %s SQL → %s gzip (%.0f%% smaller) in %s\nsha256 %s\n",
		man.Name, len(man.Tables), man.Rows(), formatBytes(man.RawBytes), formatBytes(man.CompressedBytes),
		100*(1-float64(man.CompressedBytes)/float64(max(man.RawBytes, 1))), man.Duration().Round(time.Millisecond), man.SHA256)
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
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	tables := fmt.Sprint(pr.TablesDone)
	if pr.TablesAll > 0 {
		tables += "/" + fmt.Sprint(pr.TablesAll)
	}
	fmt.Fprintf(p.w, "\r\033[Ktables %s  rows %d  %s  %s", tables, pr.Rows, formatBytes(pr.Bytes), pr.Table)
}

func (p *progressLine) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func runBackupList(ctx context.Context, a *app, args []string) error {
	fs := backupFlags(a, "list")
	asJSON := fs.Bool("json", false, "print the listing as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d, m, err := openBackups(a)
	if err != nil {
		return err
	}
	defer d.close()
	l, err := m.List(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, l)
	}
	if len(l.Backups) == 0 {
		fmt.Fprintf(a.stdout, "no backups in %s\n", d.cfg.BackupDir)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tSIZE\tAGE\tENGINE\tROWS")
	now := time.Now()
	for _, b := range l.Backups {
		engine, rows := "-", "-"
		if b.Manifest != nil {
			engine, rows = b.Manifest.Engine, fmt.Sprint(b.Manifest.Rows())
		}
		status := string(b.Status)
		if b.Problem != "" {
			status += " (" + b.Problem + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", b.Name, status, formatBytes(b.Size),
			b.Age(now).Round(time.Minute), engine, rows)
	}
	for _, o := range l.Temps {
		fmt.Fprintf(tw, "%s\ttemporary (in progress or interrupted)\t%s\t%s\t-\t-\n", o.Name, formatBytes(o.Size), now.Sub(o.ModTime).Round(time.Minute))
	}
	return tw.Flush()
}

func runBackupVerify(ctx context.Context, a *app, args []string) error {
	fs := backupFlags(a, "verify")
	latest := fs.Bool("latest", false, "verify the newest good backup")
	restoreTest := fs.Bool("restore-test", false, "also restore into a scratch database and compare every table with the manifest")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, err := parseWithArgs(fs, args, 1)
	if err != nil {
		return err
	}
	if (len(pos) == 1) == *latest {
		fs.Usage()
		return fmt.Errorf("%w: name a backup or pass --latest", errUsage)
	}
	d, m, err := openBackups(a)
	if err != nil {
		return err
	}
	defer d.close()
	name := ""
	if len(pos) == 1 {
		name = pos[0]
	} else {
		b, err := m.Latest(ctx)
		if err != nil {
			return fmt.Errorf("%w in %s", err, d.cfg.BackupDir)
		}
		name = b.Name
	}
	rep, err := m.Verify(ctx, name, *restoreTest)
	if *asJSON {
		if jerr := writeJSON(a.stdout, rep); jerr != nil {
			return jerr
		}
	} else {
		printVerify(a.stdout, rep)
	}
	if err != nil {
		if errors.Is(err, backup.ErrVerifyFailed) {
			return errSilent
		}
		return err
	}
	return nil
}

func printVerify(w io.Writer, rep backup.VerifyReport) {
	verdict := "OK"
	if !rep.OK() {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "%s: %s\n", rep.Name, verdict)
	if rep.SHA256 != "" {
		fmt.Fprintf(w, "  sha256 %s, %s compressed, %s SQL\n", rep.SHA256, formatBytes(rep.CompressedBytes), formatBytes(rep.RawBytes))
	}
	if rep.RestoreTest {
		ok := 0
		for _, t := range rep.Tables {
			if t.OK {
				ok++
			}
		}
		fmt.Fprintf(w, "  restore test in %s: %d/%d tables match the manifest\n", rep.ScratchDatabase, ok, len(rep.Tables))
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(w, "  problem:", p)
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "  note:", n)
	}
}

func runBackupRestore(ctx context.Context, a *app, args []string) error {
	fs := backupFlags(a, "restore")
	database := fs.String("database", "", "restore into this database instead of the configured one")
	yes := fs.Bool("yes", false, "replace the target database's contents without asking")
	pos, err := parseWithArgs(fs, args, 1)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("%w: name the backup to restore (see `cantina-ops backup list`)", errUsage)
	}
	name := pos[0]
	if err := backup.ValidateName(name); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	d, m, err := openBackups(a)
	if err != nil {
		return err
	}
	defer d.close()
	target := *database
	if target == "" {
		target = m.Database
	}
	st, err := m.Target(ctx, target)
	if err != nil {
		return err
	}
	replace := false
	if st.Exists && len(st.Objects) > 0 {
		if !*yes {
			if !confirm(a, fmt.Sprintf("Database %s has %d tables and views; they will be DROPPED and replaced by %s.\nType the database name to confirm: ", target, len(st.Objects), name), target) {
				return errors.New("restore cancelled: nothing was changed (pass --yes to skip this question)")
			}
		}
		replace = true
	}
	prog := newProgressLine(a.stderr)
	res, err := m.Restore(ctx, name, backup.RestoreOptions{Database: target, Replace: replace, Progress: func(s sqlload.Stats) {
		prog.update(backup.Progress{Rows: s.Statements, Bytes: s.Bytes, Table: "statements"})
	}})
	prog.done()
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(a.stderr, "warning:", w)
	}
	fmt.Fprintf(a.stdout, "restored %s into %s: %d statements, %s SQL in %s\n", res.Name, res.Database,
		res.Stats.Statements, formatBytes(res.Stats.Bytes), res.Elapsed.Round(time.Millisecond))
	return nil
}

// confirm asks on the terminal and reports whether the answer is want.
// Without a terminal nobody can answer: it says no.
func confirm(a *app, question, want string) bool {
	if !isTerminal(a.stdin) {
		fmt.Fprint(a.stderr, question)
		fmt.Fprintln(a.stderr, "\n(no terminal to answer on)")
		return false
	}
	fmt.Fprint(a.stderr, question)
	line, _ := bufio.NewReader(a.stdin).ReadString('\n')
	return strings.TrimSpace(line) == want
}

func runBackupCleanup(ctx context.Context, a *app, args []string) error {
	fs := backupFlags(a, "cleanup")
	dryRun := fs.Bool("dry-run", false, "show what would be deleted and why; delete nothing")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d, m, err := openBackups(a)
	if err != nil {
		return err
	}
	defer d.close()
	rep, err := m.Cleanup(ctx, *dryRun)
	if *asJSON {
		if jerr := writeJSON(a.stdout, rep); jerr != nil {
			return jerr
		}
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, dec := range rep.Decisions {
		verdict := "keep"
		if dec.Delete {
			verdict = "delete"
			if rep.DryRun {
				verdict = "would delete"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", verdict, dec.Name, dec.Reason)
	}
	_ = tw.Flush()
	what := "freed"
	if rep.DryRun {
		what = "would free"
	}
	fmt.Fprintf(a.stdout, "%d deleted, %s %s\n", len(rep.Deleted), what, formatBytes(rep.Freed))
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// openBackups opens the connections and the backup manager; close d when
// done.
func openBackups(a *app) (*deps, *backup.Manager, error) {
	d, err := openDeps(a)
	if err != nil {
		return nil, nil, err
	}
	m, err := d.backups()
	if err != nil {
		d.close()
		return nil, nil, err
	}
	return d, m, nil
}

// formatBytes prints a size in binary units, e.g. "12.3 MiB".
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
