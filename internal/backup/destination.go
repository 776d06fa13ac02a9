package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Destination is one place where every backup is kept: an entry of
// BACKUP_STORAGE. Each destination has its own listing and its own
// retention; a backup is made once and written to all of them at the same
// time (see Run).
type Destination struct {
	// Name is what `--storage NAME` takes: "file", "s3", "s3-2".
	Name string
	// Where is the destination for people ("file:///var/backups",
	// "s3://bucket/prefix"); it never holds a secret.
	Where   string
	Storage Storage
}

func (d Destination) String() string {
	if d.Where == "" || d.Where == d.Name {
		return d.Name
	}
	return d.Name + " (" + d.Where + ")"
}

// DefaultDestination is the name of the single destination of a Manager
// that has only Storage.
const DefaultDestination = "file"

// ErrUnknownDestination means a --storage name is not one of BACKUP_STORAGE's.
var ErrUnknownDestination = errors.New("unknown backup destination")

// Dests returns the Manager's destinations: Destinations, or Storage alone
// (named DefaultDestination).
func (m *Manager) Dests() []Destination {
	if len(m.Destinations) > 0 {
		return m.Destinations
	}
	if m.Storage == nil {
		return nil
	}
	return []Destination{{Name: DefaultDestination, Storage: m.Storage}}
}

// On returns a copy of m that works on destination name alone: its List,
// Verify, Restore and Cleanup see only that destination, and its Run
// writes only there.
func (m *Manager) On(name string) (*Manager, error) {
	for _, d := range m.Dests() {
		if d.Name == name {
			c := *m
			c.Storage, c.Destinations = d.Storage, []Destination{d}
			return &c, nil
		}
	}
	names := make([]string, 0, len(m.Dests()))
	for _, d := range m.Dests() {
		names = append(names, d.Name)
	}
	return nil, fmt.Errorf("%w %q: BACKUP_STORAGE has %s", ErrUnknownDestination, name, strings.Join(names, ", "))
}

// Each returns one Manager per destination (see On), in BACKUP_STORAGE order.
func (m *Manager) Each() []*Manager {
	var out []*Manager
	for _, d := range m.Dests() {
		c, _ := m.On(d.Name)
		out = append(out, c)
	}
	return out
}

// DestinationFailure is why one destination did not store a backup.
type DestinationFailure struct {
	Destination Destination
	Err         error
}

// PartialError reports a backup that some destinations stored and others
// did not: the copies that were made are complete, verified backups.
type PartialError struct {
	Name   string
	Stored []string // names of the destinations that hold it
	Failed []DestinationFailure
}

func (e *PartialError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "backup %s was stored in %s but not in ", e.Name, strings.Join(e.Stored, ", "))
	for i, f := range e.Failed {
		if i > 0 {
			b.WriteString("; nor in ")
		}
		fmt.Fprintf(&b, "%s: %v", f.Destination, f.Err)
	}
	return b.String()
}

// Unwrap lets errors.Is see every destination's error (a full disk, a
// refused connection).
func (e *PartialError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f.Err
	}
	return errs
}

// FailedDestinations names the destinations a PartialError says failed.
func (e *PartialError) FailedDestinations() []string {
	out := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f.Destination.Name
	}
	return out
}

// Copy stores the good backup name of from in to as well: it streams the
// dump across, checking that the bytes match the manifest's sha256 and
// size before committing, reads the copy back, and writes the manifest
// last, as Run does. An interrupted dump of the same name left in to (a
// file without manifest) is replaced. It is how a retried backup task
// completes the destinations that failed, without a new dump.
func (m *Manager) Copy(ctx context.Context, name string, from, to Destination) (Manifest, error) {
	man, err := readManifest(ctx, from.Storage, name)
	if err != nil {
		return Manifest{}, fmt.Errorf("copy %s from %s: %w", name, from.Name, err)
	}
	up, err := to.Storage.Create(ctx, name)
	if errors.Is(err, ErrExists) {
		// A dump without manifest is an interrupted copy or backup, never a
		// backup (see StatusPartial); a complete one is not copied again.
		switch _, merr := to.Storage.Stat(ctx, ManifestName(name)); {
		case merr == nil:
			return Manifest{}, fmt.Errorf("copy %s to %s: it is already there", name, to)
		case !errors.Is(merr, ErrNotFound):
			return Manifest{}, fmt.Errorf("copy %s to %s: %w", name, to, merr)
		}
		if derr := to.Storage.Delete(ctx, name); derr != nil && !errors.Is(derr, ErrNotFound) {
			return Manifest{}, fmt.Errorf("copy %s to %s: remove the interrupted copy: %w", name, to, derr)
		}
		up, err = to.Storage.Create(ctx, name)
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("copy %s to %s: %w", name, to, diskHint(err))
	}
	committed := false
	defer func() {
		if !committed {
			_ = up.Abort()
		}
	}()
	r, err := from.Storage.Open(ctx, name)
	if err != nil {
		return Manifest{}, fmt.Errorf("copy %s from %s: %w", name, from, err)
	}
	defer r.Close()
	h := sha256.New()
	sink := &errWriter{w: up}
	n, err := io.Copy(io.MultiWriter(sink, h), ctxReader{ctx: ctx, r: r})
	if err != nil {
		if serr := sink.Err(); serr != nil {
			return Manifest{}, fmt.Errorf("copy %s to %s: %w", name, to, diskHint(serr))
		}
		return Manifest{}, fmt.Errorf("copy %s from %s: %w", name, from, err)
	}
	sha := hex.EncodeToString(h.Sum(nil))
	if sha != man.SHA256 || n != man.CompressedBytes {
		return Manifest{}, fmt.Errorf("copy %s from %s: %w: read %d bytes with sha256 %s, the manifest says %d bytes, %s", name, from, ErrVerifyFailed, n, sha, man.CompressedBytes, man.SHA256)
	}
	if err := up.Commit(); err != nil {
		return Manifest{}, fmt.Errorf("copy %s to %s: %w", name, to, diskHint(err))
	}
	committed = true
	v, err := m.readBack(ctx, to.Storage, name, sha, n)
	if err == nil {
		man.Verified, man.Mismatch = v, nil
		err = writeManifest(context.WithoutCancel(ctx), to.Storage, man)
	}
	if err != nil {
		if derr := to.Storage.Delete(context.WithoutCancel(ctx), name); derr != nil {
			m.log().Warn("could not remove a copy that failed; cleanup will", "backup", name, "destination", to.Name, "err", derr)
		}
		return Manifest{}, fmt.Errorf("copy %s to %s: %w", name, to, diskHint(err))
	}
	m.log().Info("backup copied", "backup", name, "from", from.Name, "to", to.Name, "bytes", n)
	return man, nil
}

// Locate returns a Manager on the destination to read dump name from (see
// On): the first whose copy is good; else the first whose copy is at
// least unverified (its manifest valid); else the first that has the file
// at all (so that verify and restore can say what is wrong with it). A
// destination that cannot be listed is skipped; if none has the backup,
// the error wraps ErrNotFound — unless a destination could not be asked,
// then the error says what it answered.
func (m *Manager) Locate(ctx context.Context, name string) (*Manager, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	rank := func(b Backup) int {
		switch b.Status {
		case StatusGood:
			return 3
		case StatusUnverified:
			return 2
		default:
			return 1
		}
	}
	var best *Manager
	bestRank := 0
	var errs []error
	for _, dm := range m.Each() {
		l, err := dm.List(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", dm.Dests()[0], err))
			continue
		}
		for _, b := range l.Backups {
			if b.Name == name && rank(b) > bestRank {
				best, bestRank = dm, rank(b)
			}
		}
	}
	if best != nil {
		return best, nil
	}
	where := make([]string, 0, len(m.Dests()))
	for _, d := range m.Dests() {
		where = append(where, d.String())
	}
	if len(errs) > 0 {
		// Not ErrNotFound: it may be in the destination that did not answer.
		return nil, fmt.Errorf("backup %s is not in %s, and %w", name, strings.Join(where, ", "), errors.Join(errs...))
	}
	return nil, fmt.Errorf("backup %s: %w in %s", name, ErrNotFound, strings.Join(where, ", "))
}

// BrokenStorage is a destination that could not be set up: every
// operation fails with Err, so the other destinations go on.
type BrokenStorage struct{ Err error }

func (b BrokenStorage) List(context.Context) ([]Object, error)         { return nil, b.Err }
func (b BrokenStorage) Create(context.Context, string) (Upload, error) { return nil, b.Err }
func (b BrokenStorage) Open(context.Context, string) (io.ReadCloser, error) {
	return nil, b.Err
}
func (b BrokenStorage) Delete(context.Context, string) error          { return b.Err }
func (b BrokenStorage) Stat(context.Context, string) (Object, error)  { return Object{}, b.Err }
func (b BrokenStorage) Replace(context.Context, string, []byte) error { return b.Err }

// LatestToVerifyAll is LatestToVerify over every destination: the newest
// backup to verify in any of them (on a tie, the first destination's), and
// a Manager on its destination. A destination that cannot be listed is
// skipped unless none can be.
func (m *Manager) LatestToVerifyAll(ctx context.Context) (*Manager, Backup, error) {
	var (
		best  *Manager
		found Backup
		errs  []error
	)
	for _, dm := range m.Each() {
		b, err := dm.LatestToVerify(ctx)
		if err != nil {
			if !errors.Is(err, ErrNotFound) {
				errs = append(errs, fmt.Errorf("%s: %w", dm.Dests()[0], err))
			}
			continue
		}
		if best == nil || b.Time.After(found.Time) {
			best, found = dm, b
		}
	}
	if best != nil {
		for _, err := range errs {
			m.log().Warn("a backup destination could not be listed; verifying the newest backup of the others", "err", err)
		}
		return best, found, nil
	}
	if len(errs) > 0 {
		return nil, Backup{}, errors.Join(errs...)
	}
	return nil, Backup{}, fmt.Errorf("no backup of %s with a usable manifest in any destination: %w", m.Database, ErrNotFound)
}
