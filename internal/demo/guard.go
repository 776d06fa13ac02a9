package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MarkerTable is the table Seed writes first, before any demo table: its
// presence says "this database holds demo data only". Seed and Reset change
// only an empty database or one that has it, unless forced, so that a real
// POS database (whose tables may well be called products and sales) is never
// overwritten by accident.
const MarkerTable = "cantina_demo_marker"

// ErrNotDemo means the database holds tables but no demo marker: it may be
// a real POS database.
var ErrNotDemo = errors.New("not a demo database")

// markerSchema is the marker table: one row (id 1), written when Seed first
// claims the database and updated when a seed completes.
const markerSchema = "CREATE TABLE IF NOT EXISTS `" + MarkerTable + "` (\n" +
	"  id TINYINT UNSIGNED NOT NULL PRIMARY KEY,\n" +
	"  created_at DATETIME(6) NOT NULL,\n" +
	"  created_by VARCHAR(100) NOT NULL,\n" +
	"  seeded_at DATETIME(6) NULL,\n" +
	"  seeded_by VARCHAR(100) NULL,\n" +
	"  seed BIGINT NULL,\n" +
	"  size_bytes BIGINT NULL\n" +
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='written by cantina-ops demo seed: this database holds demo data only'"

// Marker is the content of the marker table.
type Marker struct {
	CreatedAt time.Time // when a seed first claimed the database (UTC)
	CreatedBy string    // e.g. "cantina-ops v1.2.0"
	// SeededAt is when the last seed completed; zero while the first one
	// runs or after it failed.
	SeededAt time.Time
	SeededBy string
}

// State is what a database holds, as far as the guard cares.
type State struct {
	Database string
	// Tables lists the tables and views other than the marker, sorted.
	Tables []string
	// Marker is nil when the marker table does not exist (or is empty).
	Marker *Marker
}

// IsDemo reports whether Seed and Reset may change the database unforced:
// it is empty or it carries the marker.
func (s State) IsDemo() bool { return s.Marker != nil || len(s.Tables) == 0 }

// Check returns nil for a demo database and otherwise an ErrNotDemo that
// says what was found. It is the guard of Seed and Reset.
func (s State) Check() error {
	if s.IsDemo() {
		return nil
	}
	const show = 5
	names := s.Tables
	more := ""
	if len(names) > show {
		names, more = names[:show], fmt.Sprintf(", … (%d more)", len(s.Tables)-show)
	}
	hint := "it looks like a real POS database"
	if s.onlyDemoTables() {
		hint = "all of them demo tables, perhaps seeded by a cantina-ops from before the marker"
	}
	return fmt.Errorf("%w: database %s has %d %s (%s%s) and no demo marker (table %s): %s",
		ErrNotDemo, s.Database, len(s.Tables), plural(len(s.Tables), "table", "tables"), strings.Join(names, ", "), more, MarkerTable, hint)
}

// onlyDemoTables reports whether every table found is one of the demo's
// tables or its view.
func (s State) onlyDemoTables() bool {
	for _, t := range s.Tables {
		if t != View && !isDemoTable(t) {
			return false
		}
	}
	return len(s.Tables) > 0
}

func isDemoTable(name string) bool {
	for _, t := range tableNames {
		if t == name {
			return true
		}
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Inspect reads the state of db's current database: its tables and views,
// and the demo marker. It changes nothing.
func Inspect(ctx context.Context, db *sql.DB) (State, error) {
	var name sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&name); err != nil {
		return State{}, fmt.Errorf("inspect database: %w", err)
	}
	if !name.Valid {
		return State{}, errors.New("inspect database: no database selected (put a database name in the connection)")
	}
	st := State{Database: name.String}
	rows, err := db.QueryContext(ctx, `SELECT TABLE_NAME FROM information_schema.TABLES
	                                    WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME`)
	if err != nil {
		return State{}, fmt.Errorf("inspect database %s: list tables: %w", st.Database, err)
	}
	defer rows.Close()
	marked := false
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return State{}, fmt.Errorf("inspect database %s: list tables: %w", st.Database, err)
		}
		if t == MarkerTable {
			marked = true
			continue
		}
		st.Tables = append(st.Tables, t)
	}
	if err := rows.Err(); err != nil {
		return State{}, fmt.Errorf("inspect database %s: list tables: %w", st.Database, err)
	}
	if !marked {
		return st, nil
	}
	var m Marker
	var created, seeded, seededBy sql.NullString
	err = db.QueryRowContext(ctx, "SELECT DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ'), created_by, "+
		"DATE_FORMAT(seeded_at, '%Y-%m-%dT%H:%i:%s.%fZ'), seeded_by FROM `"+MarkerTable+"` WHERE id = 1").
		Scan(&created, &m.CreatedBy, &seeded, &seededBy)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil // an empty marker table marks nothing
	}
	if err != nil {
		return State{}, fmt.Errorf("inspect database %s: read %s: %w", st.Database, MarkerTable, err)
	}
	m.CreatedAt, _ = time.Parse(time.RFC3339Nano, created.String)
	m.SeededAt, _ = time.Parse(time.RFC3339Nano, seeded.String)
	m.SeededBy = seededBy.String
	st.Marker = &m
	return st, nil
}

// guard inspects db's current database and, unless force, fails with
// ErrNotDemo when it is not a demo database.
func guard(ctx context.Context, db *sql.DB, force bool) (State, error) {
	st, err := Inspect(ctx, db)
	if err != nil {
		return State{}, err
	}
	if force {
		return st, nil
	}
	return st, st.Check()
}

// mark claims db's current database for the demo: it creates the marker
// table and its row, keeping the first claim's time and version.
func mark(ctx context.Context, db *sql.DB, by string) error {
	if _, err := db.ExecContext(ctx, markerSchema); err != nil {
		return fmt.Errorf("create %s: %w", MarkerTable, err)
	}
	_, err := db.ExecContext(ctx, "INSERT INTO `"+MarkerTable+"` (id, created_at, created_by) VALUES (1, UTC_TIMESTAMP(6), ?)"+
		" ON DUPLICATE KEY UPDATE id = id", by)
	if err != nil {
		return fmt.Errorf("write %s: %w", MarkerTable, err)
	}
	return nil
}

// markSeeded records a completed seed in the marker.
func markSeeded(ctx context.Context, db *sql.DB, by string, o Options) error {
	_, err := db.ExecContext(ctx, "UPDATE `"+MarkerTable+"` SET seeded_at = UTC_TIMESTAMP(6), seeded_by = ?, seed = ?, size_bytes = ? WHERE id = 1",
		by, o.Seed, o.Size)
	if err != nil {
		return fmt.Errorf("update %s: %w", MarkerTable, err)
	}
	return nil
}
