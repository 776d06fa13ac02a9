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
	dests := Destinations(cfg)
	return &backup.Manager{
		DB:           db,
		Database:     cfg.DB.Name,
		Storage:      dests[0].Storage,
		Destinations: dests,
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
		RestoreThreads:   cfg.RestoreThreads,
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

// Destinations are BACKUP_STORAGE's destinations, in order (config.Load
// guarantees at least one). One whose storage cannot be set up fails
// every operation with that reason, without stopping the others.
func Destinations(cfg *config.Config) []backup.Destination {
	out := make([]backup.Destination, 0, len(cfg.BackupStorage))
	for _, d := range cfg.BackupStorage {
		dest := backup.Destination{Name: d.Name, Where: d.String()}
		switch d.Kind {
		case "s3":
			s, err := backup.NewS3Storage(backup.S3Options{
				Endpoint: cfg.S3.Endpoint, Region: cfg.S3.Region,
				AccessKeyID: cfg.S3.AccessKeyID, SecretAccessKey: cfg.S3.SecretAccessKey.Reveal(),
				Bucket: d.Bucket, Prefix: d.Prefix, ForcePathStyle: cfg.S3.ForcePathStyle,
			})
			if err != nil {
				dest.Storage = backup.BrokenStorage{Err: err}
			} else {
				dest.Storage = s
			}
		default:
			dest.Storage = backup.NewDirStorage(d.Path)
		}
		out = append(out, dest)
	}
	if len(out) == 0 {
		out = append(out, backup.Destination{Name: backup.DefaultDestination, Where: "file://" + cfg.BackupDir, Storage: backup.NewDirStorage(cfg.BackupDir)})
	}
	return out
}
