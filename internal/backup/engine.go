package backup

import (
	"context"
	"io"
	"time"
)

// Engine writes a consistent SQL dump of one database to w, uncompressed;
// the caller compresses, checksums and stores it. The dump must load with
// the standard mysql/mariadb client into an empty database, and must end
// with TrailerPrefix so a truncated file is recognised.
type Engine interface {
	Name() string
	Dump(ctx context.Context, w io.Writer, progress func(Progress)) (DumpInfo, error)
}

// TrailerPrefix starts the last line of every complete dump. mysqldump
// writes "-- Dump completed on …"; the native engine writes the same.
const TrailerPrefix = "-- Dump completed"

// Progress is reported while a dump runs.
type Progress struct {
	Table      string // table being dumped
	TablesDone int
	TablesAll  int
	Rows       int64 // rows written so far, all tables
	Bytes      int64 // uncompressed bytes written so far
}

// DumpInfo describes a finished dump; it goes into the manifest.
type DumpInfo struct {
	Engine        string      `json:"engine"`
	ToolVersion   string      `json:"tool_version"`
	ServerVersion string      `json:"server_version"`
	Database      string      `json:"database"`
	SnapshotAt    time.Time   `json:"snapshot_at"`
	Tables        []TableInfo `json:"tables"`
	// Definers is DefinersKept or DefinersStripped: whether the dump's
	// views, triggers, routines and events carry their DEFINER ("" when
	// the engine does not say).
	Definers string `json:"definers,omitempty"`
}

// DumpInfo.Definers values (BACKUP_DEFINERS).
const (
	DefinersKept     = "kept"
	DefinersStripped = "stripped"
)

// TableInfo is one base table's row count and content checksum at the
// snapshot. Checksum is the engine's own digest of the rows (empty when the
// engine cannot compute one); verify --restore-test compares it with the
// same digest computed on the restored copy.
type TableInfo struct {
	Name     string `json:"name"`
	Rows     int64  `json:"rows"`
	Checksum string `json:"checksum,omitempty"`
	// Bytes is the size of the table's part of the SQL (structure, rows,
	// indexes), 0 when the engine does not say: a restore's progress
	// knows from the start how the work is spread over the tables.
	Bytes int64 `json:"bytes,omitempty"`
}
