package native

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/mysqlx"
)

// dumper is one Dump in progress, on one connection holding the snapshot.
type dumper struct {
	conn     *sql.Conn
	opts     Options
	progress func(backup.Progress)
	p        backup.Progress
	info     backup.DumpInfo
	out      output
	tmp      []byte
	// maxPacket is the max_allowed_packet the dump must fit (see
	// Options.MaxAllowedPacket); stmtLimit bounds multi-row INSERTs.
	maxPacket int64
	stmtLimit int
	// foreign are the tables' ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY
	// statements, written once every table has its rows (see deferKeys).
	foreign []string
}

type dbObject struct{ name, kind string }

func (d *dumper) exec(ctx context.Context, stmts ...string) error {
	for _, s := range stmts {
		if _, err := d.conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

func (d *dumper) run(ctx context.Context) error {
	// Session first, then the snapshot: every read below sees the
	// database as it was at START TRANSACTION, and takes no locks that
	// block writers. Metadata locks are released after each table by
	// rolling back to a savepoint, so DDL is not blocked either.
	if err := d.exec(ctx,
		"SET NAMES utf8mb4",
		"SET SESSION sql_mode = ''",
		"SET SESSION time_zone = '+00:00'",
		"SET SESSION sql_quote_show_create = 1",
		"SET SESSION net_write_timeout = 600",
	); err != nil {
		return fmt.Errorf("set up session: %w", err)
	}
	// A server-wide statement time limit would kill the long SELECTs of a
	// big table; lift it for this session. MariaDB and MySQL name it
	// differently, and each rejects the other's name.
	for _, s := range []string{"SET SESSION max_statement_time = 0", "SET SESSION max_execution_time = 0"} {
		if err := d.exec(ctx, s); err != nil && !isUnknownVariable(err) {
			return fmt.Errorf("set up session: %w", err)
		}
	}
	if err := d.exec(ctx,
		"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
		"START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
	); err != nil {
		return fmt.Errorf("start snapshot: %w", err)
	}
	defer func() {
		// Read-only, and the connection is closed next: nothing to check.
		_, _ = d.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	}()
	d.info.SnapshotAt = d.opts.Now().UTC()
	if err := d.conn.QueryRowContext(ctx, "SELECT VERSION()").Scan(&d.info.ServerVersion); err != nil {
		return fmt.Errorf("read server version: %w", err)
	}
	if err := d.setPacketLimit(ctx); err != nil {
		return err
	}

	var tables, sequences, views []string
	objs, err := d.listTables(ctx)
	if err != nil {
		return err
	}
	for _, o := range objs {
		switch {
		case o.name == backup.RestoreMarker && o.kind == "BASE TABLE":
			// A backup of a half-restored database would pass every check
			// and could let retention drop the good ones.
			return fmt.Errorf("the database holds the partial copy of an interrupted restore (table %s): "+
				"restore it again (`cantina-ops backup restore`) before backing it up", backup.RestoreMarker)
		}
		switch o.kind {
		case "BASE TABLE":
			tables = append(tables, o.name)
		case "SYSTEM VERSIONED":
			d.opts.Logger.Warn("system-versioned table: only its current rows are dumped, not its history", "table", o.name)
			tables = append(tables, o.name)
		case "SEQUENCE":
			sequences = append(sequences, o.name)
		case "VIEW":
			views = append(views, o.name)
		default:
			return fmt.Errorf("list tables: %s has unsupported type %q", o.name, o.kind)
		}
	}
	d.p.TablesAll = len(tables)

	d.writeHeader()
	for _, t := range tables {
		if err := d.inSavepoint(ctx, func() error { return d.dumpTable(ctx, t) }); err != nil {
			return snapshotErr(ctx, "dump table "+t, err)
		}
		d.p.TablesDone++
	}
	for _, s := range sequences {
		if err := d.inSavepoint(ctx, func() error { return d.dumpSequence(ctx, s) }); err != nil {
			return snapshotErr(ctx, "dump sequence "+s, err)
		}
	}
	if len(d.foreign) > 0 {
		d.out.str("\n--\n-- Foreign keys, added once every table has its rows\n--\n\n")
		for _, f := range d.foreign {
			d.out.str(f + ";\n")
		}
	}
	if err := d.inSavepoint(ctx, func() error { return d.dumpObjects(ctx, views) }); err != nil {
		return snapshotErr(ctx, "dump objects", err)
	}
	d.writeFooter()
	if err := d.out.flush(); err != nil {
		return err
	}
	d.p.Table = ""
	d.report()
	return nil
}

// snapshotErr names the operation, and says what to do when concurrent DDL
// broke the snapshot: a table rebuilt or created after the snapshot
// began, or an object dropped after it was listed.
func snapshotErr(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1412, // ER_TABLE_DEF_CHANGED
			1146, // ER_NO_SUCH_TABLE
			1360, // ER_TRG_DOES_NOT_EXIST
			1305, // ER_SP_DOES_NOT_EXIST
			1539: // ER_EVENT_DOES_NOT_EXIST
			return fmt.Errorf("%s: %w (%w)", op, ErrSchemaChanged, err)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// isUnknownVariable reports ER_UNKNOWN_SYSTEM_VARIABLE.
func isUnknownVariable(err error) bool { return mysqlx.IsServerError(err, 1193) }

func (d *dumper) report() {
	d.p.Bytes = d.out.written + int64(len(d.out.buf))
	d.progress(d.p)
}

// inSavepoint runs fn between SAVEPOINT and ROLLBACK TO SAVEPOINT, which
// releases the metadata locks fn's reads took: a table already dumped can
// be altered while the dump goes on.
func (d *dumper) inSavepoint(ctx context.Context, fn func() error) error {
	if err := d.exec(ctx, "SAVEPOINT cantina_dump"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	return d.exec(ctx, "ROLLBACK TO SAVEPOINT cantina_dump")
}

// listTables returns the database's tables, views and sequences by name.
func (d *dumper) listTables(ctx context.Context) ([]dbObject, error) {
	rows, err := d.conn.QueryContext(ctx, "SHOW FULL TABLES")
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var out []dbObject
	for rows.Next() {
		var o dbObject
		if err := rows.Scan(&o.name, &o.kind); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	slices.SortFunc(out, func(a, b dbObject) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// commentName is a name for a -- comment line: quoted, and unable to end
// the comment (identifiers may contain newlines).
func commentName(name string) string {
	return strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(mysqlx.QuoteIdent(name))
}

func (d *dumper) writeHeader() {
	o := &d.out
	o.str("-- cantina-ops native dump (" + ToolVersion + ")\n--\n")
	o.str("-- Database: " + commentName(d.info.Database) + "\n")
	o.str("-- Server version: " + strings.ReplaceAll(d.info.ServerVersion, "\n", " ") + "\n")
	o.str("-- Snapshot at: " + d.info.SnapshotAt.Format("2006-01-02 15:04:05.000000") + " UTC\n")
	o.str("-- Load into an empty database: mysql --comments DATABASE < FILE\n")
	o.str("-- (without --comments the client strips comments inside routine bodies)\n")
	if d.opts.StripDefiners {
		o.str("-- Definers: stripped (views, triggers, routines and events belong to the account that loads it)\n\n")
	} else {
		o.str("-- Definers: kept (load as an account with SUPER or SET USER to keep them, or with cantina-ops backup restore)\n\n")
	}
	o.str(`SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT;
SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS;
SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION;
SET NAMES utf8mb4;
SET @OLD_TIME_ZONE=@@TIME_ZONE;
SET TIME_ZONE='+00:00';
SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0;
SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0;
SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO';
SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0;
`)
}

func (d *dumper) writeFooter() {
	d.out.str(`
SET SQL_MODE=@OLD_SQL_MODE;
SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS;
SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS;
SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT;
SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS;
SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION;
SET TIME_ZONE=@OLD_TIME_ZONE;
SET SQL_NOTES=@OLD_SQL_NOTES;

`)
	d.out.str(backup.TrailerPrefix + " on " + d.opts.Now().UTC().Format("2006-01-02 15:04:05") + " UTC\n")
}

// showCreate returns the one row of a SHOW CREATE … statement, by column
// name, after checking that it has the column the caller needs.
func (d *dumper) showCreate(ctx context.Context, query, column string) (map[string]string, error) {
	rows, err := showRows(ctx, d.conn, query)
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("%s: got %d rows", query, len(rows))
	}
	if _, ok := rows[0][column]; !ok {
		return nil, fmt.Errorf("%s: no %q column", query, column)
	}
	return rows[0], nil
}

// dumpTable writes one base table: its definition, then its rows as
// multi-row INSERTs of at most MaxStatementBytes each.
func (d *dumper) dumpTable(ctx context.Context, table string) error {
	d.p.Table = table
	d.report()
	m, err := loadTable(ctx, d.conn, table)
	if err != nil {
		return err
	}
	sc, err := d.showCreate(ctx, "SHOW CREATE TABLE "+mysqlx.QuoteIdent(table), "Create Table")
	if err != nil {
		return err
	}
	create := sc["Create Table"]
	var nfk int
	if err := d.conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = ?`, table).Scan(&nfk); err != nil {
		return fmt.Errorf("count foreign keys: %w", err)
	}
	keys, _ := deferKeys(create, m, nfk)
	if engine := tableEngine(create); engine != "" && !strings.EqualFold(engine, "InnoDB") {
		d.opts.Logger.Warn("table is not transactional: its rows are read at their own moment, not at the snapshot",
			"table", table, "engine", engine)
	}
	o := &d.out
	start := o.written + int64(len(o.buf))
	o.str("\n--\n-- Table structure for table " + commentName(table) + "\n--\n\n")
	o.str("DROP TABLE IF EXISTS " + mysqlx.QuoteIdent(table) + ";\n")
	o.str(keys.create + ";\n")
	if err := o.maybeFlush(); err != nil {
		return err
	}

	dg := newDigest(m)
	err = d.conn.Raw(func(driverConn any) error {
		r, err := openRawRows(ctx, driverConn, m)
		if err != nil {
			return err
		}
		defer r.rows.Close()
		if err := d.writeRows(ctx, r, m, dg); err != nil {
			return err
		}
		return r.rows.Close()
	})
	if err != nil {
		return err
	}
	if len(keys.indexes) > 0 {
		o.str("\n--\n-- Indexes of table " + commentName(table) + ", built after its rows\n--\n\n")
		for _, s := range keys.indexes {
			o.str(s + ";\n")
		}
	}
	if keys.foreign != "" {
		d.foreign = append(d.foreign, keys.foreign)
	}
	d.info.Tables = append(d.info.Tables, backup.TableInfo{Name: table, Rows: dg.rows, Checksum: dg.hex(),
		Bytes: o.written + int64(len(o.buf)) - start})
	return o.maybeFlush()
}

// writeRows streams a table's rows into INSERT statements of at most
// MaxStatementBytes (one row larger than that gets a statement of its own),
// feeding each row's tuple to the digest.
func (d *dumper) writeRows(ctx context.Context, r *rawRows, m *tableMeta, dg *digest) error {
	o := &d.out
	prefix := m.insertPrefix()
	limit := d.stmtLimit
	inStmt, stmtStart := false, 0
	for {
		ok, err := r.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if dg.rows == 0 {
			o.str("\n--\n-- Dumping data for table " + commentName(m.name) + "\n--\n\n")
		}
		rowStart := len(o.buf)
		if inStmt {
			o.buf = append(o.buf, ',')
		} else {
			stmtStart = rowStart
			o.buf = append(o.buf, prefix...)
		}
		tupleStart := len(o.buf)
		if o.buf, err = encodeRow(o.buf, r.kinds, r.vals); err != nil {
			return fmt.Errorf("%s: %w", rowLabel(m, r.kinds, r.vals, dg.rows+1), err)
		}
		dg.row(o.buf[tupleStart:])
		if inStmt && len(o.buf)-stmtStart > limit {
			// The row overflows the statement: end the statement
			// before it and start the next one with it.
			d.tmp = append(d.tmp[:0], o.buf[tupleStart:]...)
			o.buf = append(o.buf[:rowStart], ";\n"...)
			if err := o.maybeFlush(); err != nil {
				return err
			}
			stmtStart = len(o.buf)
			o.buf = append(o.buf, prefix...)
			o.buf = append(o.buf, d.tmp...)
			if cap(d.tmp) > 8*flushBytes {
				d.tmp = nil
			}
		}
		inStmt = true
		// Only a statement of one row can be longer than stmtLimit: a
		// row that a restore could not send fails the dump now.
		if size := int64(len(o.buf) - stmtStart); size > d.maxPacket-1 {
			return tooBigRow(m, r.kinds, r.vals, dg.rows, size, d.maxPacket)
		}
		if len(o.buf)-stmtStart >= limit {
			o.str(";\n")
			inStmt = false
			if err := o.maybeFlush(); err != nil {
				return err
			}
		}
		d.p.Rows++
		if d.p.Rows%d.opts.ProgressRows == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			d.report()
		}
	}
	if inStmt {
		o.str(";\n")
	}
	return nil
}

// tableEngine finds ENGINE=… in a CREATE TABLE statement's options.
func tableEngine(create string) string {
	i := strings.LastIndex(create, ") ENGINE=")
	if i < 0 {
		return ""
	}
	rest := create[i+len(") ENGINE="):]
	if j := strings.IndexAny(rest, " \n"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// dumpSequence writes a MariaDB sequence: its definition and its position
// (sequences are not transactional, so the position is the current one).
func (d *dumper) dumpSequence(ctx context.Context, seq string) error {
	sc, err := d.showCreate(ctx, "SHOW CREATE SEQUENCE "+mysqlx.QuoteIdent(seq), "Create Table")
	if err != nil {
		return err
	}
	var next, cycles int64
	if err := d.conn.QueryRowContext(ctx, "SELECT next_not_cached_value, cycle_count FROM "+mysqlx.QuoteIdent(seq)).Scan(&next, &cycles); err != nil {
		return err
	}
	o := &d.out
	o.str("\n--\n-- Sequence " + commentName(seq) + "\n--\n\n")
	o.str("DROP SEQUENCE IF EXISTS " + mysqlx.QuoteIdent(seq) + ";\n")
	o.str(sc["Create Table"] + ";\n")
	o.str(fmt.Sprintf("DO SETVAL(%s, %d, 0, %d);\n", mysqlx.QuoteIdent(seq), next, cycles))
	return o.maybeFlush()
}
