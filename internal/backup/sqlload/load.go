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
	Bytes      int64 // input bytes consumed
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
	var st Stats
	var mode string
	var maxPacket int64
	if err := conn.QueryRowContext(ctx, "SELECT @@SESSION.sql_mode, @@max_allowed_packet").Scan(&mode, &maxPacket); err != nil {
		return st, fmt.Errorf("read session settings: %w", err)
	}
	var current string
	if o.RewriteDefiners {
		if err := conn.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&current); err != nil {
			return st, fmt.Errorf("read the current account: %w", err)
		}
	}
	sc := NewScanner(r)
	sc.SetSQLMode(mode)
	sc.SetMaxStatement(int(maxPacket))
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("load stopped after %d statements: %w", st.Statements, err)
		}
		stmt := sc.Statement()
		if stmt.Oversize {
			return st, statementError(stmt, fmt.Errorf(
				"statement of %d bytes is larger than the server's max_allowed_packet (%d)", stmt.Size, maxPacket))
		}
		text := stmt.Text
		k, nameStart, nameEnd := classify(text)
		if o.SkipUseAndCreateDatabase {
			switch k {
			case kindUse, kindCreateDatabase, kindDropDatabase:
				st.Skipped++
				st.Bytes = stmt.End
				if progress != nil {
					progress(st)
				}
				continue
			case kindAlterDatabase:
				text = withoutName(text, nameStart, nameEnd)
			}
		}
		if o.RewriteDefiners && k == kindCreate {
			var changed string
			if text, changed = rewriteDefiner(text, current); changed != "" {
				st.RewrittenDefiners = append(st.RewrittenDefiners, changed)
			}
		}
		if _, err := conn.ExecContext(ctx, string(text)); err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return st, fmt.Errorf("load stopped at statement %d: %w", stmt.Number, cerr)
			}
			if !emptyQuery(err) {
				return st, statementError(stmt, err)
			}
		}
		st.Statements++
		st.Bytes = stmt.End
		if k == kindSet && bytes.Contains(bytes.ToLower(text), []byte("sql_mode")) {
			// The next statements are read as the client would after
			// this one: its server status flags follow sql_mode.
			if err := conn.QueryRowContext(ctx, "SELECT @@SESSION.sql_mode").Scan(&mode); err != nil {
				return st, fmt.Errorf("read sql_mode after statement %d: %w", stmt.Number, err)
			}
			sc.SetSQLMode(mode)
		}
		if progress != nil {
			progress(st)
		}
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("read SQL: %w", err)
	}
	if end := sc.Offset(); end != st.Bytes { // comments after the last statement
		st.Bytes = end
		if progress != nil {
			progress(st)
		}
	}
	return st, nil
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
