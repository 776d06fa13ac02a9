package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/cantina-pos/cantina-ops/internal/units"
)

func runBackupCleanup(ctx context.Context, a *app, args []string) error {
	fs := backupFlags(a, "cleanup")
	dryRun := fs.Bool("dry-run", false, "show what would be deleted and why; delete nothing")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	storage := storageFlag(fs, "clean only this destination (default: every destination, each by its own listing)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d, m, err := openBackups(a)
	if err != nil {
		return err
	}
	defer d.close()
	if m, err = onStorage(m, *storage); err != nil {
		return err
	}
	rep, err := m.CleanupAll(ctx, *dryRun)
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", verdict, dec.Destination, dec.Name, dec.Reason)
	}
	_ = tw.Flush()
	what := "freed"
	if rep.DryRun {
		what = "would free"
	}
	fmt.Fprintf(a.stdout, "%d deleted, %s %s\n", len(rep.Deleted), what, units.Bytes(rep.Freed))
	for _, db := range rep.DroppedScratch {
		fmt.Fprintf(a.stdout, "dropped %s, a restore drill's scratch database left behind\n", db)
	}
	return err
}
