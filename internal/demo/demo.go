// Package demo creates and fills a realistic demo database for Cantina POS, a
// school cafeteria's point of sale: categories, products with images,
// students and staff, cashiers, sales, sale lines and payments, plus a view
// and a trigger. The data is generated deterministically from a seed, at a
// chosen approximate size, with the values that trip up backup tools (NULLs,
// empty strings, accents, emoji, quotes, backslashes, NUL bytes in text and
// blobs). It is what `cantina-ops demo seed` and `make run` load, and what
// backup and restore tests run against. Seed marks the database it fills
// (MarkerTable), and Seed and Reset refuse a database that has tables but
// no marker: a real POS database is never overwritten by accident.
package demo

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// tableNames lists the demo tables, parents before children.
var tableNames = []string{"categories", "products", "customers", "users", "sales", "sale_lines", "payments"}

// Tables returns the demo tables' names, parents before children.
func Tables() []string { return append([]string(nil), tableNames...) }

// BaseTables returns every base table a seeded database holds: the demo
// tables, then MarkerTable.
func BaseTables() []string { return append(Tables(), MarkerTable) }

// View and Trigger name the demo's other objects.
const (
	View    = "daily_sales"
	Trigger = "sale_lines_after_insert"
)

// ErrExists means the database already holds demo objects.
var ErrExists = errors.New("demo tables already exist")

// Options chooses what Seed generates.
type Options struct {
	// Size is the approximate data size to generate, in bytes, as InnoDB's
	// data_length counts it (indexes not counted; they add about as much
	// again). From about 10 MB up it lands within 20% (within 2% at 200 MB
	// and 1 GB); below, InnoDB's extent allocation inflates data_length, and
	// under about 300 KB Seed generates a minimal cafeteria anyway.
	Size int64
	// Seed selects the data: the same Seed and Size give identical content.
	Seed int64
	// Force seeds a database that is not a demo database (it has tables
	// but no MarkerTable), which then becomes one.
	Force bool
	// By names the program in the marker, e.g. "cantina-ops v1.2.0";
	// empty: "cantina-ops".
	By string
}

// TableStats describes one table after seeding.
type TableStats struct {
	Name string
	Rows int64
	// DataBytes and IndexBytes are InnoDB's data_length and index_length
	// after ANALYZE TABLE: page counts, so approximate.
	DataBytes, IndexBytes int64
}

// Stats describes a finished Seed.
type Stats struct {
	Tables  []TableStats // in the order of Tables()
	Elapsed time.Duration
}

// Rows is the total number of rows.
func (s Stats) Rows() int64 {
	var n int64
	for _, t := range s.Tables {
		n += t.Rows
	}
	return n
}

// DataBytes is the total data size, indexes not counted.
func (s Stats) DataBytes() int64 {
	var n int64
	for _, t := range s.Tables {
		n += t.DataBytes
	}
	return n
}

// IndexBytes is the total size of the secondary indexes.
func (s Stats) IndexBytes() int64 {
	var n int64
	for _, t := range s.Tables {
		n += t.IndexBytes
	}
	return n
}

// commitEvery is how many INSERTs a load transaction holds: fewer commits,
// fewer redo log flushes.
const commitEvery = 16

// loaders is how many connections Seed uses at once: one for the small
// tables and one each for sales, sale_lines and payments.
const loaders = 4

// Seed creates the demo schema in db's current database and fills it.
//
// It refuses, with ErrNotDemo and changing nothing, a database that has
// tables but no MarkerTable (a real POS database, perhaps), unless
// o.Force; it fails with ErrExists when any demo object is already there
// (call Reset first to start over). It then writes the marker, before any
// demo table, and records the finished seed in it. When it fails after
// creating tables, including on cancellation, it drops them again, so
// that a database never holds a half-loaded demo; the marker stays. It
// uses up to 4 connections of db, each discarded afterwards rather than
// returned to the pool with its bulk-load settings.
func Seed(ctx context.Context, db *sql.DB, o Options) (_ Stats, err error) {
	start := time.Now()
	if m := db.Stats().MaxOpenConnections; m > 0 && m < loaders {
		return Stats{}, fmt.Errorf("seed: needs %d connections, db allows %d", loaders, m)
	}
	state, err := guard(ctx, db, o.Force)
	if err != nil {
		return Stats{}, fmt.Errorf("seed: %w", err)
	}
	found, err := Objects(ctx, db)
	if err != nil {
		return Stats{}, err
	}
	if len(found) > 0 {
		return Stats{}, fmt.Errorf("seed database %s: %w (%s)", state.Database, ErrExists, strings.Join(found, ", "))
	}
	by := o.By
	if by == "" {
		by = "cantina-ops"
	}
	if err := mark(ctx, db, by); err != nil {
		return Stats{}, fmt.Errorf("seed database %s: %w", state.Database, err)
	}

	// Tables are created without their secondary keys and foreign keys,
	// which are added once each table is loaded.
	var tables, rest []string
	alters := map[string]string{}
	for _, stmt := range Schema() {
		if strings.HasPrefix(stmt, "CREATE TABLE") {
			create, alter := deferKeys(stmt)
			tables = append(tables, create)
			alters[strings.Fields(stmt)[2]] = alter
		} else {
			rest = append(rest, stmt)
		}
	}
	defer func() {
		if err != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if rerr := dropObjects(cctx, db); rerr != nil {
				err = errors.Join(err, fmt.Errorf("clean up after the failed seed: %w", rerr))
			}
		}
	}()
	if err := withLoadConn(ctx, db, func(c *sql.Conn) error { return execAll(ctx, c, tables) }); err != nil {
		return Stats{}, fmt.Errorf("seed: create tables: %w", err)
	}
	rows, err := load(ctx, db, planFor(o.Size), o.Seed, alters)
	if err != nil {
		return Stats{}, fmt.Errorf("seed: %w", err)
	}
	// The view and trigger come after the data, as in a dump: the generated
	// sales already carry their totals.
	if err := withLoadConn(ctx, db, func(c *sql.Conn) error { return execAll(ctx, c, rest) }); err != nil {
		return Stats{}, fmt.Errorf("seed: create view and trigger: %w", err)
	}
	st, err := measure(ctx, db)
	if err != nil {
		return Stats{}, fmt.Errorf("seed: %w", err)
	}
	for i := range st.Tables {
		st.Tables[i].Rows = rows[st.Tables[i].Name]
	}
	if err := markSeeded(ctx, db, by, o); err != nil {
		return Stats{}, fmt.Errorf("seed: %w", err)
	}
	st.Elapsed = time.Since(start)
	return st, nil
}

func execAll(ctx context.Context, c *sql.Conn, stmts []string) error {
	for _, s := range stmts {
		if _, err := c.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%.60s…: %w", s, err)
		}
	}
	return nil
}

// Objects lists the demo tables, view and trigger present in db's current
// database. After a successful Seed there are len(Tables())+2 of them.
func Objects(ctx context.Context, db *sql.DB) ([]string, error) {
	q := `SELECT TABLE_NAME FROM information_schema.TABLES
	       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (` + placeholders(len(tableNames)+1) + `)
	      UNION ALL
	      SELECT TRIGGER_NAME FROM information_schema.TRIGGERS
	       WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME = ?
	      ORDER BY 1`
	args := make([]any, 0, len(tableNames)+2)
	for _, t := range tableNames {
		args = append(args, t)
	}
	args = append(args, View, Trigger)
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list demo objects: %w", err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("list demo objects: %w", err)
		}
		found = append(found, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list demo objects: %w", err)
	}
	return found, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// Reset drops the demo's trigger, view and tables (children first) from db's
// current database. Objects that are missing are skipped; nothing else is
// touched, the marker included: the database stays a demo database. Like
// Seed, it refuses with ErrNotDemo a database that is not a demo database,
// unless force.
func Reset(ctx context.Context, db *sql.DB, force bool) error {
	if _, err := guard(ctx, db, force); err != nil {
		return fmt.Errorf("reset demo: %w", err)
	}
	return dropObjects(ctx, db)
}

// dropObjects drops the demo's trigger, view and tables, unguarded.
func dropObjects(ctx context.Context, db *sql.DB) error {
	stmts := []string{"DROP TRIGGER IF EXISTS `" + Trigger + "`", "DROP VIEW IF EXISTS `" + View + "`"}
	for i := len(tableNames) - 1; i >= 0; i-- {
		stmts = append(stmts, "DROP TABLE IF EXISTS `"+tableNames[i]+"`")
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("reset demo: %s: %w", s, err)
		}
	}
	return nil
}

// sessionSetup makes a connection fit for the bulk load: UTF-8, UTC for the
// TIMESTAMP column, backslash escapes on (the literals rely on them), and no
// per-row foreign key and unique checks (the generator keeps them true).
var sessionSetup = []string{
	"SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci",
	"SET SESSION time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', foreign_key_checks = 0, unique_checks = 0",
}

// withLoadConn runs f on a dedicated connection set up for bulk loading, and
// then discards the connection so that its session settings never leak into
// the caller's pool.
func withLoadConn(ctx context.Context, db *sql.DB, f func(*sql.Conn) error) error {
	c, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() {
		_ = c.Raw(func(any) error { return driver.ErrBadConn })
		_ = c.Close()
	}()
	if err := execAll(ctx, c, sessionSetup); err != nil {
		return fmt.Errorf("set up session: %w", err)
	}
	return f(c)
}

// load generates the rows and inserts them over `loaders` connections, one
// goroutine per destination; each then adds its tables' keys (alters). It
// returns the row count per table.
func load(ctx context.Context, db *sql.DB, p plan, seed int64, alters map[string]string) (map[string]int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	small := make(chan []byte, 2)
	sales := make(chan []byte, 2)
	lines := make(chan []byte, 2)
	pays := make(chan []byte, 2)

	var wg sync.WaitGroup
	consume := func(ch <-chan []byte, tables ...string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := withLoadConn(ctx, db, func(c *sql.Conn) error {
				if _, err := c.ExecContext(ctx, "SET SESSION autocommit = 0"); err != nil {
					return err
				}
				n := 0
				for stmt := range ch {
					if _, err := c.ExecContext(ctx, string(stmt)); err != nil {
						return fmt.Errorf("insert: %w", err)
					}
					if n++; n%commitEvery == 0 {
						if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
							return fmt.Errorf("commit: %w", err)
						}
					}
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
					return fmt.Errorf("commit: %w", err)
				}
				for _, t := range tables {
					if alters[t] == "" {
						continue
					}
					if _, err := c.ExecContext(ctx, alters[t]); err != nil {
						return fmt.Errorf("add keys: %w", err)
					}
				}
				return nil
			})
			if err != nil {
				cancel(fmt.Errorf("load %s: %w", strings.Join(tables, ", "), err))
				for range ch { // let the producer finish or notice the cancel
				}
			}
		}()
	}
	consume(small, "categories", "products", "customers", "users")
	consume(sales, "sales")
	consume(lines, "sale_lines")
	consume(pays, "payments")

	g := newGenerator(ctx, p, seed, small, sales, lines, pays)
	genErr := g.run()
	close(small)
	close(sales)
	close(lines)
	close(pays)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	if genErr != nil {
		return nil, genErr
	}
	return g.rows, nil
}

// measure reads the tables' sizes after refreshing InnoDB's statistics.
func measure(ctx context.Context, db *sql.DB) (Stats, error) {
	rows, err := db.QueryContext(ctx, "ANALYZE TABLE "+strings.Join(tableNames, ", "))
	if err != nil {
		return Stats{}, fmt.Errorf("analyze tables: %w", err)
	}
	for rows.Next() {
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Stats{}, fmt.Errorf("analyze tables: %w", err)
	}
	st := Stats{Tables: make([]TableStats, len(tableNames))}
	for i, t := range tableNames {
		st.Tables[i].Name = t
		err := db.QueryRowContext(ctx, `SELECT COALESCE(DATA_LENGTH, 0), COALESCE(INDEX_LENGTH, 0) FROM information_schema.TABLES
		                                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`, t).
			Scan(&st.Tables[i].DataBytes, &st.Tables[i].IndexBytes)
		if err != nil {
			return Stats{}, fmt.Errorf("size of %s: %w", t, err)
		}
	}
	return st, nil
}
