package backup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Status says whether a dump file is a backup one can rely on.
type Status string

const (
	// StatusGood: the manifest exists, is valid, matches the file's size,
	// and the file's checksum was verified against it since the file was
	// last modified (Manifest.Verified).
	StatusGood Status = "good"
	// StatusUnverified: the manifest is valid and the size matches, but
	// the file's checksum was never verified, or the file was modified
	// after it was. It does not count as good until a verify or a cleanup
	// reads it again.
	StatusUnverified Status = "unverified"
	// StatusPartial: a dump without manifest. Run commits the manifest
	// right after the dump, so this is an interrupted backup (or a file
	// someone put there); it never counts as a backup.
	StatusPartial Status = "partial"
	// StatusCorruptManifest: the manifest cannot be read or is invalid.
	StatusCorruptManifest Status = "corrupt-manifest"
	// StatusCorrupt: the file's size differs from its manifest's, or its
	// sha256 did not match when last read (Manifest.Mismatch).
	StatusCorrupt Status = "corrupt"
)

// Backup is one dump file in the storage, with what its manifest says.
type Backup struct {
	Name string `json:"name"`
	// Prefix and Time come from the file name (Time is the start, UTC).
	Prefix string    `json:"prefix"`
	Time   time.Time `json:"time"`
	Status Status    `json:"status"`
	// Problem says why the status is not good.
	Problem string    `json:"problem,omitempty"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
	// ETag is the stored object's entity tag (S3), "" where there is none.
	ETag string `json:"etag,omitempty"`
	// Manifest is set when Status is good, unverified or corrupt.
	Manifest *Manifest `json:"manifest,omitempty"`
	// ManifestSize is the manifest file's size, 0 without one.
	ManifestSize int64 `json:"manifest_size,omitempty"`
	HasManifest  bool  `json:"has_manifest"`
	// Destination is the destination the file is in (ListAll).
	Destination string `json:"destination,omitempty"`
}

// Good reports whether b is a complete, valid backup.
func (b Backup) Good() bool { return b.Status == StatusGood }

// Age is how long ago the backup started, per its name.
func (b Backup) Age(now time.Time) time.Duration { return now.Sub(b.Time) }

// Database is the backed-up database: the manifest's, else the file
// name's prefix.
func (b Backup) Database() string {
	if b.Manifest != nil {
		return b.Manifest.Database
	}
	return b.Prefix
}

// Listing is the content of a backup storage.
type Listing struct {
	// Backups are all dump files, newest first.
	Backups []Backup `json:"backups"`
	// OrphanManifests are manifests whose dump is gone.
	OrphanManifests []Object `json:"orphan_manifests,omitempty"`
	// Temps are temporary files: running or interrupted uploads.
	Temps []Object `json:"temps,omitempty"`
}

// Latest is the newest good backup of database.
func (l Listing) Latest(database string) (Backup, bool) {
	return l.newest(database, Backup.Good)
}

// LatestToVerify is the newest backup of database that a verify can
// check against its manifest: a good one, or an unverified one (never
// checked since an upgrade, or modified since its check) — the one that
// most needs it.
func (l Listing) LatestToVerify(database string) (Backup, bool) {
	return l.newest(database, func(b Backup) bool { return b.Status == StatusGood || b.Status == StatusUnverified })
}

// newest is the newest backup of database for which ok holds; ok only
// sees backups with a manifest.
func (l Listing) newest(database string, ok func(Backup) bool) (Backup, bool) {
	for _, b := range l.Backups {
		if b.Manifest != nil && ok(b) && b.Manifest.Database == database {
			return b, true
		}
	}
	return Backup{}, false
}

// LastDrill is the backup whose restore drill (Manifest.Drill) ran last,
// of database, or of any database when database is "".
func (l Listing) LastDrill(database string) (Backup, bool) {
	var last Backup
	found := false
	for _, b := range l.Backups {
		if b.Manifest == nil || b.Manifest.Drill == nil || database != "" && b.Manifest.Database != database {
			continue
		}
		if !found || b.Manifest.Drill.At.After(last.Manifest.Drill.At) {
			last, found = b, true
		}
	}
	return last, found
}

// Find returns the dump named name.
func (l Listing) Find(name string) (Backup, bool) {
	for _, b := range l.Backups {
		if b.Name == name {
			return b, true
		}
	}
	return Backup{}, false
}

// Latest returns the newest good backup of the manager's database, or an
// error wrapping ErrNotFound when there is none.
func (m *Manager) Latest(ctx context.Context) (Backup, error) {
	return m.newest(ctx, Listing.Latest, "no good backup of %s")
}

// LatestToVerify returns Listing.LatestToVerify of the manager's database,
// or an error wrapping ErrNotFound when there is none.
func (m *Manager) LatestToVerify(ctx context.Context) (Backup, error) {
	return m.newest(ctx, Listing.LatestToVerify, "no backup of %s with a usable manifest")
}

// newest lists the storage and picks from it for the manager's database;
// when there is none, the error is none (a format taking the database's
// name) wrapping ErrNotFound.
func (m *Manager) newest(ctx context.Context, pick func(Listing, string) (Backup, bool), none string) (Backup, error) {
	l, err := m.List(ctx)
	if err != nil {
		return Backup{}, fmt.Errorf("list backups: %w", err)
	}
	b, ok := pick(l, m.Database)
	if !ok {
		return Backup{}, fmt.Errorf(none+": %w", m.Database, ErrNotFound)
	}
	return b, nil
}

// List reads the storage: every dump with its status, newest first, plus
// orphan manifests and temporary files. Backups of other databases in the
// same storage are listed too (see Backup.Database).
func (m *Manager) List(ctx context.Context) (Listing, error) {
	if m.Storage == nil {
		return Listing{}, errors.New("backup manager: no Storage")
	}
	return listStorage(ctx, m.Storage)
}

// ListError is a destination that could not be listed (ListAll).
type ListError struct {
	Destination Destination
	Err         error
}

func (e *ListError) Error() string { return fmt.Sprintf("list %s: %v", e.Destination, e.Err) }
func (e *ListError) Unwrap() error { return e.Err }

// ListAll lists every destination (see Dests) into one listing, newest
// first, each backup and temporary file carrying its destination. A
// destination that cannot be listed does not hide the others: what could
// be listed is returned with an error naming each one that failed.
func (m *Manager) ListAll(ctx context.Context) (Listing, error) {
	var all Listing
	var errs []error
	for _, dm := range m.Each() {
		d := dm.Dests()[0]
		l, err := dm.List(ctx)
		if err != nil {
			errs = append(errs, &ListError{Destination: d, Err: err})
			continue
		}
		for i := range l.Backups {
			l.Backups[i].Destination = d.Name
		}
		for i := range l.Temps {
			l.Temps[i].Destination = d.Name
		}
		for i := range l.OrphanManifests {
			l.OrphanManifests[i].Destination = d.Name
		}
		all.Backups = append(all.Backups, l.Backups...)
		all.Temps = append(all.Temps, l.Temps...)
		all.OrphanManifests = append(all.OrphanManifests, l.OrphanManifests...)
	}
	sortBackups(all.Backups)
	if all.Backups == nil {
		all.Backups = []Backup{}
	}
	return all, errors.Join(errs...)
}

func listStorage(ctx context.Context, s Storage) (Listing, error) {
	objs, err := s.List(ctx)
	if err != nil {
		return Listing{}, err
	}
	l := buildListing(objs)
	for i := range l.Backups {
		b := &l.Backups[i]
		if !b.HasManifest {
			continue
		}
		man, err := readManifest(ctx, s, b.Name)
		switch {
		case errors.Is(err, ErrNotFound):
			// Deleted since List: the backup is being removed.
			b.Status, b.Problem, b.ManifestSize, b.HasManifest = StatusPartial, "no manifest", 0, false
		case err != nil:
			if ctx.Err() != nil {
				return Listing{}, ctx.Err()
			}
			b.Status, b.Problem = StatusCorruptManifest, err.Error()
		default:
			b.Manifest = &man
			b.Status, b.Problem = StatusGood, ""
			switch obj := (Object{Name: b.Name, Size: b.Size, ModTime: b.ModTime, ETag: b.ETag}); {
			case man.CompressedBytes != b.Size:
				b.Status = StatusCorrupt
				b.Problem = fmt.Sprintf("the file has %d bytes, its manifest says %d: it was changed or truncated", b.Size, man.CompressedBytes)
			case man.Mismatch.matches(obj):
				b.Status = StatusCorrupt
				b.Problem = fmt.Sprintf("its sha256 did not match the manifest when read by %s at %s: it was changed or damaged", man.Mismatch.By, man.Mismatch.At.Format(time.RFC3339))
			case man.Verified == nil:
				b.Status = StatusUnverified
				b.Problem = "its checksum was never verified (run `cantina-ops backup verify " + b.Name + "`)"
			case !man.Verified.matches(obj):
				b.Status = StatusUnverified
				b.Problem = fmt.Sprintf("the file was modified at %s, after its checksum was verified at %s", b.ModTime.Format(time.RFC3339), man.Verified.At.Format(time.RFC3339))
			}
		}
	}
	return l, nil
}

// buildListing sorts objects into dumps (status partial until a manifest
// is read), orphan manifests and temporary files.
func buildListing(objs []Object) Listing {
	var l Listing
	dumps := map[string]int{}
	manifests := map[string]Object{}
	for _, o := range objs {
		if o.Temp {
			l.Temps = append(l.Temps, o)
			continue
		}
		switch k, dump := classifyName(o.Name); k {
		case kindDump:
			ni, _ := ParseName(o.Name)
			dumps[o.Name] = len(l.Backups)
			l.Backups = append(l.Backups, Backup{Name: o.Name, Prefix: ni.Prefix, Time: ni.Time,
				Status: StatusPartial, Problem: "no manifest", Size: o.Size, ModTime: o.ModTime, ETag: o.ETag})
		case kindManifest:
			manifests[dump] = o
		case kindTemp:
			l.Temps = append(l.Temps, o)
		}
	}
	for dump, o := range manifests {
		i, ok := dumps[dump]
		if !ok {
			l.OrphanManifests = append(l.OrphanManifests, o)
			continue
		}
		l.Backups[i].HasManifest = true
		l.Backups[i].ManifestSize = o.Size
	}
	sortBackups(l.Backups)
	byName := func(a, b Object) int { return strings.Compare(b.Name, a.Name) }
	slices.SortFunc(l.OrphanManifests, byName)
	slices.SortFunc(l.Temps, byName)
	return l
}

// sortBackups orders bs newest first (by the time in the name, then name).
func sortBackups(bs []Backup) {
	slices.SortStableFunc(bs, func(a, b Backup) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return strings.Compare(b.Name, a.Name)
	})
}
