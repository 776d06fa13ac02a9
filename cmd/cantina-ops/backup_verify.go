package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/units"
	"github.com/cantina-pos/cantina-ops/tasks"
)

func runBackupVerify(ctx context.Context, a *app, args []string) error {
	fs := backupFlags(a, "verify")
	latest := fs.Bool("latest", false, "verify the newest good backup")
	restoreTest := fs.Bool("restore-test", false, "also restore into a scratch database and compare every table with the manifest")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	storage := storageFlag(fs, "read the backup from this destination (default: the first that has it)")
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
	if m, err = onStorage(m, *storage); err != nil {
		return err
	}
	name := ""
	if len(pos) == 1 {
		name = pos[0]
		if *storage == "" {
			if m, err = m.Locate(ctx, name); err != nil {
				return err
			}
		}
	} else {
		lm, b, err := m.LatestToVerifyAll(ctx)
		if err != nil {
			return err
		}
		m, name = lm, b.Name
	}
	if len(d.cfg.BackupStorage) > 1 {
		fmt.Fprintf(a.stderr, "verifying %s in %s\n", name, m.Dests()[0])
	}
	// The same limit as the backup:verify task: a drill that runs longer
	// could outlive the scratch grace after which cleanup drops it.
	ctx, cancel := context.WithTimeout(ctx, tasks.LimitsOf(d.cfg).VerifyTimeout())
	defer cancel()
	rep, err := m.Verify(ctx, name, *restoreTest)
	if *asJSON {
		if jerr := writeJSON(a.stdout, rep); jerr != nil {
			return jerr
		}
	} else {
		printVerify(a.stdout, rep, err)
	}
	if err != nil {
		if errors.Is(err, backup.ErrVerifyFailed) {
			return errSilent
		}
		return err
	}
	return nil
}

// printVerify prints the report; err is Verify's error: one that is no
// finding about the file (a drill the server refused, say) leaves the
// verification unfinished, not OK.
func printVerify(w io.Writer, rep backup.VerifyReport, err error) {
	verdict := "OK"
	switch {
	case !rep.OK():
		verdict = "FAILED"
	case err != nil:
		verdict = "NOT FINISHED (see the error)"
	}
	fmt.Fprintf(w, "%s: %s\n", rep.Name, verdict)
	if rep.SHA256 != "" {
		fmt.Fprintf(w, "  sha256 %s, %s compressed, %s SQL\n", rep.SHA256, units.Bytes(rep.CompressedBytes), units.Bytes(rep.RawBytes))
	}
	if rep.RestoreTest {
		ok := 0
		for _, t := range rep.Tables {
			if t.OK {
				ok++
			}
		}
		fmt.Fprintf(w, "  restore test in %s: %d/%d tables match the manifest\n", rep.ScratchDatabase, ok, len(rep.Tables))
		if rep.Drill != nil {
			fmt.Fprintf(w, "  measured restore time (RTO): %s on %d connections, recorded in the manifest\n",
				rep.Drill.RestoreTime().Round(100*time.Millisecond), rep.Drill.Threads)
		}
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(w, "  problem:", p)
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "  note:", n)
	}
}
