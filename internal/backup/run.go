package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrIncompleteDump means the engine returned without error but its output
// does not end with the TrailerPrefix line: the dump is not stored.
var ErrIncompleteDump = errors.New("the dump does not end with the \"" + TrailerPrefix + "\" trailer")

// RunOptions are the per-backup choices.
type RunOptions struct {
	// Trigger records what started the backup: TriggerSchedule, TriggerCLI,
	// TriggerAPI or TriggerConsole.
	Trigger string
	// Progress, if set, receives the engine's progress reports (tables,
	// rows, uncompressed bytes), from the dumping goroutine.
	Progress func(Progress)
}

// Run makes one backup of m.Database and returns its manifest.
//
// It takes the database's named lock first (ErrBackupRunning if another
// backup or restore holds it), then streams engine → gzip → sha256 and
// byte counts → a temporary file, checks that the dump ends with its
// trailer, commits the dump file, reads it back to check its sha256, and
// then commits its manifest, which records that check. On any failure —
// engine error, full disk, cancelled or timed-out ctx — the temporary file
// is removed and the existing backups are left as they were; at worst
// (a crash) a temporary file or a dump without manifest stays behind,
// which List never counts as a backup and Cleanup removes later.
func (m *Manager) Run(ctx context.Context, opts RunOptions) (Manifest, error) {
	if err := m.check(true, true); err != nil {
		return Manifest{}, err
	}
	lock, err := acquireLock(ctx, m.DB, m.Database)
	if err != nil {
		return Manifest{}, err
	}
	defer lock.Release()

	started := m.now()
	name, err := m.freeName(ctx, started)
	if err != nil {
		return Manifest{}, err
	}
	log := m.log().With("backup", name)
	log.Info("backup started", "engine", m.Engine.Name(), "trigger", opts.Trigger)

	up, err := m.Storage.Create(ctx, name)
	if err != nil {
		return Manifest{}, fmt.Errorf("backup %s: %w", m.Database, diskHint(err))
	}
	committed := false
	defer func() {
		if !committed {
			if err := up.Abort(); err != nil {
				log.Warn("could not remove the temporary file of a failed backup; cleanup will", "err", err)
			}
		}
	}()

	// engine → tail/raw count → gzip → age (with Recipients) → stored
	// count + sha256 → storage
	sink := &errWriter{w: up}
	hash := sha256.New()
	compressed := &countWriter{w: io.MultiWriter(sink, hash)}
	level := m.CompressionLevel
	if level == 0 {
		level = DefaultCompressionLevel
	}
	enc, err := m.encrypter(compressed)
	if err != nil {
		return Manifest{}, fmt.Errorf("backup %s: %w", m.Database, err)
	}
	gz, err := newCompressor(enc, level)
	if err != nil {
		return Manifest{}, fmt.Errorf("backup %s: %w", m.Database, err)
	}
	tail := &tailWriter{}
	raw := &countWriter{w: io.MultiWriter(gz, tail)}

	info, dumpErr := m.Engine.Dump(ctx, raw, opts.Progress)
	closeErr := firstErr(gz.Close(), enc.Close()) // always: it stops pgzip's goroutines
	if err := firstErr(sink.Err(), dumpErr, ctx.Err(), closeErr); err != nil {
		return Manifest{}, fmt.Errorf("backup %s failed, nothing was stored: %w", m.Database, diskHint(err))
	}
	if !tail.endsWithTrailer() {
		return Manifest{}, fmt.Errorf("backup %s failed, nothing was stored: %w (last line %q); the engine stopped early", m.Database, ErrIncompleteDump, truncate(tail.lastLine(), 80))
	}
	if info.Database != "" && info.Database != m.Database {
		return Manifest{}, fmt.Errorf("backup %s failed, nothing was stored: the engine dumped database %q", m.Database, info.Database)
	}
	if err := up.Commit(); err != nil {
		return Manifest{}, fmt.Errorf("backup %s: %w", m.Database, diskHint(err))
	}
	committed = true
	verified, err := m.readBack(ctx, name, hex.EncodeToString(hash.Sum(nil)), compressed.n)
	if err != nil {
		if derr := m.Storage.Delete(context.WithoutCancel(ctx), name); derr != nil {
			log.Warn("could not remove a dump that failed its read-back; cleanup will", "err", derr)
		}
		return Manifest{}, fmt.Errorf("backup %s failed, nothing was kept: %w", m.Database, diskHint(err))
	}
	finished := m.now()
	man := Manifest{
		Format:           ManifestFormat,
		Name:             name,
		Database:         m.Database,
		Engine:           info.Engine,
		ToolVersion:      info.ToolVersion,
		ServerVersion:    info.ServerVersion,
		SnapshotAt:       info.SnapshotAt.UTC(),
		StartedAt:        started,
		FinishedAt:       finished,
		DurationSeconds:  finished.Sub(started).Round(time.Millisecond).Seconds(),
		RawBytes:         raw.n,
		CompressedBytes:  compressed.n,
		Compression:      "gzip",
		CompressionLevel: level,
		Encryption:       m.encryption(),
		Recipients:       m.recipientKeys(),
		SHA256:           hex.EncodeToString(hash.Sum(nil)),
		Tables:           info.Tables,
		AppVersion:       m.Version,
		Trigger:          opts.Trigger,
		Verified:         verified,
		Definers:         info.Definers,
	}
	if man.Engine == "" {
		man.Engine = m.Engine.Name()
	}
	if man.Tables == nil {
		man.Tables = []TableInfo{}
	}
	// The manifest is written even if ctx ended meanwhile: the dump is
	// complete, and without its manifest it would be thrown away.
	if err := writeManifest(context.WithoutCancel(ctx), m.Storage, man); err != nil {
		// A dump without manifest is no backup; remove it now rather than
		// leave it to Cleanup.
		if derr := m.Storage.Delete(context.WithoutCancel(ctx), name); derr != nil {
			log.Warn("could not remove a dump whose manifest failed; cleanup will", "err", derr)
		}
		return Manifest{}, fmt.Errorf("backup %s failed: %w", m.Database, diskHint(err))
	}
	log.Info("backup finished", "bytes", man.CompressedBytes, "raw_bytes", man.RawBytes,
		"tables", len(man.Tables), "rows", man.Rows(), "duration", man.Duration().Round(time.Millisecond).String())
	return man, nil
}

// freeName is the dump name for a backup started at t; should that time
// already be taken (by a plain or an encrypted dump, or a manifest) — two
// backups within one second — the timestamp moves on by a second.
func (m *Manager) freeName(ctx context.Context, t time.Time) (string, error) {
	objs, err := m.Storage.List(ctx)
	if err != nil {
		return "", err
	}
	taken := make(map[string]bool, len(objs))
	for _, o := range objs {
		if !o.Temp {
			taken[o.Name] = true
		}
	}
	t = t.Truncate(time.Second)
	for i := 0; i < 60; i++ {
		if !timeTaken(taken, DumpName(m.Database, t)) {
			return m.dumpName(t), nil
		}
		t = t.Add(time.Second)
	}
	return "", fmt.Errorf("backup %s: no free file name near %s", m.Database, t.Format(TimeLayout))
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
