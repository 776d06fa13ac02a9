package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
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

// Run makes one backup of m.Database, written to every destination (see
// Dests), and returns its manifest.
//
// It takes the database's named lock first (ErrBackupRunning if another
// backup or restore holds it), then streams engine → gzip → sha256 and
// byte counts → an upload to each destination at once (a temporary file, a
// multipart upload), checks that the dump ends with its trailer, commits
// each upload, reads each back to check its sha256, and then writes each
// destination's manifest, which records that check. On any failure —
// engine error, full disk, cancelled or timed-out ctx — the uploads are
// aborted and the existing backups are left as they were; at worst (a
// crash) a temporary object or a dump without manifest stays behind, which
// List never counts as a backup and Cleanup removes later.
//
// A destination that fails (its listing, upload, commit, read-back or
// manifest) drops out without stopping the others: when at least one
// stored the backup, Run returns its manifest together with a
// *PartialError naming each destination that failed and why.
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
	targets := make([]*target, 0, len(m.Dests()))
	for _, d := range m.Dests() {
		targets = append(targets, &target{d: d})
	}
	name, err := m.freeName(ctx, started, targets)
	if err != nil {
		return Manifest{}, err
	}
	log := m.log().With("backup", name)
	log.Info("backup started", "engine", m.Engine.Name(), "trigger", opts.Trigger, "destinations", len(targets))

	for _, t := range alive(targets) {
		if t.up, t.err = t.d.Storage.Create(ctx, name); t.err != nil {
			t.fail(log, "could not start the upload", t.err)
		}
	}
	defer func() {
		for _, t := range targets {
			if t.up != nil && !t.committed {
				if err := t.up.Abort(); err != nil {
					log.Warn("could not remove the temporary file of a failed backup; cleanup will", "destination", t.d.Name, "err", err)
				}
			}
		}
	}()
	if len(alive(targets)) == 0 {
		return Manifest{}, m.failedEverywhere(name, targets)
	}

	// engine → tail/raw count → gzip → age (with Recipients) → stored
	// count + sha256 → uploads
	sink := &fanout{targets: alive(targets), log: log}
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
	if len(alive(targets)) == 0 {
		return Manifest{}, m.failedEverywhere(name, targets)
	}
	if err := firstErr(dumpErr, ctx.Err(), closeErr); err != nil {
		return Manifest{}, fmt.Errorf("backup %s failed, nothing was stored: %w", m.Database, diskHint(err))
	}
	if !tail.endsWithTrailer() {
		return Manifest{}, fmt.Errorf("backup %s failed, nothing was stored: %w (last line %q); the engine stopped early", m.Database, ErrIncompleteDump, truncate(tail.lastLine(), 80))
	}
	if info.Database != "" && info.Database != m.Database {
		return Manifest{}, fmt.Errorf("backup %s failed, nothing was stored: the engine dumped database %q", m.Database, info.Database)
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
		Definers:         info.Definers,
	}
	if man.Engine == "" {
		man.Engine = m.Engine.Name()
	}
	if man.Tables == nil {
		man.Tables = []TableInfo{}
	}
	for _, t := range alive(targets) {
		m.finish(ctx, log, t, man)
	}
	var stored []string
	var failed []DestinationFailure
	for _, t := range targets {
		if t.err == nil {
			stored = append(stored, t.d.Name)
		} else {
			failed = append(failed, DestinationFailure{Destination: t.d, Err: t.err})
		}
	}
	if len(stored) == 0 {
		return Manifest{}, m.failedEverywhere(name, targets)
	}
	log.Info("backup finished", "bytes", man.CompressedBytes, "raw_bytes", man.RawBytes,
		"tables", len(man.Tables), "rows", man.Rows(), "duration", man.Duration().Round(time.Millisecond).String(),
		"stored_in", strings.Join(stored, ","))
	for _, t := range targets {
		if t.d.Name == stored[0] {
			man.Verified = t.verified
		}
	}
	if len(failed) > 0 {
		return man, &PartialError{Name: name, Stored: stored, Failed: failed}
	}
	return man, nil
}

// finish commits target t's upload, reads it back and writes its
// manifest; a failure is recorded in t (and the dump removed).
func (m *Manager) finish(ctx context.Context, log *slog.Logger, t *target, man Manifest) {
	s := t.d.Storage
	if err := t.up.Commit(); err != nil {
		t.fail(log, "could not commit the upload", err)
		return
	}
	t.committed = true
	verified, err := m.readBack(ctx, s, man.Name, man.SHA256, man.CompressedBytes)
	if err != nil {
		if derr := s.Delete(context.WithoutCancel(ctx), man.Name); derr != nil {
			log.Warn("could not remove a dump that failed its read-back; cleanup will", "destination", t.d.Name, "err", derr)
		}
		t.fail(log, "the stored dump failed its read-back", fmt.Errorf("nothing was kept: %w", err))
		return
	}
	man.Verified = verified
	// The manifest is written even if ctx ended meanwhile: the dump is
	// complete, and without its manifest it would be thrown away.
	if err := writeManifest(context.WithoutCancel(ctx), s, man); err != nil {
		// A dump without manifest is no backup; remove it now rather than
		// leave it to Cleanup.
		if derr := s.Delete(context.WithoutCancel(ctx), man.Name); derr != nil {
			log.Warn("could not remove a dump whose manifest failed; cleanup will", "destination", t.d.Name, "err", derr)
		}
		t.fail(log, "could not write the manifest", err)
		return
	}
	t.verified = verified
}

// failedEverywhere is Run's error when no destination stored the backup.
// With one destination it is that destination's error, as it always was.
func (m *Manager) failedEverywhere(name string, targets []*target) error {
	if len(targets) == 1 {
		return fmt.Errorf("backup %s failed, nothing was stored: %w", m.Database, diskHint(targets[0].err))
	}
	errs := make([]error, len(targets))
	for i, t := range targets {
		errs[i] = fmt.Errorf("%s: %w", t.d, diskHint(t.err))
	}
	return fmt.Errorf("backup %s failed, nothing was stored in any destination: %w", m.Database, errors.Join(errs...))
}

// target is one destination of a running backup.
type target struct {
	d         Destination
	up        Upload
	committed bool
	verified  *Verification
	err       error // why this destination failed; nil while it has not
}

func (t *target) fail(log *slog.Logger, what string, err error) {
	if t.err == nil {
		t.err = err
		log.Warn("backup destination failed; the others go on", "destination", t.d.Name, "where", t.d.Where, "what", what, "err", err)
	}
}

// alive are the targets that have not failed.
func alive(ts []*target) []*target {
	var out []*target
	for _, t := range ts {
		if t.err == nil {
			out = append(out, t)
		}
	}
	return out
}

// fanout writes the compressed dump to every target that has not failed.
// A target whose write fails drops out (its error kept, a full disk say);
// the write fails only when no target is left, which stops the engine.
type fanout struct {
	targets []*target
	log     *slog.Logger
}

func (f *fanout) Write(p []byte) (int, error) {
	var last error
	n := 0
	for _, t := range f.targets {
		if t.err != nil {
			continue
		}
		if _, err := t.up.Write(p); err != nil {
			t.fail(f.log, "the upload failed", err)
			last = err
			continue
		}
		n++
	}
	if n == 0 {
		if last == nil {
			last = errors.New("no destination left")
		}
		return 0, last
	}
	return len(p), nil
}

// freeName is the dump name for a backup started at t, free in every
// destination; should that time already be taken (by a plain or an
// encrypted dump, or a manifest) — two backups within one second — the
// timestamp moves on by a second. A
// destination whose listing fails drops out.
func (m *Manager) freeName(ctx context.Context, t time.Time, targets []*target) (string, error) {
	taken := map[string]bool{}
	for _, tg := range targets {
		objs, err := tg.d.Storage.List(ctx)
		if err != nil {
			tg.fail(m.log(), "could not list the destination", err)
			continue
		}
		for _, o := range objs {
			if !o.Temp {
				taken[o.Name] = true
			}
		}
	}
	if len(alive(targets)) == 0 {
		return "", m.failedEverywhere(DumpName(m.Database, t), targets)
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
