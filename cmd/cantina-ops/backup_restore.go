package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/backup/sqlload"
)

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
