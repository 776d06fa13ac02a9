package backup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"

	"github.com/cantina-pos/cantina-ops/internal/backup/sqlload"
	"github.com/cantina-pos/cantina-ops/internal/mysqlx"
)

// ErrTargetNotEmpty means the restore target holds tables or views and
// RestoreOptions.Replace was not set.
var ErrTargetNotEmpty = errors.New("the target database is not empty")

// ErrSystemDatabase means a restore target is one of the server's own
// schemas (mysql, sys, information_schema, performance_schema): replacing
// one would wipe the server's accounts and privileges.
var ErrSystemDatabase = errors.New("a system database can never be a restore target")

// ErrRestoreCancelled means RestoreOptions.Confirm said no; nothing was
// changed.
var ErrRestoreCancelled = errors.New("restore cancelled: nothing was changed")

// systemDatabases are the server's own schemas, in lower case.
var systemDatabases = []string{"mysql", "sys", "information_schema", "performance_schema"}

// RestoreOptions are a restore's choices.
type RestoreOptions struct {
	// Database is the target; "" means m.Database. It is created if
	// missing.
	Database string
	// Replace allows a target that has tables or views: everything in it
	// (tables, views, routines, events) is dropped before loading, so the
	// database ends up exactly as the backup. Without it such a target is
	// refused with ErrTargetNotEmpty: ask the operator first (see Confirm).
	Replace bool
	// Confirm, if set, is called once the file has passed its check and
	// the target's lock is held, before anything is created, dropped or
	// loaded, with everything an operator should see first. Returning
	// false cancels the restore with ErrRestoreCancelled.
	Confirm func(RestorePlan) bool
	// Progress, if set, is called after each statement (from several
	// goroutines with a parallel load, never twice at once): Stats.Bytes
	// counts the uncompressed SQL done, out of RestorePlan.RawBytes
	// (Manifest.RawBytes), Stats.Rows the rows inserted and Stats.Tables
	// the tables whose rows and indexes are all loaded.
	Progress func(sqlload.Stats)
	// Threads is how many connections load the tables of a native dump;
	// 0 means Manager.RestoreThreads, 1 one connection, in order. Other
	// dumps (mysqldump's) always load in order on one.
	Threads int
}

// RestorePlan is what a restore is about to do.
type RestorePlan struct {
	// Backup is the file's listing entry: name, time, size, status and
	// manifest.
	Backup Backup
	// Verified: the file's sha256 and sizes match its manifest and the
	// dump is complete (with Quick, completeness is checked as it loads).
	// It is false until the file is checked, and for a file without a
	// usable manifest (see Warnings).
	Verified bool
	// RawBytes is the size of the SQL, once the file is checked.
	RawBytes int64
	// Quick: the target does not exist yet, so only the file's sha256 and
	// size were checked before the load; its gzip stream and trailer are
	// checked as it loads (see Restore).
	Quick bool
	// Warnings say why the file cannot be verified.
	Warnings []string
	// Database is the target and Target what it holds now.
	Database string
	Target   TargetState
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
	Dropped []string `json:"dropped,omitempty"`
	// Interrupted names the backup whose interrupted restore the target
	// held, replaced without RestoreOptions.Replace (see
	// TargetState.Interrupted).
	Interrupted string `json:"interrupted,omitempty"`
	// Binlogged: the load was written to the server's binary log, because
	// the account may not turn it off for its session (sql_log_bin needs
	// SUPER or BINLOG ADMIN); replicas then replay the whole restore. It
	// is also a warning. False when the server has no binary log.
	Binlogged bool          `json:"binlogged"`
	Stats     sqlload.Stats `json:"stats"`
	Warnings  []string      `json:"warnings,omitempty"`
	Elapsed   time.Duration `json:"elapsed"`

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
	// Tables counts its base tables (the other Objects are views), and
	// Bytes their data and indexes, as information_schema estimates them.
	Tables int
	Bytes  int64
	// Routines are its procedures, functions and events ("procedure p").
	Routines []string
	// Interrupted names the backup whose restore into this database
	// started and never finished (the process was killed, the server
	// went away, a statement failed): what the database holds is a
	// partial copy, which a restore replaces even without
	// RestoreOptions.Replace. "" otherwise.
	Interrupted string
}

// Empty reports whether the target holds nothing a restore would drop.
func (s TargetState) Empty() bool { return len(s.Objects) == 0 && len(s.Routines) == 0 }

// Target tells whether database exists, what tables and views it has and
// how big they are.
func (m *Manager) Target(ctx context.Context, database string) (TargetState, error) {
	if m.DB == nil {
		return TargetState{}, errors.New("backup manager: no DB")
	}
	return targetState(ctx, m.DB, database)
}

// ValidateTarget returns nil when database may be a restore target: a
// plausible name, and not one of the server's system schemas
// (ErrSystemDatabase), whatever its case.
func ValidateTarget(database string) error {
	if err := validDatabaseName(database); err != nil {
		return err
	}
	for _, s := range systemDatabases {
		if strings.EqualFold(database, s) {
			return fmt.Errorf("restore into %s: %w: name another database with --database", database, ErrSystemDatabase)
		}
	}
	return nil
}

// Inspect says what restoring backup name into database would do, without
// reading the file or changing anything: the backup's listing entry, the
// warnings if it cannot be verified, and the target's current state.
// Restore starts from the same plan.
func (m *Manager) Inspect(ctx context.Context, name, database string) (RestorePlan, error) {
	plan := RestorePlan{Database: database}
	if err := ValidateName(name); err != nil {
		return plan, err
	}
	if err := m.check(false, true); err != nil {
		return plan, err
	}
	if err := ValidateTarget(database); err != nil {
		return plan, err
	}
	b, err := m.find(ctx, name)
	if err != nil {
		return plan, err
	}
	plan.Backup = b
	plan.Warnings = unverifiedWarnings(b)
	if plan.Target, err = targetState(ctx, m.DB, database); err != nil {
		return plan, err
	}
	return plan, nil
}

// unverifiedWarnings says why backup b cannot be checked against a
// manifest; none when it has a usable one.
func unverifiedWarnings(b Backup) []string {
	switch b.Status {
	case StatusGood, StatusUnverified, StatusCorrupt: // a manifest to check the file against
		return nil
	case StatusCorruptManifest:
		return []string{"the manifest is unusable (" + b.Problem + "): the file's checksum cannot be verified"}
	default:
		return []string{"the file has no manifest (not made by cantina-ops, or an interrupted backup): its checksum cannot be verified"}
	}
}

// Restore loads backup name into a database (RestoreOptions.Database).
//
// Nothing is touched before every guard has passed. The target must not
// be a system schema (ErrSystemDatabase). The name must be one of ours
// (ParseName), listed in the storage. The file is opened once and that
// one handle is checked end to end (its sha256 against the manifest, the
// gzip stream to its end, the trailer line), then rewound and loaded, so
// a file replaced in between is never loaded; a file that fails is
// refused with ErrVerifyFailed. Into a database that does not exist yet,
// a dump with a manifest is checked by its sha256 only (checkReader), and
// the rest as it loads: a file found at fault then has the database the
// restore created dropped again (undoFresh), with ErrVerifyFailed all the
// same. Inflating is bounded by the manifest's
// RawBytes (a decompression bomb fails fast with ErrTooLarge). A dump
// without a usable manifest (for instance a `mysqldump | gzip` file given
// one of our names) is restored with a warning that its checksum could
// not be verified. The restore holds the target database's backup lock,
// so no backup of it runs meanwhile (ErrBackupRunning otherwise); then
// RestoreOptions.Confirm sees the plan. An encrypted dump (.sql.gz.age) is decrypted
// with m.Identities; without them (ErrNoIdentity) or with none that
// matches (ErrWrongIdentity) it is refused before anything is touched.
//
// A native dump loads on RestoreOptions.Threads connections (see
// sqlload.ParallelOptions), any other dump on one; every load connection
// runs without foreign key and unique checks and, when the account may,
// without writing the binary log (see loadSettings, RestoreResult.Binlogged).
// While the load runs the target holds a marker table; a restore that
// does not finish (killed, cancelled, failed) leaves it, and the next
// restore into that database replaces the partial copy without Replace
// (TargetState.Interrupted): restoring again is all it takes.
func (m *Manager) Restore(ctx context.Context, name string, o RestoreOptions) (RestoreResult, error) {
	start := m.now()
	target := o.Database
	if target == "" {
		target = m.Database
	}
	res := RestoreResult{Name: name, Database: target}
	plan, err := m.Inspect(ctx, name, target)
	if err != nil {
		return res, err
	}
	res.Warnings = plan.Warnings
	for _, w := range res.Warnings {
		m.log().Warn("restoring an unverified backup", "backup", name, "warning", w)
	}
	var man *Manifest
	if len(plan.Warnings) == 0 {
		man = plan.Backup.Manifest
	}

	if err := m.needIdentity(name); err != nil {
		return res, err
	}
	if err := m.creatorCheck(ctx, plan.Backup.Manifest); err != nil {
		return res, fmt.Errorf("restore %s into %s: %w", name, target, err)
	}
	f, err := openOnce(ctx, m.Storage, name)
	if err != nil {
		return res, fmt.Errorf("restore %s: %w", name, err)
	}
	defer f.Close()
	// Into a database that does not exist yet, a backup with a manifest
	// needs only its sha256 checked first (see checkReader): should the load
	// still find the file at fault, the restore drops the database it
	// created, so nothing is left either way. Any other target is checked
	// in full before it is touched.
	quick := man != nil && !plan.Target.Exists
	fc, err := m.checkFile(ctx, f, name, man, plan.Backup.Size, quick)
	if err != nil {
		return res, err
	}
	res.Verified = man != nil
	plan.Verified, plan.RawBytes, plan.Quick = res.Verified, fc.RawBytes, quick

	lock, err := acquireLock(ctx, m.DB, target)
	if err != nil {
		return res, err
	}
	defer lock.Release()

	if plan.Target, err = targetState(ctx, m.DB, target); err != nil {
		return res, err
	}
	st := plan.Target
	if quick && st.Exists { // created meanwhile
		quick, plan.Quick = false, false
		if fc, err = m.checkFile(ctx, f, name, man, plan.Backup.Size, false); err != nil {
			return res, err
		}
	}
	if o.Confirm != nil && !o.Confirm(plan) {
		return res, fmt.Errorf("restore %s into %s: %w", name, target, ErrRestoreCancelled)
	}
	if !st.Empty() && !o.Replace && st.Interrupted == "" {
		return res, fmt.Errorf("restore into %s: %w (%d tables and views, %d routines and events); confirm to replace them", target, ErrTargetNotEmpty, len(st.Objects), len(st.Routines))
	}
	if !st.Empty() {
		res.Interrupted = st.Interrupted
	}
	if !st.Exists {
		if _, err := m.DB.ExecContext(ctx, mysqlx.CreateDatabase(target, false)); err != nil {
			return res, fmt.Errorf("create database %s: %w", target, err)
		}
		res.Created = true
	}

	conn, unlogged, err := m.loadConn(ctx, target)
	if err != nil {
		return res, fmt.Errorf("restore into %s: %w", target, err)
	}
	defer discardConn(conn)
	switch logBin := binlogOn(ctx, conn); {
	case logBin && !unlogged:
		res.Binlogged = true
		res.Warnings = append(res.Warnings, "the restore is written to the server's binary log (the account may not set sql_log_bin: it needs SUPER or BINLOG ADMIN): replicas replay it, and it takes longer")
	case logBin:
		res.Warnings = append(res.Warnings, "the server writes a binary log, but the restore is kept out of it (sql_log_bin=0, for speed): replicas keep their old copy of "+target+"; restore the backup on each of them too")
	}
	if o.Replace || res.Interrupted != "" {
		if res.Dropped, err = clearDatabase(ctx, conn); err != nil {
			return res, fmt.Errorf("restore into %s: empty it first: %w", target, err)
		}
	}
	if err := markRestore(ctx, conn, name); err != nil {
		return res, fmt.Errorf("restore into %s: %w", target, err)
	}
	threads := m.loadThreads(o.Threads)
	m.log().Info("restore started", "backup", name, "database", target, "verified", res.Verified, "threads", threads)
	// The load reads the checked handle again, hashed and bounded by
	// what the check found, so a file changed in place since is caught.
	sum := sha256.New()
	src := &readErr{r: f} // a failing storage is not a file at fault
	in := io.TeeReader(src, sum)
	var loaded *countWriter // the SQL inflated, for a quick restore's checks
	var tail *tailWriter
	var sqlCopy io.Writer
	if quick {
		tail = &tailWriter{}
		loaded = &countWriter{w: tail}
		sqlCopy = loaded
	}
	stats, err := m.loadStats(ctx, conn, target, threads, name, in, fc.RawBytes, sqlCopy, o.Progress)
	if err == nil {
		err = sameHash(in, sum, fc.SHA256)
	}
	if err == nil && quick {
		// What the full check would have found before the load.
		switch {
		case loaded.n != man.RawBytes:
			err = fmt.Errorf("%w: the SQL has %d bytes uncompressed, the manifest says %d", ErrVerifyFailed, loaded.n, man.RawBytes)
		case !tail.endsWithTrailer():
			err = fmt.Errorf("%w: the SQL does not end with the %q trailer: the dump is incomplete", ErrVerifyFailed, TrailerPrefix)
		}
	}
	if err != nil && quick && res.Created && src.err == nil && ctx.Err() == nil {
		problems := m.fileProblems(ctx, f, name, man, plan.Backup.Size)
		if len(problems) > 0 || fileFault(err) {
			discardConn(conn) // it may hold a table lock of the dump's
			res.Stats, res.Elapsed = stats, m.now().Sub(start)
			return m.undoFresh(res, problems, err)
		}
	}
	if err == nil {
		err = unmarkRestore(ctx, conn)
	}
	res.Stats = stats
	switch {
	case stats.Threads > 1 && stats.LocalInfileOff && stats.LoadDataRows > 0:
		res.Warnings = append(res.Warnings, "the server refused LOAD DATA LOCAL INFILE part-way (local_infile turned off?), so the rest of the rows went as INSERTs, "+
			"which costs the server about a quarter more time")
	case stats.Threads > 1 && stats.LocalInfileOff:
		res.Warnings = append(res.Warnings, "the server does not allow LOAD DATA LOCAL INFILE (local_infile=OFF), so every row went as an INSERT, "+
			"which costs the server about a quarter more time: SET GLOBAL local_infile=ON (MariaDB's default) speeds up the next restore")
	}
	res.RewrittenDefiners = stats.RewrittenDefiners
	if n := len(stats.RewrittenDefiners); n > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the restoring account may not create objects owned by other accounts (no SUPER or SET USER): %d DEFINERs set to it", n))
		res.Warnings = append(res.Warnings, stats.RewrittenDefiners...)
	}
	res.Elapsed = m.now().Sub(start)
	if err != nil {
		return res, fmt.Errorf("restore %s into %s: %w (the database is partly restored; fix the cause and restore again: the next restore replaces it without asking)", name, target, err)
	}
	m.log().Info("restore finished", "backup", name, "database", target, "statements", stats.Statements, "rows", stats.Rows,
		"threads", stats.Threads, "elapsed", res.Elapsed.Round(time.Millisecond).String())
	return res, nil
}

// checkFile checks dump name, read from f, before a restore and rewinds f:
// in full, or with quick its sha256 and size only (see checkReader). A
// file with problems is ErrVerifyFailed.
func (m *Manager) checkFile(ctx context.Context, f io.ReadSeeker, name string, man *Manifest, size int64, quick bool) (fileCheck, error) {
	fc, err := m.checkReader(ctx, f, name, man, rawBound(man, size), !quick)
	if err != nil {
		return fc, fmt.Errorf("restore %s: %w", name, err)
	}
	if len(fc.Problems) > 0 {
		return fc, fmt.Errorf("%w: refusing to restore %s: %s", ErrVerifyFailed, name, strings.Join(fc.Problems, "; "))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fc, fmt.Errorf("restore %s: rewind the checked file: %w", name, err)
	}
	return fc, nil
}

// fileFault reports whether a load failed because of the file (more SQL
// than its manifest says, a damaged gzip or age stream, a truncated
// script, a sha256 that changed during the load) rather than the server.
func fileFault(err error) bool {
	var corrupt flate.CorruptInputError
	var syntax *sqlload.SyntaxError
	return errors.Is(err, ErrTooLarge) || errors.Is(err, ErrVerifyFailed) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.As(err, &corrupt) || errors.As(err, &syntax)
}

// fileProblems checks the whole file (rewound) after a quick restore's
// load failed, to tell a file at fault from a server that refused a
// statement: the file's problems, none when it is sound (or unreadable).
func (m *Manager) fileProblems(ctx context.Context, f io.ReadSeeker, name string, man *Manifest, size int64) []string {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil
	}
	fc, err := m.checkReader(ctx, f, name, man, rawBound(man, size), true)
	if err != nil {
		return nil
	}
	return fc.Problems
}

// undoFresh drops the database a quick restore created (see Restore) once
// the file was found at fault, so nothing of it is left, as if the full
// check had refused it. fault is the load's error; problems are what the
// check of the whole file found then. The error returned is
// ErrVerifyFailed (and ErrTooLarge for a dump that inflated too far).
func (m *Manager) undoFresh(res RestoreResult, problems []string, fault error) (RestoreResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	why := fault.Error()
	if len(problems) > 0 {
		why += "; the whole file, checked again: " + strings.Join(problems, "; ")
	}
	wrap := func(msg string) error {
		if errors.Is(fault, ErrTooLarge) {
			return fmt.Errorf("%w: %s (%w)", ErrVerifyFailed, msg, ErrTooLarge)
		}
		return fmt.Errorf("%w: %s", ErrVerifyFailed, msg)
	}
	if _, err := m.DB.ExecContext(ctx, "DROP DATABASE "+mysqlx.QuoteIdent(res.Database)); err != nil {
		m.log().Error("restore of a damaged file: could not drop the database it created", "backup", res.Name, "database", res.Database, "err", err)
		return res, wrap(fmt.Sprintf("%s: %s; the restore into %s stopped, and dropping the database it had created failed (%v): drop it, or restore another backup over it",
			res.Name, why, res.Database, err))
	}
	res.Created = false
	m.log().Warn("restore of a damaged file: the database it created is dropped again", "backup", res.Name, "database", res.Database)
	return res, wrap(fmt.Sprintf("%s: %s; the restore into %s stopped, and the database it had created is dropped again: nothing of it was kept",
		res.Name, why, res.Database))
}

// sameHash reads the rest of in and reports an error unless h, which
// saw everything read from in, is want (hex).
func sameHash(in io.Reader, h hash.Hash, want string) error {
	if _, err := io.Copy(io.Discard, in); err != nil {
		return fmt.Errorf("read to the end: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%w: the file changed while it was loaded (sha256 %s, checked %s)", ErrVerifyFailed, got, want)
	}
	return nil
}

// openOnce opens dump name for a check and then a load through the same
// handle. A storage whose reader cannot seek (S3Storage can: ranged GETs) has it
// copied to a private temporary file first, which then serves both.
func openOnce(ctx context.Context, s Storage, name string) (io.ReadSeekCloser, error) {
	r, err := s.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	if rs, ok := r.(io.ReadSeekCloser); ok {
		return rs, nil
	}
	defer r.Close()
	tmp, err := os.CreateTemp("", "cantina-ops-restore-*")
	if err != nil {
		return nil, fmt.Errorf("spool %s to a temporary file (set TMPDIR, or TMP on Windows, to a directory with room for it): %w", name, err)
	}
	sp := &spooled{File: tmp}
	if _, err := io.Copy(tmp, ctxReader{ctx: ctx, r: r}); err != nil {
		_ = sp.Close()
		return nil, fmt.Errorf("spool %s to %s: %w", name, tmp.Name(), err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		_ = sp.Close()
		return nil, fmt.Errorf("spool %s: %w", name, err)
	}
	return sp, nil
}

// spooled is a temporary copy of a dump, removed when closed.
type spooled struct{ *os.File }

func (s *spooled) Close() error {
	err := s.File.Close()
	if rerr := os.Remove(s.Name()); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}

// targetState reads whether database exists, its tables and views, and
// their size.
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
	rows, err := db.QueryContext(ctx, `SELECT TABLE_NAME, TABLE_TYPE = 'VIEW', COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0)
		FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME`, database)
	if err != nil {
		return st, fmt.Errorf("list tables of %s: %w", database, err)
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		var view bool
		var size int64
		if err := rows.Scan(&t, &view, &size); err != nil {
			return st, fmt.Errorf("list tables of %s: %w", database, err)
		}
		st.Objects = append(st.Objects, t)
		if !view {
			st.Tables++
			st.Bytes += size
		}
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("list tables of %s: %w", database, err)
	}
	if slices.Contains(st.Objects, RestoreMarker) {
		if st.Interrupted, err = interruptedRestore(ctx, db, database); err != nil {
			return st, err
		}
	}
	rows, err = db.QueryContext(ctx, `SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?
		UNION ALL SELECT 'event', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY 1, 2`, database, database)
	if err != nil {
		return st, fmt.Errorf("list routines of %s: %w", database, err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, name string
		if err := rows.Scan(&kind, &name); err != nil {
			return st, fmt.Errorf("list routines of %s: %w", database, err)
		}
		st.Routines = append(st.Routines, kind+" "+name)
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("list routines of %s: %w", database, err)
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
		if _, err := conn.ExecContext(ctx, "DROP "+o.kind+" IF EXISTS "+mysqlx.QuoteIdent(o.name)); err != nil {
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
