package backup

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"filippo.io/age"
)

// TableDigestFunc computes a table's row count and content checksum on
// conn's current database, the same way the engine that made a dump
// computed TableInfo.Checksum. Wire it to native.TableDigest:
//
//	Digest: func(ctx context.Context, c *sql.Conn, t string) (int64, string, error) {
//		return native.TableDigest(ctx, c, t)
//	}
//
// (package native imports this package, so this one cannot import it.)
type TableDigestFunc func(ctx context.Context, conn *sql.Conn, table string) (rows int64, checksum string, err error)

// Manager makes, lists, prunes, verifies and restores the backups of one
// database. Fill in the fields; the zero values of the optional ones are
// ready to use. Its methods are safe to call concurrently: backups of one
// database are serialised by a MySQL named lock, not by the Manager.
type Manager struct {
	// DB is a pool on the POS database's server. It holds the named lock
	// during a backup, and gives restores and restore drills their
	// dedicated connections (discarded afterwards).
	DB *sql.DB
	// Database is the POS database's name.
	Database string
	// Engine makes the dumps (native or mysqldump). Only Run needs it.
	Engine Engine
	// Storage keeps the files (a DirStorage on BACKUP_DIR): the one
	// destination that List, Verify, Restore and Cleanup work on. With
	// several destinations it is the first; On gives a Manager for another.
	Storage Storage
	// StallTimeout drops a destination that takes no data for this long
	// from a running backup, so that a silent server cannot cost the
	// other destinations their copy; 0 means DefaultStallTimeout.
	StallTimeout time.Duration
	// Destinations are where Run writes every backup (BACKUP_STORAGE), the
	// first being Storage's. Empty: Storage alone (see Dests).
	Destinations []Destination
	// Digest checks restored tables against the manifest's checksums in a
	// restore drill. Nil: only row counts are compared.
	Digest TableDigestFunc
	// Retention is what Cleanup keeps.
	Retention Policy
	// ScratchGrace is the age after which a restore drill's scratch
	// database is a leftover that the next drill drops; 0 means
	// DefaultScratchGrace. Wire it to 2 × BACKUP_TIMEOUT.
	ScratchGrace time.Duration
	// RestoreThreads is how many connections Restore and the restore drill
	// load a native dump's tables with (RESTORE_THREADS); 1 loads it in
	// order on one, 0 means config.DefaultRestoreThreads(). It is capped by what
	// DB's pool allows.
	RestoreThreads int
	// CompressionLevel is the gzip level, 1–9; 0 means
	// DefaultCompressionLevel.
	CompressionLevel int
	// Recipients, when set, are the age public keys every new backup is
	// encrypted to after compression (BACKUP_AGE_RECIPIENTS): the dump
	// is then a .sql.gz.age file (see crypt.go). None: plain .sql.gz.
	Recipients []age.Recipient
	// Identities are the age private keys (BACKUP_AGE_IDENTITY_FILE) that
	// Verify and Restore decrypt encrypted backups with. Without them an
	// encrypted backup's stored bytes are still checked against its
	// manifest, but its content cannot be (ErrNoIdentity).
	Identities []age.Identity
	// Version is cantina-ops's version, recorded in manifests.
	Version string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger gets warnings and progress notes; nil discards them.
	Logger *slog.Logger
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

func (m *Manager) log() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// check reports missing required fields.
func (m *Manager) check(needEngine, needDB bool) error {
	var errs []error
	if m.Storage == nil && len(m.Destinations) == 0 {
		errs = append(errs, errors.New("backup manager: no Storage"))
	}
	if m.Database == "" {
		errs = append(errs, errors.New("backup manager: no Database"))
	}
	if needEngine && m.Engine == nil {
		errs = append(errs, errors.New("backup manager: no Engine"))
	}
	if needDB && m.DB == nil {
		errs = append(errs, errors.New("backup manager: no DB"))
	}
	return errors.Join(errs...)
}
