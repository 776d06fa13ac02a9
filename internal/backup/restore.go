package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/cantina-pos/cantina-ops/internal/backup/sqlload"
)

// ErrTargetNotEmpty means the restore target holds tables or views and
// RestoreOptions.Replace was not set.
var ErrTargetNotEmpty = errors.New("the target database is not empty")

// RestoreOptions are a restore's choices.
type RestoreOptions struct {
	// Database is the target; "" means m.Database. It is created if
	// missing.
	Database string
	// Replace allows a target that has tables or views: everything in it
	// (tables, views, routines, events) is dropped before loading, so the
	// database ends up exactly as the backup. Without it such a target is
	// refused with ErrTargetNotEmpty: ask the operator first (see Target).
	Replace bool
	// Progress, if set, is called after each statement; Stats.Bytes
	// counts uncompressed SQL, out of Manifest.RawBytes.
	Progress func(sqlload.Stats)
}

// RestoreResult describes a finished restore.
type RestoreResult struct {
	Name     string `json:"name"`
	Database string `json:"database"`
	// Verified: the file's sha256 matched its manifest before loading.
	Verified bool `json:"verified"`
	// Created: the target database did not exist and was created.
	Created bool `json:"created"`
	// Dropped lists the objects Replace removed from the target first.
	Dropped  []string      `json:"dropped,omitempty"`
	Stats    sqlload.Stats `json:"stats"`
	Warnings []string      `json:"warnings,omitempty"`
	Elapsed  time.Duration `json:"elapsed"`

	// RewrittenDefiners lists the objects whose DEFINER was set to the
	// restoring account, which may not name others (no SUPER or SET USER);
	// each is also a warning.
	RewrittenDefiners []string `json:"rewritten_definers,omitempty"`
}

// TargetState is what a restore target holds now.
type TargetState struct {
	Exists bool
	// Objects are its tables and views.
	Objects []string
}

// Target tells whether database exists and what tables and views it has,
// so that the CLI can ask before a restore replaces them.
func (m *Manager) Target(ctx context.Context, database string) (TargetState, error) {
	if m.DB == nil {
		return TargetState{}, errors.New("backup manager: no DB")
	}
	return targetState(ctx, m.DB, database)
}

// Restore loads backup name into a database (RestoreOptions.Database).
//
// The name must be one of ours (ParseName), listed in the storage. Before
// anything is written, the whole file is checked: its sha256 against the
// manifest, the gzip stream to its end, the trailer line; a file that
// fails is refused with ErrVerifyFailed. A dump without a usable manifest
// (for instance a `mysqldump | gzip` file given one of our names) is
// restored with a warning that its checksum could not be verified. The
// restore holds the target database's backup lock, so no backup of it
// runs meanwhile (ErrBackupRunning otherwise).
func (m *Manager) Restore(ctx context.Context, name string, o RestoreOptions) (RestoreResult, error) {
	start := m.now()
	target := o.Database
	if target == "" {
		target = m.Database
	}
	res := RestoreResult{Name: name, Database: target}
	if err := ValidateName(name); err != nil {
		return res, err
	}
	if err := m.check(false, true); err != nil {
		return res, err
	}
	if err := validDatabaseName(target); err != nil {
		return res, err
	}
	b, err := m.find(ctx, name)
	if err != nil {
		return res, err
	}
	var man *Manifest
	switch b.Status {
	case StatusGood, StatusCorrupt:
		man = b.Manifest
	case StatusCorruptManifest:
		res.Warnings = append(res.Warnings, "the manifest is unusable ("+b.Problem+"): the file's checksum cannot be verified")
	default:
		res.Warnings = append(res.Warnings, "the file has no manifest (not made by cantina-ops, or an interrupted backup): its checksum cannot be verified")
	}
	for _, w := range res.Warnings {
		m.log().Warn("restoring an unverified backup", "backup", name, "warning", w)
	}
	fc, err := checkFile(ctx, m.Storage, name, man)
	if err != nil {
		return res, fmt.Errorf("restore %s: %w", name, err)
	}
	if len(fc.Problems) > 0 {
		return res, fmt.Errorf("%w: refusing to restore %s: %s", ErrVerifyFailed, name, strings.Join(fc.Problems, "; "))
	}
	res.Verified = man != nil

	lock, err := acquireLock(ctx, m.DB, target)
	if err != nil {
		return res, err
	}
	defer lock.Release()

	st, err := targetState(ctx, m.DB, target)
	if err != nil {
		return res, err
	}
	if len(st.Objects) > 0 && !o.Replace {
		return res, fmt.Errorf("restore into %s: %w (%d tables and views); confirm to replace them", target, ErrTargetNotEmpty, len(st.Objects))
	}
	if !st.Exists {
		if _, err := m.DB.ExecContext(ctx, "CREATE DATABASE "+quoteIdent(target)+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
			return res, fmt.Errorf("create database %s: %w", target, err)
		}
		res.Created = true
	}

	conn, err := m.DB.Conn(ctx)
	if err != nil {
		return res, fmt.Errorf("restore into %s: connect: %w", target, err)
	}
	defer discardConn(conn)
	if _, err := conn.ExecContext(ctx, "USE "+quoteIdent(target)); err != nil {
		return res, fmt.Errorf("restore into %s: %w", target, err)
	}
	if o.Replace {
		if res.Dropped, err = clearDatabase(ctx, conn); err != nil {
			return res, fmt.Errorf("restore into %s: empty it first: %w", target, err)
		}
	}
	m.log().Info("restore started", "backup", name, "database", target, "verified", res.Verified)
	stats, err := m.loadStats(ctx, conn, name, o.Progress)
	res.Stats = stats
	res.RewrittenDefiners = stats.RewrittenDefiners
	if n := len(stats.RewrittenDefiners); n > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the restoring account may not create objects owned by other accounts (no SUPER or SET USER): %d DEFINERs set to it", n))
		res.Warnings = append(res.Warnings, stats.RewrittenDefiners...)
	}
	res.Elapsed = m.now().Sub(start)
	if err != nil {
		return res, fmt.Errorf("restore %s into %s: %w (the database is partly restored; fix the cause and restore again)", name, target, err)
	}
	m.log().Info("restore finished", "backup", name, "database", target, "statements", stats.Statements, "elapsed", res.Elapsed.Round(time.Millisecond).String())
	return res, nil
}

// load streams dump name, decompressed, into conn's current database.
func (m *Manager) load(ctx context.Context, conn *sql.Conn, name string, progress func(sqlload.Stats)) error {
	_, err := m.loadStats(ctx, conn, name, progress)
	return err
}

func (m *Manager) loadStats(ctx context.Context, conn *sql.Conn, name string, progress func(sqlload.Stats)) (sqlload.Stats, error) {
	f, err := m.Storage.Open(ctx, name)
	if err != nil {
		return sqlload.Stats{}, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return sqlload.Stats{}, fmt.Errorf("read %s: %w", name, err)
	}
	// USE and CREATE/DROP DATABASE in the dump (mysqldump --databases)
	// are skipped: the load stays in the target, never in the original.
	// An account that may not name other definers gets the objects.
	mayName, err := mayNameDefiners(ctx, conn)
	if err != nil {
		return sqlload.Stats{}, err
	}
	lo := sqlload.LoadOptions{SkipUseAndCreateDatabase: true, RewriteDefiners: !mayName}
	return lo.Load(ctx, conn, io.Reader(zr), progress)
}

// targetState reads whether database exists and its tables and views.
func targetState(ctx context.Context, db *sql.DB, database string) (TargetState, error) {
	var st TargetState
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", database).Scan(&n); err != nil {
		return st, fmt.Errorf("look up database %s: %w", database, err)
	}
	st.Exists = n > 0
	if !st.Exists {
		return st, nil
	}
	rows, err := db.QueryContext(ctx, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME", database)
	if err != nil {
		return st, fmt.Errorf("list tables of %s: %w", database, err)
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return st, fmt.Errorf("list tables of %s: %w", database, err)
		}
		st.Objects = append(st.Objects, t)
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("list tables of %s: %w", database, err)
	}
	return st, nil
}

// clearDatabase drops every view, table, routine and event of conn's
// current database (triggers go with their tables), with foreign key
// checks off on this session. It needs only privileges on the database
// itself, unlike DROP DATABASE + CREATE DATABASE, which hosted MySQL plans
// often refuse.
func clearDatabase(ctx context.Context, conn *sql.Conn) ([]string, error) {
	if _, err := conn.ExecContext(ctx, "SET SESSION FOREIGN_KEY_CHECKS = 0"); err != nil {
		return nil, err
	}
	type object struct{ kind, name string }
	var objs []object
	queries := []string{
		"SELECT 'VIEW', TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()",
		"SELECT 'TABLE', TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE <> 'VIEW'",
		"SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION')",
		"SELECT 'EVENT', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()",
	}
	for _, q := range queries {
		rows, err := conn.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var o object
			if err := rows.Scan(&o.kind, &o.name); err != nil {
				rows.Close()
				return nil, err
			}
			objs = append(objs, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var dropped []string
	for _, o := range objs {
		if _, err := conn.ExecContext(ctx, "DROP "+o.kind+" IF EXISTS "+quoteIdent(o.name)); err != nil {
			return dropped, fmt.Errorf("drop %s %s: %w", strings.ToLower(o.kind), o.name, err)
		}
		dropped = append(dropped, strings.ToLower(o.kind)+" "+o.name)
	}
	return dropped, nil
}

// validDatabaseName checks a restore target's name.
func validDatabaseName(name string) error {
	switch {
	case name == "":
		return errors.New("no target database name")
	case len(name) > 64:
		return fmt.Errorf("database name %q is longer than 64 characters", name)
	case strings.ContainsRune(name, 0) || strings.HasSuffix(name, " "):
		return fmt.Errorf("database name %q is not allowed", name)
	}
	return nil
}
