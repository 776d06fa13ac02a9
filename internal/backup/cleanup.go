package backup

import (
	"context"
	"errors"
	"fmt"
)

// CleanupReport is what Cleanup decided and did.
type CleanupReport struct {
	DryRun bool `json:"dry_run"`
	// Decisions covers every backup and leftover file, kept or deleted,
	// with the reason (see Plan).
	Decisions []Decision `json:"decisions"`
	// Deleted are the decisions to delete that were carried out (in a dry
	// run: that would be), and Freed the bytes they free.
	Deleted []Decision `json:"deleted"`
	Freed   int64      `json:"freed_bytes"`
	// Failed are deletions that did not happen; see the returned error.
	Failed []Decision `json:"failed,omitempty"`
	// DroppedScratch are leftover restore-drill databases dropped (see
	// DropLeftoverScratch); a dry run drops none.
	DroppedScratch []string `json:"dropped_scratch,omitempty"`
}

// Cleanup applies the retention policy m.Retention: it lists the storage,
// decides with Plan at m.Now — counting only backups whose checksum was
// verified, and reading again the ones it keeps before it deletes any good
// one (see planVerified) — and deletes (manifest first, then dump). With
// dryRun it deletes nothing and reports the same decisions. A file that
// cannot be deleted does not stop the others; the error joins all
// failures. A file already gone counts as deleted (a concurrent cleanup).
func (m *Manager) Cleanup(ctx context.Context, dryRun bool) (CleanupReport, error) {
	rep := CleanupReport{DryRun: dryRun, Decisions: []Decision{}, Deleted: []Decision{}}
	if m.Storage == nil {
		return rep, errors.New("backup manager: no Storage")
	}
	l, err := listStorage(ctx, m.Storage)
	if err != nil {
		return rep, fmt.Errorf("cleanup: %w", err)
	}
	var errs []error
	rep.Decisions, errs = m.planVerified(ctx, &l, !dryRun)
	if ctx.Err() != nil {
		return rep, fmt.Errorf("cleanup: %w", ctx.Err())
	}
	for _, d := range rep.Decisions {
		if !d.Delete {
			continue
		}
		if dryRun {
			rep.Deleted = append(rep.Deleted, d)
			rep.Freed += d.Bytes
			continue
		}
		if err := m.deleteFiles(ctx, d.Files); err != nil {
			rep.Failed = append(rep.Failed, d)
			errs = append(errs, fmt.Errorf("delete %s: %w", d.Name, err))
			continue
		}
		m.log().Info("backup file deleted", "name", d.Name, "kind", d.Kind, "reason", d.Reason, "bytes", d.Bytes)
		rep.Deleted = append(rep.Deleted, d)
		rep.Freed += d.Bytes
	}
	if m.DB != nil && !dryRun {
		// A drill's scratch database outlives a killed worker; this one
		// is past any drill's time limit.
		dropped, err := m.DropLeftoverScratch(ctx, m.scratchGrace())
		rep.DroppedScratch = dropped
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return rep, fmt.Errorf("cleanup: %w", errors.Join(errs...))
	}
	return rep, nil
}

// CleanupAll runs Cleanup on every destination, each deciding from its own
// listing, so that each keeps its own last verified backups. A
// destination that fails (unreachable, say) does not stop the others; the
// error names it. Decisions carry their destination; leftover scratch
// databases are dropped once.
func (m *Manager) CleanupAll(ctx context.Context, dryRun bool) (CleanupReport, error) {
	all := CleanupReport{DryRun: dryRun, Decisions: []Decision{}, Deleted: []Decision{}}
	var errs []error
	for i, dm := range m.Each() {
		d := dm.Dests()[0]
		if i > 0 {
			dm.DB = nil // scratch databases are the server's, not a destination's
		}
		rep, err := dm.Cleanup(ctx, dryRun)
		for _, list := range []*[]Decision{&rep.Decisions, &rep.Deleted, &rep.Failed} {
			for j := range *list {
				(*list)[j].Destination = d.Name
			}
		}
		all.Decisions = append(all.Decisions, rep.Decisions...)
		all.Deleted = append(all.Deleted, rep.Deleted...)
		all.Failed = append(all.Failed, rep.Failed...)
		all.Freed += rep.Freed
		all.DroppedScratch = append(all.DroppedScratch, rep.DroppedScratch...)
		if err != nil {
			if len(m.Dests()) == 1 {
				return all, err
			}
			errs = append(errs, fmt.Errorf("%s: %w", d, err))
		}
	}
	return all, errors.Join(errs...)
}

// deleteFiles deletes files in order, stopping at the first failure (so a
// dump is never deleted while its manifest stays).
func (m *Manager) deleteFiles(ctx context.Context, files []string) error {
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := m.Storage.Delete(ctx, f); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// planVerified plans retention over l counting only verified backups:
//
//  1. Backups whose checksum is unverified (never checked, or the file was
//     modified after its check) are read again: a match makes them good
//     (and, with record, is recorded in the manifest), a mismatch corrupt.
//  2. While the plan deletes a good backup of a database, the good backups
//     that plan keeps for that database (its KeepMin newest) are read
//     again, once each; if one turns out corrupt, the plan is made again,
//     so an older good backup takes its place instead of being deleted.
//
// Reading costs one pass over each file read; nightly, that is the
// KeepMin newest backups, and only when something is to be deleted. A
// backup that cannot be read (or whose check cannot be recorded) does not
// stop the others: it counts as not good, and its error is returned.
// unchangedObject reports whether b lives in an object store (it has an
// ETag) and is the very object that was verified. Such a store guards its
// data itself and cannot change an object without changing its ETag, so
// the keeper is not downloaded again (on S3 that would be KeepMin
// backups' worth of egress every night that deletes one).
func unchangedObject(b Backup) bool {
	return b.ETag != "" && b.Manifest != nil && b.Manifest.Verified != nil && b.Manifest.Verified.ETag == b.ETag
}

func (m *Manager) planVerified(ctx context.Context, l *Listing, record bool) ([]Decision, []error) {
	checked := map[string]bool{}
	var errs []error
	check := func(b *Backup) {
		checked[b.Name] = true
		if err := m.recheck(ctx, b, record); err != nil {
			b.Status, b.Problem = StatusUnverified, "its checksum could not be checked: "+err.Error()
			errs = append(errs, fmt.Errorf("check %s: %w", b.Name, err))
		}
	}
	for i := range l.Backups {
		if b := &l.Backups[i]; b.Status == StatusUnverified {
			check(b)
		}
	}
	keepMin := max(m.Retention.KeepMin, 1)
	for {
		decisions := Plan(*l, m.now(), m.Retention)
		deleting := map[string]bool{} // databases losing a good backup
		for _, d := range decisions {
			if d.Delete && d.Kind == KindBackup && d.Status == StatusGood {
				if b, ok := l.Find(d.Name); ok {
					deleting[b.Database()] = true
				}
			}
		}
		damaged := false
		seen := map[string]int{}
		for i := range l.Backups {
			b := &l.Backups[i]
			if !b.Good() || !deleting[b.Database()] {
				continue
			}
			seen[b.Database()]++
			if seen[b.Database()] > keepMin || checked[b.Name] || unchangedObject(*b) {
				continue
			}
			check(b)
			damaged = damaged || !b.Good()
		}
		if !damaged {
			return decisions, errs
		}
	}
}
