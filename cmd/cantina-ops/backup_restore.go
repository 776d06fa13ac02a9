package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/backup/sqlload"
	"github.com/cantina-pos/cantina-ops/internal/units"
)

func runBackupRestore(ctx context.Context, a *app, args []string) error {
	started := time.Now()
	fs := backupFlags(a, "restore")
	database := fs.String("database", "", "restore into this database instead of the configured one")
	yes := fs.Bool("yes", false, "replace the target database's contents without asking")
	storage := storageFlag(fs, "read the backup from this destination (default: the first that has it)")
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
	// A system schema is refused before anything is opened.
	if *database != "" {
		if err := backup.ValidateTarget(*database); err != nil {
			return err
		}
	}
	d, m, err := openBackups(a)
	if err != nil {
		return err
	}
	defer d.close()
	if m, err = onStorage(m, *storage); err != nil {
		return err
	}
	if *storage == "" {
		if m, err = m.Locate(ctx, name); err != nil {
			return err
		}
	}
	if len(d.cfg.BackupStorage) > 1 {
		fmt.Fprintf(a.stderr, "restoring %s from %s\n", name, m.Dests()[0])
	}
	target := *database
	if target == "" {
		target = m.Database
	}
	if err := backup.ValidateTarget(target); err != nil {
		return err
	}
	var shown []string
	var est restoreEstimate
	var waited time.Duration // for the operator's answer: not part of the RTO
	ask := func(p backup.RestorePlan) bool {
		est = newRestoreEstimate(p)
		fmt.Fprint(a.stderr, restoreSummary(p, time.Now()))
		shown = p.Warnings
		switch {
		case p.Target.Empty():
			return true
		case *yes:
			fmt.Fprintln(a.stderr, "--yes given: replacing them.")
			return true
		}
		asked := time.Now()
		defer func() { waited = time.Since(asked) }()
		return confirm(a, "Type the database name to confirm: ", p.Database)
	}
	prog := newProgressLine(a.stderr)
	var loadStart time.Time
	var once sync.Once
	res, err := m.Restore(ctx, name, backup.RestoreOptions{Database: target, Replace: true, Confirm: ask, Progress: func(s sqlload.Stats) {
		once.Do(func() { loadStart = time.Now() })
		prog.show(func() string { return est.line(s, time.Since(loadStart)) })
	}})
	prog.done()
	if errors.Is(err, backup.ErrRestoreCancelled) {
		return fmt.Errorf("%w (pass --yes to skip this question)", err)
	}
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		if !slices.Contains(shown, w) {
			fmt.Fprintln(a.stderr, "warning:", w)
		}
	}
	how := fmt.Sprintf("%d connections", res.Stats.Threads)
	if n := res.Stats.LoadDataRows; n > 0 {
		how += fmt.Sprintf(", %d rows as LOAD DATA", n)
	}
	if n := res.Stats.SpillBytes; n > 0 {
		how += ", " + units.Bytes(n) + " read ahead to temporary files"
	}
	fmt.Fprintf(a.stdout, "restored %s into %s: %d tables, %d rows, %s SQL in %s (%s)\n", res.Name, res.Database,
		res.Stats.Tables, res.Stats.Rows, units.Bytes(res.Stats.Bytes), res.Elapsed.Round(time.Millisecond), how)
	fmt.Fprintf(a.stdout, "measured RTO: %s from the command's start to a usable database (not counting the confirmation)\n",
		(time.Since(started) - waited).Round(100*time.Millisecond))
	return nil
}

// restoreEstimate is what a restore's progress line knows from the start:
// the SQL's size and its tables (the manifest's, each with its size), and
// the last restore drill's time, the estimate before the load has run
// long enough to measure its own pace.
type restoreEstimate struct {
	raw, biggest int64
	tables       int
	drill        time.Duration
}

func newRestoreEstimate(p backup.RestorePlan) restoreEstimate {
	e := restoreEstimate{raw: p.RawBytes}
	if man := p.Backup.Manifest; man != nil {
		e.tables = len(man.Tables)
		for _, t := range man.Tables {
			e.biggest = max(e.biggest, t.Bytes)
		}
		if man.Drill != nil && man.Drill.OK {
			e.drill = man.Drill.RestoreTime()
		}
	}
	return e
}

// measureAfter is how long a load runs before its own pace estimates the
// rest, instead of the last drill's time.
const measureAfter = 3 * time.Second

// left is the time the rest of the load should take, after elapsed with
// done of the raw bytes loaded; false when there is nothing to go by yet.
// It assumes the pace so far holds: index builds after the rows, which
// read no bytes, make it optimistic towards the end, the more so the
// bigger the biggest table.
func (e restoreEstimate) left(done int64, elapsed time.Duration) (time.Duration, bool) {
	if e.raw <= 0 {
		return 0, false
	}
	if elapsed < measureAfter || done <= 0 {
		if e.drill <= 0 {
			return 0, false
		}
		return max(e.drill-elapsed, 0), true
	}
	rest := float64(max(e.raw-done, 0)) / float64(done) * float64(elapsed)
	return time.Duration(rest), true
}

// line is the progress line after s, elapsed since the load started:
// tables done (of the manifest's), bytes (of the SQL), rows per second and
// the time left.
func (e restoreEstimate) line(s sqlload.Stats, elapsed time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tables %d", s.Tables)
	if e.tables > 0 {
		fmt.Fprintf(&b, "/%d", e.tables)
	}
	fmt.Fprintf(&b, "  %s", units.Bytes(s.Bytes))
	if e.raw > 0 {
		fmt.Fprintf(&b, "/%s (%d%%)", units.Bytes(e.raw), min(100, s.Bytes*100/e.raw))
	}
	if secs := elapsed.Seconds(); secs > 0 {
		fmt.Fprintf(&b, "  %.0f rows/s", float64(s.Rows)/secs)
	}
	if left, ok := e.left(s.Bytes, elapsed); ok {
		fmt.Fprintf(&b, "  about %s left", left.Round(time.Second))
	}
	return b.String()
}

// restoreSummary is what an operator reads before a restore changes
// anything: the backup, whether it was verified, and what the target holds
// now.
func restoreSummary(p backup.RestorePlan, now time.Time) string {
	var b strings.Builder
	bk := p.Backup
	fmt.Fprintf(&b, "Backup %s\n", bk.Name)
	fmt.Fprintf(&b, "  taken     %s (%s ago)\n", bk.Time.UTC().Format("2006-01-02 15:04:05 UTC"), bk.Age(now).Round(time.Minute))
	fmt.Fprintf(&b, "  size      %s compressed, %s of SQL\n", units.Bytes(bk.Size), units.Bytes(p.RawBytes))
	switch {
	case p.Verified && p.Quick:
		fmt.Fprintf(&b, "  verified  sha256 %s and size match its manifest (a new database: its gzip stream and trailer are checked as it loads)\n", bk.Manifest.SHA256)
	case p.Verified:
		fmt.Fprintf(&b, "  verified  sha256 %s, sizes, gzip stream and trailer match its manifest\n", bk.Manifest.SHA256)
	default:
		fmt.Fprintln(&b, "  NOT VERIFIED: only the gzip stream and its trailer could be checked")
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "  WARNING: %s\n", w)
	}
	fmt.Fprintf(&b, "Target database %s\n", p.Database)
	st := p.Target
	switch {
	case !st.Exists:
		fmt.Fprintln(&b, "  does not exist: it will be created")
	case st.Empty():
		fmt.Fprintln(&b, "  exists and is empty")
	case st.Interrupted != "":
		fmt.Fprintf(&b, "  holds the partial copy of an interrupted restore of %s (%d tables, %d views and %d routines and events): it will be DROPPED and replaced by the backup\n",
			st.Interrupted, st.Tables, len(st.Objects)-st.Tables, len(st.Routines))
	default:
		fmt.Fprintf(&b, "  holds %d tables, %d views and %d routines and events, %s: everything in it will be DROPPED and replaced by the backup\n",
			st.Tables, len(st.Objects)-st.Tables, len(st.Routines), units.Bytes(st.Bytes))
	}
	return b.String()
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
