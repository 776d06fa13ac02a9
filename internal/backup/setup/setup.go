// Package setup builds the backup.Manager that the CLI and the worker share
// from the configuration: the engine BACKUP_ENGINE names, BACKUP_DIR
// storage, the retention policy and the native content digest for restore
// drills. It exists apart from package backup because the engines import
// backup.
package setup

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/backup/mysqldump"
	"github.com/cantina-pos/cantina-ops/internal/backup/native"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// Manager returns the backup manager for cfg's database. db is a pool on
// that database (see internal/conn).
func Manager(cfg *config.Config, db *sql.DB, version string, log *slog.Logger) (*backup.Manager, error) {
	eng, err := Engine(cfg, log)
	if err != nil {
		return nil, err
	}
	m := Listing(cfg, db, version, log)
	m.Engine = eng
	return m, nil
}

// Listing returns the manager of cfg's database without a dump engine: it
// lists, prunes, verifies and restores but makes no backups. The web
// process, the scheduler and the health checks need no more, nor the
// mysqldump binary BACKUP_ENGINE=mysqldump would require.
func Listing(cfg *config.Config, db *sql.DB, version string, log *slog.Logger) *backup.Manager {
	return &backup.Manager{
		DB:       db,
		Database: cfg.DB.Name,
		Storage:  backup.NewDirStorage(cfg.BackupDir),
		Digest: func(ctx context.Context, c *sql.Conn, table string) (int64, string, error) {
			return native.TableDigest(ctx, c, table)
		},
		Retention: backup.Policy{
			RetentionDays: cfg.BackupRetentionDays,
			KeepMin:       cfg.BackupKeepMin,
			// A running backup's temporary file is never older than its
			// timeout: only older leftovers are stale.
			Grace: max(cfg.BackupTimeout, backup.DefaultGrace),
		},
		// A drill (the backup:verify task, `backup verify`) runs at most
		// tasks.Limits.VerifyTimeout: a scratch database older than that
		// and an hour was left by a killed worker.
		ScratchGrace:     max(tasks.LimitsOf(cfg).VerifyTimeout()+time.Hour, backup.DefaultScratchGrace),
		CompressionLevel: cfg.BackupGzipLevel,
		Version:          version,
		Logger:           log,

		// BACKUP_AGE_RECIPIENTS and BACKUP_AGE_IDENTITY_FILE, both
		// parsed and checked by config.Load at start-up.
		Recipients: cfg.BackupAge.Recipients,
		Identities: cfg.BackupAge.Identities,
	}
}

// Engine returns the dump engine BACKUP_ENGINE names.
func Engine(cfg *config.Config, log *slog.Logger) (backup.Engine, error) {
	switch cfg.BackupEngine {
	case "mysqldump":
		return mysqldump.New(cfg.DB, mysqldump.Options{})
	case "native", "":
		return native.New(cfg.DB.MySQL(), native.Options{Logger: log, StripDefiners: cfg.BackupDefiners == "strip"}), nil
	default:
		return nil, fmt.Errorf("BACKUP_ENGINE: unknown engine %q", cfg.BackupEngine)
	}
}
