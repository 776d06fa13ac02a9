package native

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cantina-pos/cantina-ops/internal/mysqlx"
	"github.com/go-sql-driver/mysql"
)

// dumpObjects writes triggers (after all the data, so loading the rows does
// not fire them), stored functions and procedures, events, and last the
// views, which may use the routines and each other.
//
// Definitions are read with character_set_results = binary, as mysqldump
// does, so their bytes come out exactly as stored, and each is written
// after setting the character_set_client, collation_connection and sql_mode
// it was created with: the server reads it back the same way. DEFINER
// clauses are kept as SHOW CREATE prints them (which is how mysqldump
// writes routines), unless Options.StripDefiners drops them.
func (d *dumper) dumpObjects(ctx context.Context, views []string) error {
	if err := d.exec(ctx, "SET SESSION character_set_results = binary"); err != nil {
		return err
	}
	if err := d.dumpTriggers(ctx); err != nil {
		return err
	}
	if err := d.dumpRoutines(ctx); err != nil {
		return err
	}
	if err := d.dumpEvents(ctx); err != nil {
		return err
	}
	if err := d.dumpViews(ctx, views); err != nil {
		return err
	}
	// Back to the dump's own settings for the footer.
	d.out.str("\nSET NAMES utf8mb4;\nSET SQL_MODE='NO_AUTO_VALUE_ON_ZERO';\nSET TIME_ZONE='+00:00';\n")
	return d.exec(ctx, "SET SESSION character_set_results = utf8mb4")
}

// names runs a query returning one column of names.
func (d *dumper) names(ctx context.Context, query string) ([]string, error) {
	rows, err := d.conn.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// definer returns a SHOW CREATE statement as the dump writes it: as is,
// or without its DEFINER clause when Options.StripDefiners is set.
func (d *dumper) definer(stmt string) string {
	if d.opts.StripDefiners {
		return stripDefiner(stmt)
	}
	return stmt
}

// writeCompound writes a statement that may contain semicolons (a trigger,
// routine or event body) between DELIMITER lines, after the SET that
// restores the settings it was created with. The delimiter goes on a line
// of its own, as mysqldump writes it: a body that ends in a -- comment
// cannot swallow it, and no delimiter can straddle the body's end.
func (d *dumper) writeCompound(comment, drop string, settings map[string]string, stmt string) {
	o := &d.out
	o.str("\n--\n-- " + comment + "\n--\n\n")
	o.str(drop + ";\n")
	o.str(sessionSet(settings) + ";\n")
	delim := delimiterFor(stmt)
	o.str("DELIMITER " + delim + "\n")
	o.str(stmt + compoundEnd + delim + "\n")
	o.str("DELIMITER ;\n")
}

// compoundEnd separates a compound statement from its delimiter.
const compoundEnd = "\n"

// sessionSet builds the SET statement for an object's creation settings,
// from SHOW CREATE's columns.
func sessionSet(s map[string]string) string {
	var parts []string
	if v := s["character_set_client"]; v != "" {
		parts = append(parts, "character_set_client = "+v)
	}
	if v := s["collation_connection"]; v != "" {
		parts = append(parts, "collation_connection = "+v)
	}
	if v, ok := s["time_zone"]; ok && v != "" {
		parts = append(parts, "time_zone = "+quoteString(v))
	}
	if v, ok := s["sql_mode"]; ok {
		parts = append(parts, "sql_mode = "+quoteString(v))
	}
	if len(parts) == 0 {
		return "DO 0"
	}
	return "SET " + strings.Join(parts, ", ")
}

// delimiterFor picks a client DELIMITER for stmt, written as stmt +
// compoundEnd + delimiter: one that occurs nowhere in stmt and whose first
// occurrence in that text is the one after the body, so the client can
// only end the statement there, whatever the body's last characters are.
func delimiterFor(stmt string) string {
	ok := func(d string) bool {
		return strings.Index(stmt+compoundEnd+d, d) == len(stmt)+len(compoundEnd)
	}
	for _, d := range []string{";;", "$$", "//", "%%", "##"} {
		if ok(d) {
			return d
		}
	}
	for n := 1; ; n++ {
		if d := fmt.Sprintf("$$%d$$", n); ok(d) {
			return d
		}
	}
}

func (d *dumper) dumpTriggers(ctx context.Context) error {
	// In firing order: the server appends each new trigger last, so
	// creating them in ACTION_ORDER keeps the order (SHOW CREATE TRIGGER
	// drops FOLLOWS/PRECEDES).
	names, err := d.names(ctx, "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() "+
		"ORDER BY EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_TIMING, ACTION_ORDER")
	if err != nil {
		return fmt.Errorf("list triggers: %w", err)
	}
	for _, n := range names {
		const col = "SQL Original Statement"
		sc, err := d.showCreate(ctx, "SHOW CREATE TRIGGER "+mysqlx.QuoteIdent(n), col)
		if err != nil {
			return fmt.Errorf("dump trigger %s: %w", n, err)
		}
		d.writeCompound("Trigger "+commentName(n), "DROP TRIGGER IF EXISTS "+mysqlx.QuoteIdent(n), sc, d.definer(sc[col]))
		if err := d.out.maybeFlush(); err != nil {
			return err
		}
	}
	return nil
}

func (d *dumper) dumpRoutines(ctx context.Context) error {
	// FUNCTION, PACKAGE, PACKAGE BODY, PROCEDURE: a package before its body.
	rows, err := showRows(ctx, d.conn, "SELECT ROUTINE_TYPE AS t, ROUTINE_NAME AS n FROM information_schema.ROUTINES "+
		"WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY ROUTINE_TYPE, ROUTINE_NAME")
	if err != nil {
		return fmt.Errorf("list routines: %w", err)
	}
	for _, r := range rows {
		typ, name := r["t"], r["n"]
		what := strings.ToLower(typ) + " " + name
		col := "Create " + strings.ToUpper(typ[:1]) + strings.ToLower(typ[1:])
		if typ == "PACKAGE BODY" {
			col = "Create Package Body"
		}
		sc, err := d.showCreate(ctx, "SHOW CREATE "+typ+" "+mysqlx.QuoteIdent(name), col)
		if err != nil {
			return fmt.Errorf("dump %s: %w", what, err)
		}
		if sc[col] == "" {
			return fmt.Errorf("dump %s: the server hides its definition from this account; "+
				"dump as its definer or grant SELECT on mysql.proc (SHOW CREATE ROUTINE on MySQL 8)", what)
		}
		d.writeCompound(strings.ToUpper(typ[:1])+strings.ToLower(typ[1:])+" "+commentName(name),
			"DROP "+typ+" IF EXISTS "+mysqlx.QuoteIdent(name), sc, d.definer(sc[col]))
		if err := d.out.maybeFlush(); err != nil {
			return err
		}
	}
	return nil
}

func (d *dumper) dumpEvents(ctx context.Context) error {
	names, err := d.names(ctx, "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE() ORDER BY EVENT_NAME")
	if err != nil {
		return fmt.Errorf("list events: %w", err)
	}
	for _, n := range names {
		const col = "Create Event"
		sc, err := d.showCreate(ctx, "SHOW CREATE EVENT "+mysqlx.QuoteIdent(n), col)
		if err != nil {
			return fmt.Errorf("dump event %s: %w", n, err)
		}
		d.writeCompound("Event "+commentName(n), "DROP EVENT IF EXISTS "+mysqlx.QuoteIdent(n), sc, d.definer(sc[col]))
		if err := d.out.maybeFlush(); err != nil {
			return err
		}
	}
	return nil
}

// dumpViews writes the views so that every view is created after the views
// it reads (see orderViews), with stand-ins for views in a cycle.
func (d *dumper) dumpViews(ctx context.Context, views []string) error {
	const col = "Create View"
	defs := make(map[string]string, len(views))
	settings := make(map[string]map[string]string, len(views))
	columns := make(map[string][]map[string]string, len(views))
	for _, v := range views {
		sc, err := d.showCreate(ctx, "SHOW CREATE VIEW "+mysqlx.QuoteIdent(v), col)
		if err != nil {
			return fmt.Errorf("dump view %s: %w", v, err)
		}
		defs[v] = sc[col]
		settings[v] = sc
		// SHOW CREATE VIEW succeeds on a broken view; SHOW COLUMNS does
		// not, and a dump holding a broken view would stop loading there.
		cols, err := showRows(ctx, d.conn, "SHOW COLUMNS FROM "+mysqlx.QuoteIdent(v))
		if err != nil {
			var me *mysql.MySQLError
			if errors.As(err, &me) && me.Number == 1356 { // ER_VIEW_INVALID
				return fmt.Errorf("dump view %s: %w; the dump would not load: fix the view or drop it", v, err)
			}
			return fmt.Errorf("dump view %s: %w", v, err)
		}
		columns[v] = cols
	}
	order, placeholders := orderViews(defs)
	o := &d.out
	for _, v := range placeholders {
		o.str("\n--\n-- Stand-in for view " + commentName(v) + " (views depend on each other in a cycle)\n--\n\n")
		o.str("SET NAMES utf8mb4;\nDROP VIEW IF EXISTS " + mysqlx.QuoteIdent(v) + ";\nCREATE VIEW " + mysqlx.QuoteIdent(v) + " AS SELECT ")
		for i, c := range columns[v] {
			if i > 0 {
				o.str(", ")
			}
			o.str("1 AS " + mysqlx.QuoteIdent(c["Field"]))
		}
		o.str(";\n")
	}
	for _, v := range order {
		s := settings[v]
		o.str("\n--\n-- View " + commentName(v) + "\n--\n\n")
		o.str(sessionSet(map[string]string{
			"character_set_client": s["character_set_client"],
			"collation_connection": s["collation_connection"],
			"sql_mode":             "NO_AUTO_VALUE_ON_ZERO", // views keep no mode; this one reads SHOW CREATE's text
		}) + ";\n")
		o.str("DROP VIEW IF EXISTS " + mysqlx.QuoteIdent(v) + ";\n")
		o.str(d.definer(defs[v]) + ";\n")
		if err := o.maybeFlush(); err != nil {
			return err
		}
	}
	return nil
}
