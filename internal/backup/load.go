package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"

	"github.com/cantina-pos/cantina-ops/internal/backup/sqlload"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/mysqlx"
)

// bulkInsertBuffer is the load sessions' bulk_insert_buffer_size.
const bulkInsertBuffer = 64 << 20

// loadSettings are the session settings of every connection a restore or
// drill loads with. None is global: other sessions keep the server's
// defaults. Each is chosen for a load of a consistent dump into tables
// that nothing else uses yet:
var loadSettings = []string{
	// Foreign keys are not checked row by row: the dump is one
	// consistent snapshot, and tables load in any order, in parallel.
	"SET SESSION foreign_key_checks = 0",
	// InnoDB may skip the duplicate checks of secondary unique indexes
	// through its change buffer while rows are inserted; the dump comes
	// from tables whose keys were unique, and indexes added after the rows
	// are still checked when they are built.
	"SET SESSION unique_checks = 0",
	// The cache of MyISAM and Aria bulk inserts (multi-row INSERTs into a
	// non-empty table): 8 MiB by default. It does nothing for InnoDB, where
	// the POS's tables live; it helps MyISAM/Aria tables, and costs only
	// when such a table is loaded.
	fmt.Sprintf("SET SESSION bulk_insert_buffer_size = %d", bulkInsertBuffer),
	// The main connection waits idle while workers load the biggest
	// tables, and workers wait for one another before a table's indexes:
	// a server that drops idle sessions early must not drop these.
	"SET SESSION wait_timeout = 86400",
}

// statementTimeLimits lift a server-wide statement time limit, which
// would kill the ALTER TABLE building a big table's indexes. MariaDB and
// MySQL name it differently, and each rejects the other's name.
var statementTimeLimits = []string{"SET SESSION max_statement_time = 0", "SET SESSION max_execution_time = 0"}

// loadSession prepares conn for loading into database (see loadSettings)
// and reports whether the session's writes stay out of the binary log:
// sql_log_bin=0 needs SUPER (or BINLOG ADMIN on MariaDB 10.5.2+); without
// it the restore is logged and replicas replay it (see
// RestoreResult.Binlogged).
func loadSession(ctx context.Context, conn *sql.Conn, database string) (unlogged bool, err error) {
	if _, err := conn.ExecContext(ctx, "USE "+mysqlx.QuoteIdent(database)); err != nil {
		return false, fmt.Errorf("use %s: %w", database, err)
	}
	for _, s := range loadSettings {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return false, fmt.Errorf("set up the load session (%s): %w", s, err)
		}
	}
	for _, s := range statementTimeLimits {
		if _, err := conn.ExecContext(ctx, s); err != nil && !mysqlx.IsServerError(err, 1193) { // ER_UNKNOWN_SYSTEM_VARIABLE
			return false, fmt.Errorf("set up the load session (%s): %w", s, err)
		}
	}
	// Not logging the load spares the binary log a second copy of the
	// database (and its fsyncs); replicas keep their copy, as with
	// myloader's default.
	if _, err := conn.ExecContext(ctx, "SET SESSION sql_log_bin = 0"); err != nil {
		if mysqlx.IsServerError(err, 1227) { // ER_SPECIFIC_ACCESS_DENIED_ERROR
			return false, nil
		}
		return false, fmt.Errorf("set up the load session (sql_log_bin): %w", err)
	}
	return true, nil
}

// loadConn returns a new connection of m.DB set up to load into
// database; discard it with discardConn.
func (m *Manager) loadConn(ctx context.Context, database string) (*sql.Conn, bool, error) {
	conn, err := m.DB.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("connect: %w", err)
	}
	unlogged, err := loadSession(ctx, conn, database)
	if err != nil {
		discardConn(conn)
		return nil, false, err
	}
	return conn, unlogged, nil
}

// loadThreads is the number of worker connections for a load: threads,
// else m.RestoreThreads, else config.DefaultRestoreThreads, but no more than
// m.DB's pool has free beside the ones in use (the backup lock and the
// main load connection), so a small pool cannot deadlock a restore.
func (m *Manager) loadThreads(threads int) int {
	if threads <= 0 {
		threads = m.RestoreThreads
	}
	if threads <= 0 {
		threads = config.DefaultRestoreThreads()
	}
	if st := m.DB.Stats(); st.MaxOpenConnections > 0 {
		threads = min(threads, st.MaxOpenConnections-st.InUse)
	}
	return max(threads, 1)
}

// loadStats streams the dump read from f, decrypted if need be and
// decompressed, into database on conn (set up by loadConn) and, for a
// native dump, threads more connections (see sqlload.ParallelOptions); more
// than maxRaw bytes of SQL fail with ErrTooLarge. The SQL is also copied to
// out when it is not nil (for the checks a quick restore makes after).
func (m *Manager) loadStats(ctx context.Context, conn *sql.Conn, database string, threads int, name string, f io.Reader, maxRaw int64, out io.Writer, progress func(sqlload.Stats)) (sqlload.Stats, error) {
	gz, err := m.decrypter(name, f, nil)
	if err != nil {
		return sqlload.Stats{}, err
	}
	zr, err := gzip.NewReader(gz)
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
	po := sqlload.ParallelOptions{
		LoadOptions: sqlload.LoadOptions{SkipUseAndCreateDatabase: true, RewriteDefiners: !mayName},
		Threads:     threads,
		Open: func(ctx context.Context) (*sql.Conn, error) {
			c, _, err := m.loadConn(ctx, database)
			return c, err
		},
		Release: discardConn,
	}
	var r io.Reader = &rawLimit{r: zr, max: maxRaw}
	if out != nil {
		r = io.TeeReader(r, out)
	}
	return po.Load(ctx, conn, r, progress)
}

// RestoreMarker is a table a restore creates in its target before loading
// and drops when the load has finished: while it exists, the database
// holds an interrupted restore (the process was killed, the server went
// away, a statement failed), which the next restore replaces (see
// TargetState.Interrupted; the CLI still asks, as for any database that
// is not empty: the POS may have been put back on the partial copy). A
// backup of such a database is refused (package native).
const RestoreMarker = "cantina_ops_restore_incomplete"

// markRestore creates the marker, naming the backup being restored.
func markRestore(ctx context.Context, conn *sql.Conn, name string) error {
	q := "CREATE TABLE " + mysqlx.QuoteIdent(RestoreMarker) + " (`backup` VARCHAR(255) NOT NULL, `started_at` DATETIME NOT NULL) " +
		"COMMENT 'a cantina-ops backup restore into this database has not finished: run it again'"
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("mark the restore as under way: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO "+mysqlx.QuoteIdent(RestoreMarker)+" VALUES (?, UTC_TIMESTAMP())", name); err != nil {
		return fmt.Errorf("mark the restore as under way: %w", err)
	}
	return nil
}

// unmarkRestore drops the marker once the load has finished.
func unmarkRestore(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "DROP TABLE IF EXISTS "+mysqlx.QuoteIdent(RestoreMarker)); err != nil {
		return fmt.Errorf("mark the restore as finished: %w", err)
	}
	return nil
}

// interruptedRestore reads the marker of database: the backup whose
// restore did not finish ("" when there is no marker).
func interruptedRestore(ctx context.Context, db *sql.DB, database string) (string, error) {
	var name string
	err := db.QueryRowContext(ctx, "SELECT `backup` FROM "+mysqlx.QuoteIdent(database)+"."+mysqlx.QuoteIdent(RestoreMarker)+" LIMIT 1").Scan(&name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "an unknown backup", nil // killed between CREATE and INSERT
	case err != nil:
		return "", fmt.Errorf("read the mark of an interrupted restore in %s: %w", database, err)
	}
	return name, nil
}

// ErrCreatorPrivilege: the server would refuse to create the dump's
// triggers or stored functions (see Manager.creatorCheck).
var ErrCreatorPrivilege = errors.New("the server would refuse to create the dump's triggers and stored functions")

// creatorCheck refuses, before anything is touched, to load a dump whose
// manifest counts triggers or stored functions that the server would
// refuse to create, which it would otherwise find only after every row is
// loaded. With a binary log and log_bin_trust_function_creators OFF,
// MariaDB refuses
//   - a function that is neither DETERMINISTIC nor NO SQL / READS SQL DATA,
//     whoever creates it (error 1418);
//   - any trigger (even DROP TRIGGER) or function to an account without
//     SUPER, whatever sql_log_bin says (error 1419).
//
// A manifest that does not count them (an older backup), an account with
// a role enabled (a role's SUPER is not in USER_PRIVILEGES) and a server
// that cannot say are not refused: the server's own error then names the
// variable.
func (m *Manager) creatorCheck(ctx context.Context, man *Manifest) error {
	if man == nil || man.Objects == nil || man.Objects.Triggers+man.Objects.Functions == 0 {
		return nil
	}
	o := man.Objects
	var logBin, trusted, super, roles int
	err := m.DB.QueryRowContext(ctx, "SELECT @@GLOBAL.log_bin, @@GLOBAL.log_bin_trust_function_creators, "+
		"(SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'SUPER' AND GRANTEE = CONCAT('''', "+
		"LEFT(CURRENT_USER(), CHAR_LENGTH(CURRENT_USER()) - CHAR_LENGTH(SUBSTRING_INDEX(CURRENT_USER(), '@', -1)) - 1), "+
		"'''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')), "+
		"(SELECT COUNT(ROLE_NAME) FROM information_schema.ENABLED_ROLES)").
		Scan(&logBin, &trusted, &super, &roles)
	if err != nil || logBin == 0 || trusted == 1 {
		return nil
	}
	const fix = "SET GLOBAL log_bin_trust_function_creators = 1 (and set it in the server's config)"
	switch {
	case o.UnsafeFunctions > 0:
		return fmt.Errorf("%w: it writes a binary log, and then creates no function declared neither DETERMINISTIC nor NO SQL or READS SQL DATA "+
			"(%d of the dump's %d), whoever asks: %s", ErrCreatorPrivilege, o.UnsafeFunctions, o.Functions, fix)
	case super == 0 && roles == 0:
		return fmt.Errorf("%w: it writes a binary log, and then only an account with SUPER may create them (%d triggers, %d functions): "+
			"%s, or restore as an account with SUPER", ErrCreatorPrivilege, o.Triggers, o.Functions, fix)
	}
	return nil
}

// binlogOn reports whether the server writes a binary log (false when it
// cannot tell).
func binlogOn(ctx context.Context, conn *sql.Conn) bool {
	var on bool
	if err := conn.QueryRowContext(ctx, "SELECT @@GLOBAL.log_bin").Scan(&on); err != nil {
		return false
	}
	return on
}
