package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
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
	// A backup of a half-restored database would pass every check and
	// could let retention drop the good ones. Under the lock no restore
	// can start meanwhile (the native engine also checks in its snapshot).
	if st, err := targetState(ctx, m.DB, m.Database); err != nil {
		return Manifest{}, fmt.Errorf("backup %s: %w", m.Database, err)
	} else if st.Interrupted != "" {
		return Manifest{}, fmt.Errorf("backup %s: the database holds the partial copy of an interrupted restore of %s (table %s): "+
			"restore it again (`cantina-ops backup restore`) before backing it up", m.Database, st.Interrupted, RestoreMarker)
	}

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
	sink := &fanout{stall: m.stallTimeout(), log: log}
	for _, t := range alive(targets) {
		sink.feeds = append(sink.feeds, startFeed(t))
	}
	defer func() {
		// Ending each feed's input, aborting the uploads not committed
		// (which unblocks a feed stuck on a silent server), then waiting
		// for the feeds: no goroutine outlives Run.
		for _, f := range sink.feeds {
			f.end()
		}
		for _, t := range targets {
			if t.up != nil && !t.committed {
				if err := t.up.Abort(); err != nil {
					log.Warn("could not remove the temporary file of a failed backup; cleanup will", "destination", t.d.Name, "err", err)
				}
			}
		}
		for _, f := range sink.feeds {
			<-f.exited
		}
	}()
	if len(alive(targets)) == 0 {
		return Manifest{}, m.failedEverywhere(name, targets)
	}

	// engine → tail/raw count → gzip → age (with Recipients) → stored
	// count + sha256 → a queue per destination → uploads
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
	if dumpErr == nil && closeErr == nil && ctx.Err() == nil {
		sink.drain() // else the uploads are aborted, not finished
	}
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
		Objects:          countObjects(ctx, m.DB, m.Database),
	}
	if man.Engine == "" {
		man.Engine = m.Engine.Name()
	}
	if man.Tables == nil {
		man.Tables = []TableInfo{}
	}
	// Each destination commits, reads back and writes its manifest on its
	// own, at the same time: a slow or silent one cannot keep another's
	// copy from being completed.
	var wg sync.WaitGroup
	for _, t := range alive(targets) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.finish(ctx, log, t, man)
		}()
	}
	wg.Wait()
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
	if err := m.commit(t); err != nil {
		// A completion whose answer was lost may have made the object
		// after all: without its manifest it is no backup; remove it.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.stallTimeout())
		if derr := s.Delete(dctx, man.Name); derr != nil && !errors.Is(derr, ErrNotFound) {
			log.Warn("could not remove a dump whose commit failed; cleanup will", "destination", t.d.Name, "err", derr)
		}
		cancel()
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
	// complete, and without its manifest it would be thrown away. A server
	// that stopped answering gets the stall timeout, not forever.
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.stallTimeout())
	defer cancel()
	if err := writeManifest(mctx, s, man); err != nil {
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

// commit commits t's upload; one that has not returned after the stall
// timeout (a completion stuck on a silent server) is aborted.
func (m *Manager) commit(t *target) error {
	errc := make(chan error, 1)
	go func() { errc <- t.up.Commit() }()
	timer := time.NewTimer(m.stallTimeout())
	defer timer.Stop()
	select {
	case err := <-errc:
		return err
	case <-timer.C:
		_ = t.up.Abort() // cancels the completion
		select {
		case err := <-errc:
			if err == nil {
				return nil // it completed as it was stopped
			}
			return fmt.Errorf("%w (%v)", errStalled(m.stallTimeout()), err)
		case <-time.After(m.stallTimeout()):
			// Still stuck (an abort request to a silent server): the
			// commit goroutine ends when the HTTP client gives up.
			return errStalled(m.stallTimeout())
		}
	}
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

// DefaultStallTimeout is how long a destination may take no data before
// it is dropped from a running backup (Manager.StallTimeout): longer than
// one 8 MiB part takes on a slow uplink (about a minute at 1 Mbit/s).
const DefaultStallTimeout = 5 * time.Minute

func (m *Manager) stallTimeout() time.Duration {
	if m.StallTimeout > 0 {
		return m.StallTimeout
	}
	return DefaultStallTimeout
}

// feedChunks is how many writes of the compressed stream (pgzip writes a
// block of at most about 1 MiB at a time) wait in a destination's queue.
const feedChunks = 4

// feed carries the dump to one destination from a goroutine of its own:
// a destination busy with a part upload holds the dump (and the other
// destinations) up only once its queue is full.
type feed struct {
	t        *target
	ch       chan []byte
	ended    bool          // ch closed
	exited   chan struct{} // closed when the goroutine has returned
	err      error         // the upload's write error, set before exited closes
	progress atomic.Int64  // chunks written
}

func startFeed(t *target) *feed {
	f := &feed{t: t, ch: make(chan []byte, feedChunks), exited: make(chan struct{})}
	go func() {
		defer close(f.exited)
		for b := range f.ch {
			if _, err := t.up.Write(b); err != nil {
				f.err = err
				return
			}
			f.progress.Add(1)
		}
	}()
	return f
}

// end closes the feed's input (once).
func (f *feed) end() {
	if !f.ended {
		f.ended = true
		close(f.ch)
	}
}

func errStalled(d time.Duration) error {
	return fmt.Errorf("the destination took no data for %s: it stopped answering or is far too slow", d)
}

// fanout writes the compressed dump to every destination that has not
// failed, each through its feed. A destination whose upload fails (a full
// disk, a refused connection) or stalls for the stall timeout drops out,
// its error kept; the write fails only when none is left, which stops the
// engine.
type fanout struct {
	feeds []*feed
	stall time.Duration
	log   *slog.Logger
}

func (fo *fanout) Write(p []byte) (int, error) {
	b := bytes.Clone(p) // the writer reuses p; the feeds share this copy
	n := 0
	var last error
	for _, f := range fo.feeds {
		if f.t.err != nil {
			continue
		}
		if fo.send(f, b) {
			n++
		} else {
			last = f.t.err
		}
	}
	if n == 0 {
		if last == nil {
			last = errors.New("no destination left")
		}
		return 0, last
	}
	return len(p), nil
}

// send queues b for f, waiting while its queue is full; false when the
// upload failed or stalled meanwhile (f.t.err says which).
func (fo *fanout) send(f *feed, b []byte) bool {
	select {
	case f.ch <- b:
		return true
	default:
	}
	timer := time.NewTimer(fo.stall)
	defer timer.Stop()
	select {
	case f.ch <- b:
		return true
	case <-f.exited:
		f.t.fail(fo.log, "the upload failed", f.err)
	case <-timer.C:
		f.t.fail(fo.log, "the upload stalled", errStalled(fo.stall))
	}
	return false
}

// drain ends every live feed's input and waits until each has written
// its queue, dropping one that fails or makes no progress for the stall
// timeout.
func (fo *fanout) drain() {
	for _, f := range fo.feeds {
		if f.t.err != nil {
			continue
		}
		f.end()
		last := f.progress.Load()
		ticker := time.NewTicker(fo.stall)
		for waiting := true; waiting; {
			select {
			case <-f.exited:
				if f.err != nil {
					f.t.fail(fo.log, "the upload failed", f.err)
				}
				waiting = false
			case <-ticker.C:
				if p := f.progress.Load(); p == last {
					f.t.fail(fo.log, "the upload stalled", errStalled(fo.stall))
					waiting = false
				} else {
					last = p
				}
			}
		}
		ticker.Stop()
	}
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
