package backup

import (
	"fmt"
	"time"
)

// DefaultGrace is how old a temporary file or a dump without manifest must
// be before Cleanup removes it, when Policy.Grace is not set.
const DefaultGrace = time.Hour

// Policy is what retention keeps.
type Policy struct {
	// RetentionDays: good backups older than this many days are deleted
	// (BACKUP_RETENTION_DAYS). 0 or less deletes nothing by age.
	RetentionDays int
	// KeepMin: the newest KeepMin good backups of each database are kept
	// whatever their age (BACKUP_KEEP_MIN). Values below 1 count as 1: the
	// last good backup is never deleted.
	KeepMin int
	// Grace protects files a running backup may still be writing or
	// committing: temporary files and dumps without manifest are deleted
	// only once they were last modified longer ago than this. Set it to
	// at least BACKUP_TIMEOUT. 0 means DefaultGrace.
	Grace time.Duration
}

// Kinds of Decision.
const (
	KindBackup         = "backup"
	KindOrphanManifest = "orphan-manifest"
	KindTemp           = "temp"
)

// Decision is what retention does with one backup or leftover file.
type Decision struct {
	// Name is the dump, manifest or temporary file the decision is about.
	Name string `json:"name"`
	// Destination is where the file is (CleanupAll; "" from Cleanup).
	Destination string `json:"destination,omitempty"`
	Kind        string `json:"kind"`
	Status      Status `json:"status,omitempty"`
	Delete      bool   `json:"delete"`
	Reason      string `json:"reason"`
	// Files are the files deleted, in order (a manifest before its dump,
	// so that an interrupted cleanup leaves a partial dump, never a
	// manifest claiming a missing file is good).
	Files []string `json:"files,omitempty"`
	// Bytes is what deleting frees.
	Bytes int64 `json:"bytes"`
}

// Plan decides, for every entry of l, whether retention keeps or deletes
// it at time now, and why. It is pure: Cleanup lists, plans, then deletes.
//
//   - Good backups older than RetentionDays go, except the KeepMin newest
//     good backups of each database, which always stay.
//   - Backups that are not good (corrupt manifest, size or checksum
//     mismatch, checksum not verified since the file last changed) never
//     count towards KeepMin; they stay for inspection until older than
//     RetentionDays.
//   - Partial dumps (no manifest) and temporary files go once untouched for
//     longer than Grace; younger ones may belong to a running backup.
//   - Manifests without their dump go.
func Plan(l Listing, now time.Time, p Policy) []Decision {
	keepMin := max(p.KeepMin, 1)
	grace := p.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	maxAge := time.Duration(p.RetentionDays) * 24 * time.Hour
	tooOld := func(age time.Duration) bool { return p.RetentionDays > 0 && age > maxAge }

	out := make([]Decision, 0, len(l.Backups)+len(l.OrphanManifests)+len(l.Temps))
	goodSeen := map[string]int{} // database → good backups seen so far, newest first
	for _, b := range sortedNewestFirst(l.Backups) {
		d := Decision{Name: b.Name, Kind: KindBackup, Status: b.Status, Bytes: b.Size + b.ManifestSize}
		if b.HasManifest {
			d.Files = append(d.Files, ManifestName(b.Name))
		}
		d.Files = append(d.Files, b.Name)
		age := b.Age(now)
		switch b.Status {
		case StatusGood:
			db := b.Database()
			goodSeen[db]++
			rank := goodSeen[db]
			switch {
			case rank <= keepMin && tooOld(age):
				d.Reason = fmt.Sprintf("kept: older than %d days (age %s) but one of the %d newest good backups (BACKUP_KEEP_MIN)", p.RetentionDays, fmtAge(age), keepMin)
			case rank <= keepMin:
				d.Reason = fmt.Sprintf("kept: good backup %d of the %d newest (age %s)", rank, keepMin, fmtAge(age))
			case tooOld(age):
				d.Delete = true
				d.Reason = fmt.Sprintf("older than %d days (age %s); %d newer good backups remain", p.RetentionDays, fmtAge(age), rank-1)
			default:
				d.Reason = fmt.Sprintf("kept: within %d days (age %s)", p.RetentionDays, fmtAge(age))
			}
		case StatusPartial:
			idle := now.Sub(b.ModTime)
			if idle > grace {
				d.Delete = true
				d.Reason = fmt.Sprintf("partial dump without manifest (an interrupted backup), last written %s ago", fmtAge(idle))
			} else {
				d.Reason = fmt.Sprintf("kept for now: no manifest yet, a backup may be committing it; removed after %s", fmtAge(grace))
			}
		default: // corrupt, corrupt-manifest, unverified
			if tooOld(age) {
				d.Delete = true
				d.Reason = fmt.Sprintf("not a good backup (%s) and older than %d days (age %s)", b.Status, p.RetentionDays, fmtAge(age))
			} else {
				d.Reason = fmt.Sprintf("kept for inspection: not a good backup (%s); removed once older than %d days", b.Status, p.RetentionDays)
			}
		}
		out = append(out, d)
	}
	for _, o := range l.OrphanManifests {
		out = append(out, Decision{Name: o.Name, Kind: KindOrphanManifest, Delete: true,
			Reason: "manifest whose dump is gone", Files: []string{o.Name}, Bytes: o.Size})
	}
	for _, o := range l.Temps {
		d := Decision{Name: o.Name, Kind: KindTemp, Files: []string{o.Name}, Bytes: o.Size}
		idle := now.Sub(o.ModTime)
		if idle > grace {
			d.Delete = true
			d.Reason = fmt.Sprintf("stale temporary file of an interrupted backup, last written %s ago", fmtAge(idle))
		} else {
			d.Reason = fmt.Sprintf("kept: temporary file written %s ago, may belong to a running backup", fmtAge(idle))
		}
		out = append(out, d)
	}
	return out
}

// sortedNewestFirst returns a copy of bs, newest first (Listing already is,
// but Plan does not rely on it).
func sortedNewestFirst(bs []Backup) []Backup {
	out := append([]Backup(nil), bs...)
	sortBackups(out)
	return out
}

// fmtAge prints a duration the way an operator reads ages: "41d3h",
// "2h05m", "40s".
func fmtAge(d time.Duration) string {
	if d < 0 {
		return "-" + fmtAge(-d)
	}
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd%dh", d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, (d%time.Hour)/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", d/time.Minute, (d%time.Minute)/time.Second)
	default:
		return fmt.Sprintf("%ds", d/time.Second)
	}
}
