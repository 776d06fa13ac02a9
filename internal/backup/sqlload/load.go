// Package sqlload restores SQL dumps without a client binary: it splits a
// script written by mysqldump, mariadb-dump or our native engine into
// statements exactly where the mysql command-line client would (see
// Scanner) and executes them one by one on a database connection.
//
// It streams: one buffer, reused, holds the statement being read, so
// memory depends on the longest statement, not on the size of the dump.
package sqlload

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"github.com/go-sql-driver/mysql"
)

// Stats counts Load's progress.
type Stats struct {
	Statements int64 // statements executed
	Skipped    int64 // statements skipped (see LoadOptions)
	// Bytes counts the input bytes whose statements have run (or were
	// skipped): with a parallel load, statements still in flight are not
	// counted yet. At the end it is the input's size.
	Bytes int64
	// Rows counts the rows the INSERT statements inserted, as the server
	// reported them.
	Rows int64
	// Tables counts the tables created whose rows and indexes are all
	// loaded.
	Tables int64
	// Table is the table the last statement run created, filled or
	// indexed ("" for other statements); with a parallel load, one of
	// the tables being loaded.
	Table string `json:"-"`
	// Threads is the number of connections that ran statements: 1 for a
	// sequential load (see ParallelOptions).
	Threads int
	// LoadDataRows counts the rows of Rows that a parallel load sent as
	// LOAD DATA LOCAL INFILE (see loaddata.go).
	LoadDataRows int64
	// LocalInfileOff: the server does not allow LOAD DATA LOCAL INFILE
	// (local_infile=OFF), so a parallel load sent every row as an INSERT.
	LocalInfileOff bool
	// SpillBytes is what a parallel load read ahead to temporary files
	// (compressed) while every worker was busy.
	SpillBytes int64
	// RewrittenDefiners says, one line per object, which DEFINER clauses
	// LoadOptions.RewriteDefiners changed to the current user.
	RewrittenDefiners []string `json:"rewritten_definers,omitempty"`
}

// LoadOptions adjust Load.
type LoadOptions struct {
	// SkipUseAndCreateDatabase keeps the whole load in the connection's
	// current database, so a dump restores into a database of any name:
	// USE, CREATE DATABASE and DROP DATABASE statements (as mysqldump
	// --databases/--add-drop-database write them) are skipped, and
	// ALTER DATABASE `name` … (which mysqldump writes around routines
	// whose database collation differs) loses its name so it applies to
	// the current database instead of the dumped one. Without it every
	// statement is sent as written, as the mysql client does.
	SkipUseAndCreateDatabase bool
	// RewriteDefiners is for an account that may not create objects owned
	// by another account (no SUPER, no SET USER): each view, trigger,
	// routine and event whose DEFINER names another account is created
	// with DEFINER=CURRENT_USER instead, and listed in
	// Stats.RewrittenDefiners. Only the statement's head is rewritten (see
	// FindDefiner), never a body, query or string.
	RewriteDefiners bool
}

// StatementError is a statement the server refused. Its message says
// where the statement is and what it touches, never its text or values:
// task errors and emails must not carry row data.
type StatementError struct {
	Number int64 // 1-based statement number in the script
	Line   int64 // line where the statement starts
	Offset int64 // input byte offset where the statement starts
	// Head is the statement's first words and the name of what it
	// touches ("INSERT INTO `t`", "CREATE TRIGGER `tr`"), never a value.
	Head string
	Err  error
}

func (e *StatementError) Error() string {
	return fmt.Sprintf("statement %d (line %d, byte %d: %s): %v", e.Number, e.Line, e.Offset, e.Head, e.Err)
}

func (e *StatementError) Unwrap() error { return e.Err }

// Load executes the SQL script read from r on conn, statement by statement,
// and returns what it did. See LoadOptions.Load.
func Load(ctx context.Context, conn *sql.Conn, r io.Reader, progress func(Stats)) (Stats, error) {
	return LoadOptions{}.Load(ctx, conn, r, progress)
}

// Load executes the SQL script read from r (already decompressed) on conn,
// statement by statement, in order, and stops at the first statement the
// server refuses, returning a *StatementError. Session state set by the
// script (SET NAMES, FOREIGN_KEY_CHECKS=0, sql_mode, time_zone …) lives on
// conn, which must not enable multiStatements. A statement longer than the
// server's max_allowed_packet fails before it is sent. progress, if not
// nil, is called after each statement. When ctx is cancelled Load stops;
// a statement in flight is abandoned by closing the connection (the driver
// cannot cancel it otherwise), so conn is then unusable.
func (o LoadOptions) Load(ctx context.Context, conn *sql.Conn, r io.Reader, progress func(Stats)) (Stats, error) {
	l, err := o.start(ctx, conn, r)
	if err != nil {
		return l.st, err
	}
	l.st.Threads = 1
	report := func() {
		if progress != nil {
			progress(l.st)
		}
	}
	inTable := false // a table's statements are running: it is done at the next non-table statement
	for l.sc.Scan() {
		if err := ctx.Err(); err != nil {
			return l.st, fmt.Errorf("load stopped after %d statements: %w", l.st.Statements, err)
		}
		stmt := l.sc.Statement()
		text, k, err := l.prepare(stmt)
		if err != nil {
			return l.st, err
		}
		if text == nil {
			l.st.Skipped++
			l.st.Bytes = stmt.End
			report()
			continue
		}
		op, table := tableOpOf(text)
		if inTable && op != opInsert && op != opAddIndex {
			l.st.Tables++
			inTable = false
		}
		rows, err := execStatement(ctx, conn, stmt, text, k)
		if err != nil {
			return l.st, err
		}
		inTable = inTable || op == opCreateTable
		l.st.Table = ""
		if op != opDropTable {
			l.st.Table = table
		}
		l.st.Statements++
		l.st.Rows += rows
		l.st.Bytes = stmt.End
		if err := l.afterSet(ctx, conn, k, text, stmt); err != nil {
			return l.st, err
		}
		report()
	}
	if inTable {
		l.st.Tables++
	}
	if err := l.sc.Err(); err != nil {
		return l.st, fmt.Errorf("read SQL: %w", err)
	}
	if end := l.sc.Offset(); end != l.st.Bytes { // comments after the last statement
		l.st.Bytes = end
		report()
	}
	return l.st, nil
}

// loader is what a load knows besides its connections: the scanner over
// the script, the session's sql_mode as the scanner must read it, and the
// account definers are rewritten to.
type loader struct {
	o         LoadOptions
	sc        *Scanner
	mode      string
	maxPacket int64
	current   string
	st        Stats
}

// start reads the session settings of conn that the scanner and the
// definer rewriting need, and opens the scanner on r.
func (o LoadOptions) start(ctx context.Context, conn *sql.Conn, r io.Reader) (*loader, error) {
	l := &loader{o: o}
	if err := conn.QueryRowContext(ctx, "SELECT @@SESSION.sql_mode, @@max_allowed_packet").Scan(&l.mode, &l.maxPacket); err != nil {
		return l, fmt.Errorf("read session settings: %w", err)
	}
	if o.RewriteDefiners {
		if err := conn.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&l.current); err != nil {
			return l, fmt.Errorf("read the current account: %w", err)
		}
	}
	l.sc = NewScanner(r)
	l.sc.SetSQLMode(l.mode)
	l.sc.SetMaxStatement(int(l.maxPacket))
	return l, nil
}

// prepare returns the text to send for stmt and its kind: nil text for a
// statement LoadOptions skips, an error for one too big to send.
func (l *loader) prepare(stmt Statement) ([]byte, kind, error) {
	if stmt.Oversize {
		return nil, kindOther, statementError(stmt, fmt.Errorf(
			"statement of %d bytes is larger than the server's max_allowed_packet (%d)", stmt.Size, l.maxPacket))
	}
	text := stmt.Text
	k, nameStart, nameEnd := classify(text)
	if l.o.SkipUseAndCreateDatabase {
		switch k {
		case kindUse, kindCreateDatabase, kindDropDatabase:
			return nil, k, nil
		case kindAlterDatabase:
			text = withoutName(text, nameStart, nameEnd)
		}
	}
	if l.o.RewriteDefiners && k == kindCreate {
		var changed string
		if text, changed = rewriteDefiner(text, l.current); changed != "" {
			l.st.RewrittenDefiners = append(l.st.RewrittenDefiners, changed)
		}
	}
	return text, k, nil
}

// afterSet follows a SET statement that may have changed sql_mode: the
// next statements are read as the client would after it, its server
// status flags following sql_mode.
func (l *loader) afterSet(ctx context.Context, conn *sql.Conn, k kind, text []byte, stmt Statement) error {
	if k != kindSet || !bytes.Contains(bytes.ToLower(text), []byte("sql_mode")) {
		return nil
	}
	if err := conn.QueryRowContext(ctx, "SELECT @@SESSION.sql_mode").Scan(&l.mode); err != nil {
		return fmt.Errorf("read sql_mode after statement %d: %w", stmt.Number, err)
	}
	l.sc.SetSQLMode(l.mode)
	return nil
}

// execStatement runs one statement on conn and returns the rows an INSERT
// inserted. A statement the server refuses gives a *StatementError; one
// that ctx stopped, ctx's error.
func execStatement(ctx context.Context, conn *sql.Conn, stmt Statement, text []byte, k kind) (int64, error) {
	res, err := conn.ExecContext(ctx, string(text))
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return 0, fmt.Errorf("load stopped at statement %d: %w", stmt.Number, cerr)
		}
		if !emptyQuery(err) {
			return 0, statementError(stmt, err)
		}
		return 0, nil
	}
	if k != kindInsert {
		return 0, nil
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, nil // the count is for progress only
	}
	return n, nil
}

// emptyQuery reports the server's "Query was empty" (1065): a statement
// that is only an executable comment for a newer server version, e.g.
// /*!999999 … */, which the mysql client also passes over.
func emptyQuery(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1065
}

func statementError(stmt Statement, err error) error {
	return &StatementError{Number: stmt.Number, Line: stmt.Line, Offset: stmt.Offset, Head: head(stmt.Text), Err: withoutValues(err)}
}
