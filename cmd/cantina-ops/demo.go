package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/demo"
	"github.com/cantina-pos/cantina-ops/internal/mysqlx"
	"github.com/cantina-pos/cantina-ops/internal/units"
)

const demoSeedArgs = "[--size 50MB] [--seed 1] [--reset [--yes] | --if-empty] [--force]"

// demoSeedHelp follows the flags in `demo seed --help`.
const demoSeedHelp = `
demo seed only changes a demo database: one that is empty (it becomes a demo
database) or that an earlier demo seed marked (table ` + demo.MarkerTable + `).
A database with other tables and no marker may be the real POS database: demo
seed refuses it and changes nothing, unless --force.
--reset drops the demo tables first and asks for the database name on a
terminal; without one (scripts, tests) it needs --yes.`

// runDemo is `cantina-ops demo seed`: it creates the configured database if
// needed and fills it with the demo POS data, refusing a database that is
// not a demo database.
func runDemo(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] != "seed" {
		fmt.Fprintln(a.stderr, "Usage: cantina-ops demo seed "+demoSeedArgs)
		if len(args) == 0 {
			return errUsage
		}
		return fmt.Errorf("%w: unknown demo command %q", errUsage, args[0])
	}
	fs := newFlags(a, "demo seed", demoSeedArgs)
	flagsUsage := fs.Usage
	fs.Usage = func() {
		flagsUsage()
		fmt.Fprintln(a.stderr, demoSeedHelp)
	}
	sizeFlag := fs.String("size", "50MB", "approximate data size (e.g. 200MB, 1GB, 512KiB)")
	seed := fs.Int64("seed", 1, "random seed: the same seed and size give the same data")
	reset := fs.Bool("reset", false, "drop the demo tables, view and trigger first (asks on a terminal; needs --yes without one)")
	yes := fs.Bool("yes", false, "with --reset: drop without asking")
	ifEmpty := fs.Bool("if-empty", false, "do nothing when the demo data is already there")
	force := fs.Bool("force", false, "also seed (and --reset) a database that has tables but no demo marker: it may be a real POS database")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	size, err := demo.ParseSize(*sizeFlag)
	if err != nil {
		return fmt.Errorf("%w: --size: %v", errUsage, err)
	}
	if *reset && *ifEmpty {
		return fmt.Errorf("%w: --reset and --if-empty contradict each other; pick one", errUsage)
	}
	cfg, _, err := a.load()
	if err != nil {
		return err
	}

	db, err := openDemoDB(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()

	found, err := demo.Objects(ctx, db)
	if err != nil {
		return err
	}
	if *ifEmpty && len(found) == len(demo.Tables())+2 {
		fmt.Fprintf(a.stdout, "demo data already in %s; nothing to do\n", cfg.DB.String())
		return nil
	}
	st, err := demo.Inspect(ctx, db)
	if err != nil {
		return err
	}
	if !*force {
		if err := st.Check(); err != nil {
			return fmt.Errorf("%w\nRefusing to touch it: nothing was changed. Point DATABASE_URL at a demo database, or pass --force if this one may be overwritten", err)
		}
	}
	if *ifEmpty && len(found) > 0 {
		return fmt.Errorf("%s has some demo tables but not all (%s): an earlier seed was cut short, or these tables are not the demo's; check, then run `cantina-ops demo seed --reset`",
			cfg.DB.String(), strings.Join(found, ", "))
	}
	if *reset && len(found) > 0 {
		if err := resetDemo(ctx, a, db, st, found, *yes, *force); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.stdout, "seeding %s with about %s of demo data (seed %d)…\n", cfg.DB.String(), *sizeFlag, *seed)
	stats, err := demo.Seed(ctx, db, demo.Options{Size: size, Seed: *seed, Force: *force, By: "cantina-ops " + version})
	if errors.Is(err, demo.ErrExists) {
		return fmt.Errorf("%w\nRun `cantina-ops demo seed --reset` to replace the demo data, or --if-empty to keep it", err)
	}
	if err != nil {
		return err
	}
	printSeedStats(a, stats)
	return nil
}

// resetDemo drops the demo objects found in st's database after the
// operator confirmed it on the terminal (or passed --yes).
func resetDemo(ctx context.Context, a *app, db *sql.DB, st demo.State, found []string, yes, force bool) error {
	if !yes {
		what := fmt.Sprintf("Database %s holds demo data", st.Database)
		if m := st.Marker; m != nil && !m.SeededAt.IsZero() {
			what += fmt.Sprintf(" (seeded %s by %s)", m.SeededAt.Format(time.DateTime+" MST"), m.SeededBy)
		}
		if !st.IsDemo() {
			what = fmt.Sprintf("Database %s has NO demo marker: it may be a real POS database", st.Database)
		}
		these := fmt.Sprintf("These %d objects", len(found))
		if len(found) == 1 {
			these = "This object"
		}
		q := fmt.Sprintf("%s.\n%s will be DROPPED and seeded again: %s.\nType the database name to confirm: ",
			what, these, strings.Join(found, ", "))
		if !confirm(a, q, st.Database) {
			return errors.New("demo seed --reset cancelled: nothing was changed (pass --yes to skip this question)")
		}
	}
	return demo.Reset(ctx, db, force)
}

// openDemoDB opens the configured database, creating it first when it does
// not exist. An account without the CREATE privilege (a managed host) can
// still seed a database that exists.
func openDemoDB(ctx context.Context, d config.DB) (*sql.DB, error) {
	db, err := openMySQL(d.MySQL())
	if err != nil {
		return nil, err
	}
	err = db.PingContext(ctx)
	if err == nil {
		return db, nil
	}
	_ = db.Close()
	var me *mysql.MySQLError
	switch {
	case errors.As(err, &me) && me.Number == 1044: // ER_DBACCESS_DENIED_ERROR, also for a missing database
		return nil, fmt.Errorf("connect to %s: %w (create the database, or grant this account access to it)", d.String(), err)
	case !errors.As(err, &me) || me.Number != 1049: // ER_BAD_DB_ERROR: unknown database
		return nil, fmt.Errorf("connect to %s: %w", d.String(), err)
	}

	mc := d.MySQL()
	mc.DBName = ""
	server, err := openMySQL(mc)
	if err != nil {
		return nil, err
	}
	defer server.Close()
	stmt := mysqlx.CreateDatabase(d.Name, true)
	if _, err := server.ExecContext(ctx, stmt); err != nil {
		return nil, fmt.Errorf("create database %s: %w (create it, or grant this account CREATE)", d.Name, err)
	}
	db, err = openMySQL(d.MySQL())
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to %s: %w", d.String(), err)
	}
	return db, nil
}

func openMySQL(c *mysql.Config) (*sql.DB, error) {
	conn, err := mysql.NewConnector(c)
	if err != nil {
		return nil, fmt.Errorf("database configuration: %w", err)
	}
	return sql.OpenDB(conn), nil
}

func printSeedStats(a *app, st demo.Stats) {
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\trows\tdata\tindexes\t")
	for _, t := range st.Tables {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t\n", t.Name, t.Rows, units.Bytes(t.DataBytes), units.Bytes(t.IndexBytes))
	}
	fmt.Fprintf(tw, "total\t%d\t%s\t%s\t\n", st.Rows(), units.Bytes(st.DataBytes()), units.Bytes(st.IndexBytes()))
	_ = tw.Flush()
	secs := st.Elapsed.Seconds()
	fmt.Fprintf(a.stdout, "done in %.1f s (%s/s of data)\n", secs,
		units.Bytes(int64(float64(st.DataBytes())/max(secs, time.Millisecond.Seconds()))))
}
