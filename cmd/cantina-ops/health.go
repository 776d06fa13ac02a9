package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/cantina-pos/cantina-ops/internal/health"
)

// runHealth implements `health [--json] [--verbose]`: run the checks once,
// print the report, exit 1 when the status is fail.
func runHealth(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "health", "[--json] [--verbose]")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	verbose := fs.Bool("verbose", false, "print every check, not only those that did not pass")
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
	if rep.Status == health.Fail {
		return errSilent
	}
	return nil
}
