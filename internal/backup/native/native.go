// Package native dumps a MySQL/MariaDB database as plain SQL in pure Go, over
// go-sql-driver/mysql, for platforms without a mysqldump binary. The dump is
// one consistent snapshot (a single REPEATABLE READ transaction started WITH
// CONSISTENT SNAPSHOT, so writers are never blocked), loads with the
// standard mysql/mariadb client into an empty database, and keeps the data
// exact: NULL vs empty string vs empty BLOB, bytes as hex, FLOAT/DOUBLE bit for bit,
// DECIMAL and temporal values as the server prints them, zero dates, BIT,
// JSON text. Tables come first, each created with its primary key only,
// then its rows, then its other indexes (see deferKeys); then the foreign
// keys; then triggers, routines, events and views (in dependency order),
// each with its DEFINER as mysqldump keeps it (Options.StripDefiners drops
// them). Memory stays flat: rows are streamed and encoded straight into a
// reused buffer.
//
// Every base table also gets a content checksum over the exact values
// written; TableDigest computes the same checksum on a live table, so a
// restore drill can compare a restored copy with the dump.
package native

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/cantina-pos/cantina-ops/internal/backup"
)

// Name is the engine's name, as BACKUP_ENGINE and manifests spell it.
const Name = "native"

// ToolVersion identifies this dump format in manifests. Change it when the
// output or the checksum changes.
const ToolVersion = "cantina-ops-native/2"

// Defaults for Options.
const (
	DefaultMaxStatementBytes = 1 << 20
	DefaultProgressRows      = 10000
)

// ErrSchemaChanged means a table was altered, created or dropped while the
// dump ran: DDL is not part of a consistent snapshot, so the dump stops
// rather than write a table whose rows and structure do not match.
var ErrSchemaChanged = errors.New("the schema changed during the dump (DDL breaks the consistent snapshot); run the backup again when no migration is running")

var _ backup.Engine = (*Engine)(nil)

// Options tunes a native dump; the zero value is ready to use.
type Options struct {
	// MaxStatementBytes bounds one INSERT statement (a single larger row
	// gets a statement of its own). Default 1 MiB, well under the 16 MiB
	// max_allowed_packet of current servers and clients; never more than
	// the max_allowed_packet the dump works with (see MaxAllowedPacket).
	MaxStatementBytes int
	// MaxAllowedPacket is the largest statement a restore can send. A row
	// whose INSERT would be larger fails the dump, naming the table and
	// the row, instead of making a backup that cannot be loaded. Default
	// (0): the dumped server's max_allowed_packet, read when the dump
	// starts.
	MaxAllowedPacket int64
	// StripDefiners drops the DEFINER clause of views, triggers, routines
	// and events (BACKUP_DEFINERS=strip), so any account can load the dump
	// and becomes their owner. By default the clauses are kept as
	// mysqldump writes them: loading the dump as an account with SUPER (or
	// SET USER) restores each object with its original owner and security
	// context, and `backup restore` rewrites them for an account without.
	StripDefiners bool
	// ProgressRows: the progress callback is called every this many rows
	// (and at the start of every table). Default 10000.
	ProgressRows int64
	// Logger receives warnings (tables that cannot be part of the
	// snapshot). Default: discard.
	Logger *slog.Logger
	// Now is the clock for SnapshotAt and the trailer. Default time.Now.
	Now func() time.Time
}

// Engine dumps one database; it is safe to run several dumps at once.
type Engine struct {
	cfg  *mysql.Config
	opts Options
}

// New returns an engine dumping cfg.DBName. The config is copied; the
// engine turns parseTime, interpolateParams and multiStatements off on its
// own copy, whatever the caller set.
func New(cfg *mysql.Config, opts Options) *Engine {
	c := cfg.Clone()
	c.ParseTime = false
	c.InterpolateParams = false
	c.MultiStatements = false
	if opts.MaxStatementBytes <= 0 {
		opts.MaxStatementBytes = DefaultMaxStatementBytes
	}
	if opts.ProgressRows <= 0 {
		opts.ProgressRows = DefaultProgressRows
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Engine{cfg: c, opts: opts}
}

// Name returns "native".
func (e *Engine) Name() string { return Name }

// Dump writes the database as SQL to w (uncompressed, ending with the
// backup.TrailerPrefix line) and describes it. progress may be nil; it is
// called from Dump's goroutine, so a slow callback slows the dump. On error
// the output is incomplete (no trailer) and must be discarded.
func (e *Engine) Dump(ctx context.Context, w io.Writer, progress func(backup.Progress)) (backup.DumpInfo, error) {
	info := backup.DumpInfo{Engine: Name, ToolVersion: ToolVersion, Database: e.cfg.DBName, Definers: backup.DefinersKept}
	if e.opts.StripDefiners {
		info.Definers = backup.DefinersStripped
	}
	if e.cfg.DBName == "" {
		return info, errors.New("native dump: the database config names no database")
	}
	connector, err := mysql.NewConnector(e.cfg)
	if err != nil {
		return info, fmt.Errorf("native dump: %w", err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return info, fmt.Errorf("connect to %s as %s: %w", e.cfg.Addr, e.cfg.User, err)
	}
	defer conn.Close()
	if progress == nil {
		progress = func(backup.Progress) {}
	}
	d := &dumper{
		conn:     conn,
		opts:     e.opts,
		progress: progress,
		info:     info,
		out:      output{w: w, buf: make([]byte, 0, 2*flushBytes)},
	}
	if err := d.run(ctx); err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return d.info, err
	}
	return d.info, nil
}
