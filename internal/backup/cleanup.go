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
}

// Cleanup applies the retention policy m.Retention: it lists the storage,
// decides with Plan at m.Now, and deletes (manifest first, then dump). With
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
	rep.Decisions = Plan(l, m.now(), m.Retention)
	var errs []error
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
	if len(errs) > 0 {
		return rep, fmt.Errorf("cleanup: %w", errors.Join(errs...))
	}
	return rep, nil
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
