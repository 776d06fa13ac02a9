package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/units"
)

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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", b.Name, status, units.Bytes(b.Size),
			b.Age(now).Round(time.Minute), engine, rows)
	}
	for _, o := range l.Temps {
		fmt.Fprintf(tw, "%s\ttemporary (in progress or interrupted)\t%s\t%s\t-\t-\n", o.Name, units.Bytes(o.Size), now.Sub(o.ModTime).Round(time.Minute))
	}
	return tw.Flush()
}
