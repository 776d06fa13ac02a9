package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/backup/sqlload"
	"github.com/cantina-pos/cantina-ops/internal/units"
)

func runBackupRestore(ctx context.Context, a *app, args []string) error {
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
	ask := func(p backup.RestorePlan) bool {
		fmt.Fprint(a.stderr, restoreSummary(p, time.Now()))
		shown = p.Warnings
		switch {
		case p.Target.Empty():
			return true
		case p.Target.Interrupted != "":
			fmt.Fprintln(a.stderr, "It holds what an interrupted restore left: replacing it.")
			return true
		case *yes:
			fmt.Fprintln(a.stderr, "--yes given: replacing them.")
			return true
		}
		return confirm(a, "Type the database name to confirm: ", p.Database)
	}
	prog := newProgressLine(a.stderr)
	res, err := m.Restore(ctx, name, backup.RestoreOptions{Database: target, Replace: true, Confirm: ask, Progress: func(s sqlload.Stats) {
		prog.update(backup.Progress{Rows: s.Statements, Bytes: s.Bytes, Table: "statements"})
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
	fmt.Fprintf(a.stdout, "restored %s into %s: %d tables, %d rows, %s SQL in %s (%d connections)\n", res.Name, res.Database,
		res.Stats.Tables, res.Stats.Rows, units.Bytes(res.Stats.Bytes), res.Elapsed.Round(time.Millisecond), res.Stats.Threads)
	return nil
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
	if p.Verified {
		fmt.Fprintf(&b, "  verified  sha256 %s, sizes, gzip stream and trailer match its manifest\n", bk.Manifest.SHA256)
	} else {
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
