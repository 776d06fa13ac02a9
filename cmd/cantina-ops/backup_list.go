package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/units"
)

func runBackupList(ctx context.Context, a *app, args []string) error {
	fs := backupFlags(a, "list")
	storage := storageFlag(fs, "list only this destination")
	asJSON := fs.Bool("json", false, "print the listing as JSON")
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
	// A destination that cannot be listed is reported after the others.
	l, listErr := m.ListAll(ctx)
	if *asJSON {
		if err := writeJSON(a.stdout, l); err != nil {
			return err
		}
		return listErr
	}
	if len(l.Backups) == 0 {
		where := make([]string, 0, len(m.Dests()))
		for _, dst := range m.Dests() {
			where = append(where, dst.String())
		}
		fmt.Fprintf(a.stdout, "no backups in %s\n", strings.Join(where, ", "))
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DESTINATION\tNAME\tSTATUS\tSIZE\tAGE\tENGINE\tROWS\tRESTORE")
	now := time.Now()
	for _, b := range l.Backups {
		engine, rows, restore := "-", "-", "-"
		if b.Manifest != nil {
			engine, rows = b.Manifest.Engine, fmt.Sprint(b.Manifest.Rows())
			if d := b.Manifest.Drill; d != nil {
				restore = drillText(*d)
			}
		}
		status := string(b.Status)
		if b.Problem != "" {
			status += " (" + b.Problem + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.Destination, b.Name, status, units.Bytes(b.Size),
			b.Age(now).Round(time.Minute), engine, rows, restore)
	}
	for _, o := range l.Temps {
		fmt.Fprintf(tw, "%s\t%s\ttemporary (in progress or interrupted)\t%s\t%s\t-\t-\t-\n", o.Destination, o.Name, units.Bytes(o.Size), now.Sub(o.ModTime).Round(time.Minute))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if b, ok := l.LastDrill(""); ok {
		last := b.Manifest.Drill
		fmt.Fprintf(a.stdout, "last restore drill: %s loaded in %s on %s (%d connections)", b.Name,
			drillText(*last), last.At.UTC().Format("2006-01-02 15:04 UTC"), last.Threads)
		if !last.OK {
			fmt.Fprint(a.stdout, ", and the copy did NOT match its manifest")
		}
		fmt.Fprintln(a.stdout)
	} else if len(l.Backups) > 0 {
		fmt.Fprintln(a.stdout, "no restore drill yet: `cantina-ops backup verify --latest --restore-test` measures the restore time")
	}
	return listErr
}

// drillText is a backup's last restore drill in the list: its load time.
func drillText(d backup.Drill) string {
	s := d.RestoreTime().Round(100 * time.Millisecond).String()
	if !d.OK {
		s += " (mismatch)"
	}
	return s
}
