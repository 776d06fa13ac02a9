package backup

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// bk is a backup of db started age ago, with status st.
func bk(db string, age time.Duration, st Status) Backup {
	t := now.Add(-age).Truncate(time.Second)
	b := Backup{Name: DumpName(db, t), Prefix: FilePrefix(db), Time: t, Status: st,
		Size: 1000, ModTime: t.Add(time.Minute)}
	switch st {
	case StatusGood, StatusCorrupt:
		b.HasManifest, b.ManifestSize = true, 10
		b.Manifest = &Manifest{Database: db, Name: b.Name}
	case StatusCorruptManifest:
		b.HasManifest, b.ManifestSize = true, 10
	}
	return b
}

// touched sets a backup's (or file's) last modification to idle ago.
func touched(b Backup, idle time.Duration) Backup {
	b.ModTime = now.Add(-idle)
	return b
}

func tmp(name string, idle time.Duration) Object {
	return Object{Name: name, Size: 500, ModTime: now.Add(-idle), Temp: true}
}

func good(db string, age time.Duration) Backup { return bk(db, age, StatusGood) }

func TestPlan(t *testing.T) {
	daily := func(db string, n int, from time.Duration) []Backup {
		var out []Backup
		for i := range n {
			out = append(out, good(db, from+time.Duration(i)*day))
		}
		return out
	}
	tests := []struct {
		name    string
		listing Listing
		policy  Policy
		deleted []string          // names expected deleted; everything else kept
		reasons map[string]string // name → substring of the reason
	}{
		{
			name:    "empty storage",
			listing: Listing{},
			policy:  Policy{RetentionDays: 30, KeepMin: 7},
		},
		{
			name:    "young backups all stay",
			listing: Listing{Backups: daily("pos", 3, time.Hour)},
			policy:  Policy{RetentionDays: 30, KeepMin: 1},
		},
		{
			name:    "older than retention go, keep-min satisfied by younger ones",
			listing: Listing{Backups: daily("pos", 10, time.Hour)}, // ages 0d1h … 9d1h
			policy:  Policy{RetentionDays: 3, KeepMin: 2},
			deleted: []string{
				DumpName("pos", now.Add(-time.Hour-3*day)), DumpName("pos", now.Add(-time.Hour-4*day)),
				DumpName("pos", now.Add(-time.Hour-5*day)), DumpName("pos", now.Add(-time.Hour-6*day)),
				DumpName("pos", now.Add(-time.Hour-7*day)), DumpName("pos", now.Add(-time.Hour-8*day)),
				DumpName("pos", now.Add(-time.Hour-9*day)),
			},
			reasons: map[string]string{
				DumpName("pos", now.Add(-time.Hour-9*day)): "older than 3 days (age 9d1h); 9 newer good backups remain",
				DumpName("pos", now.Add(-time.Hour-2*day)): "kept: within 3 days",
				DumpName("pos", now.Add(-time.Hour)):       "kept: good backup 1 of the 2 newest",
			},
		},
		{
			name:    "keep-min keeps old backups when nothing newer exists",
			listing: Listing{Backups: daily("pos", 5, 40*day)}, // ages 40 … 44 days
			policy:  Policy{RetentionDays: 30, KeepMin: 3},
			deleted: []string{DumpName("pos", now.Add(-43*day)), DumpName("pos", now.Add(-44*day))},
			reasons: map[string]string{
				DumpName("pos", now.Add(-40*day)): "one of the 3 newest good backups (BACKUP_KEEP_MIN)",
			},
		},
		{
			name:    "the last good backup stays even with keep-min 0",
			listing: Listing{Backups: []Backup{good("pos", 400*day)}},
			policy:  Policy{RetentionDays: 1, KeepMin: 0},
		},
		{
			name: "failed backups never count towards keep-min",
			listing: Listing{Backups: []Backup{
				touched(bk("pos", time.Hour, StatusPartial), 2*time.Hour),
				bk("pos", 2*time.Hour, StatusCorruptManifest),
				bk("pos", 3*time.Hour, StatusCorrupt),
				good("pos", 40*day),
				good("pos", 41*day),
				good("pos", 42*day),
			}},
			policy: Policy{RetentionDays: 30, KeepMin: 2},
			deleted: []string{
				DumpName("pos", now.Add(-time.Hour)), // partial, idle past the grace
				DumpName("pos", now.Add(-42*day)),
			},
			reasons: map[string]string{
				DumpName("pos", now.Add(-time.Hour)):   "partial dump without manifest",
				DumpName("pos", now.Add(-2*time.Hour)): "kept for inspection: not a good backup (corrupt-manifest)",
				DumpName("pos", now.Add(-3*time.Hour)): "kept for inspection: not a good backup (corrupt)",
				DumpName("pos", now.Add(-41*day)):      "one of the 2 newest good backups",
			},
		},
		{
			name: "partial dumps wait for the grace period",
			listing: Listing{Backups: []Backup{
				touched(bk("pos", 10*time.Minute, StatusPartial), 30*time.Second),
				touched(bk("pos", 3*time.Hour, StatusPartial), 59*time.Minute),
				touched(bk("pos", 5*time.Hour, StatusPartial), 61*time.Minute),
				touched(bk("pos", 50*day, StatusPartial), 50*day),
			}},
			policy:  Policy{RetentionDays: 30, KeepMin: 2}, // Grace 0 = DefaultGrace (1 h)
			deleted: []string{DumpName("pos", now.Add(-5*time.Hour)), DumpName("pos", now.Add(-50*day))},
			reasons: map[string]string{
				DumpName("pos", now.Add(-10*time.Minute)): "may be committing",
			},
		},
		{
			name: "a longer grace (BACKUP_TIMEOUT) protects longer",
			listing: Listing{Backups: []Backup{touched(bk("pos", 5*time.Hour, StatusPartial), 3*time.Hour)},
				Temps: []Object{tmp(".pos-20250615T090000Z.sql.gz.tmp-1", 3*time.Hour)}},
			policy: Policy{RetentionDays: 30, KeepMin: 2, Grace: 4 * time.Hour},
		},
		{
			name: "temporary files: stale ones go, a running backup's stays",
			listing: Listing{Backups: []Backup{good("pos", day)}, Temps: []Object{
				tmp(".pos-20250615T115000Z.sql.gz.tmp-111", 5*time.Second),
				tmp(".pos-20250614T020000Z.sql.gz.tmp-222", 34*time.Hour),
				tmp(".pos-20250614T020000Z.sql.gz.json.tmp-333", 2*time.Hour),
			}},
			policy:  Policy{RetentionDays: 30, KeepMin: 2, Grace: time.Hour},
			deleted: []string{".pos-20250614T020000Z.sql.gz.tmp-222", ".pos-20250614T020000Z.sql.gz.json.tmp-333"},
			reasons: map[string]string{
				".pos-20250615T115000Z.sql.gz.tmp-111": "may belong to a running backup",
				".pos-20250614T020000Z.sql.gz.tmp-222": "stale temporary file of an interrupted backup, last written 1d10h ago",
			},
		},
		{
			name: "orphan manifests go",
			listing: Listing{Backups: []Backup{good("pos", day)},
				OrphanManifests: []Object{{Name: "pos-20250101T020000Z.sql.gz.json", Size: 300}}},
			policy:  Policy{RetentionDays: 30, KeepMin: 2},
			deleted: []string{"pos-20250101T020000Z.sql.gz.json"},
			reasons: map[string]string{"pos-20250101T020000Z.sql.gz.json": "manifest whose dump is gone"},
		},
		{
			name: "corrupt backups go once older than the retention",
			listing: Listing{Backups: []Backup{
				good("pos", day),
				bk("pos", 31*day, StatusCorruptManifest),
				bk("pos", 32*day, StatusCorrupt),
			}},
			policy:  Policy{RetentionDays: 30, KeepMin: 1},
			deleted: []string{DumpName("pos", now.Add(-31*day)), DumpName("pos", now.Add(-32*day))},
		},
		{
			name: "keep-min counts each database on its own",
			listing: Listing{Backups: append(append(daily("a", 3, 40*day), daily("b", 2, 50*day)...),
				good("c", 45*day))},
			policy: Policy{RetentionDays: 30, KeepMin: 1},
			deleted: []string{DumpName("a", now.Add(-41*day)), DumpName("a", now.Add(-42*day)),
				DumpName("b", now.Add(-51*day))},
		},
		{
			name: "age exactly the retention stays; one second more goes",
			listing: Listing{Backups: []Backup{
				good("pos", time.Hour),
				good("pos", 30*day),
				good("pos", 30*day+time.Second),
			}},
			policy:  Policy{RetentionDays: 30, KeepMin: 1},
			deleted: []string{DumpName("pos", now.Add(-30*day-time.Second))},
		},
		{
			name:    "backups dated in the future (clock skew) stay",
			listing: Listing{Backups: []Backup{good("pos", -2*day), good("pos", -day)}},
			policy:  Policy{RetentionDays: 1, KeepMin: 1},
		},
		{
			name:    "retention 0 deletes nothing by age",
			listing: Listing{Backups: daily("pos", 4, 100*day)},
			policy:  Policy{RetentionDays: 0, KeepMin: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := Plan(tt.listing, now, tt.policy)
			want := len(tt.listing.Backups) + len(tt.listing.OrphanManifests) + len(tt.listing.Temps)
			if len(ds) != want {
				t.Fatalf("%d decisions for %d entries", len(ds), want)
			}
			var deleted []string
			for _, d := range ds {
				if d.Reason == "" {
					t.Errorf("%s: no reason", d.Name)
				}
				if d.Delete {
					deleted = append(deleted, d.Name)
				}
				if r, ok := tt.reasons[d.Name]; ok && !strings.Contains(d.Reason, r) {
					t.Errorf("%s: reason %q does not contain %q", d.Name, d.Reason, r)
				}
			}
			slices.Sort(deleted)
			wantDel := slices.Clone(tt.deleted)
			slices.Sort(wantDel)
			if !slices.Equal(deleted, wantDel) {
				t.Errorf("deleted:\n got %q\nwant %q\ndecisions:\n%s", deleted, wantDel, fmtDecisions(ds))
			}
			for name := range tt.reasons {
				if !slices.ContainsFunc(ds, func(d Decision) bool { return d.Name == name }) {
					t.Errorf("no decision for %s", name)
				}
			}
		})
	}
}

func TestPlanFilesAndBytes(t *testing.T) {
	l := Listing{Backups: []Backup{
		good("pos", time.Hour),
		good("pos", 40*day),
		touched(bk("pos", 41*day, StatusPartial), 41*day),
	}}
	ds := Plan(l, now, Policy{RetentionDays: 30, KeepMin: 1})
	byName := map[string]Decision{}
	for _, d := range ds {
		byName[d.Name] = d
	}
	old := DumpName("pos", now.Add(-40*day))
	d := byName[old]
	if !d.Delete || !slices.Equal(d.Files, []string{old + ".json", old}) || d.Bytes != 1010 {
		t.Errorf("good backup: %+v; want manifest then dump, 1010 bytes", d)
	}
	partial := DumpName("pos", now.Add(-41*day))
	if d := byName[partial]; !d.Delete || !slices.Equal(d.Files, []string{partial}) || d.Bytes != 1000 {
		t.Errorf("partial: %+v", d)
	}
}

// TestPlanNeverDeletesNewestGood checks the safety rule on random listings:
// for every database, the newest good backup, and with KeepMin k the k
// newest, always stay.
func TestPlanNeverDeletesNewestGood(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	statuses := []Status{StatusGood, StatusGood, StatusGood, StatusPartial, StatusCorrupt, StatusCorruptManifest}
	for i := range 2000 {
		var l Listing
		for range r.IntN(12) {
			db := []string{"a", "b"}[r.IntN(2)]
			b := bk(db, time.Duration(r.Int64N(int64(90*day)))-day, statuses[r.IntN(len(statuses))])
			l.Backups = append(l.Backups, touched(b, time.Duration(r.Int64N(int64(3*time.Hour)))))
		}
		p := Policy{RetentionDays: r.IntN(40), KeepMin: r.IntN(4), Grace: time.Duration(r.IntN(3)) * time.Hour}
		ds := Plan(l, now, p)
		deleted := map[string]bool{}
		for _, d := range ds {
			deleted[d.Name] = d.Delete
		}
		goods := map[string][]Backup{}
		for _, b := range l.Backups {
			if b.Good() {
				goods[b.Database()] = append(goods[b.Database()], b)
			}
		}
		for db, bs := range goods {
			sortBackups(bs)
			for j, b := range bs {
				if j < max(p.KeepMin, 1) && deleted[b.Name] {
					t.Fatalf("case %d: deleted good backup %d of %s (%s) with %+v\n%s", i, j+1, db, b.Name, p, fmtDecisions(ds))
				}
			}
		}
	}
}

func fmtDecisions(ds []Decision) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "  %-45s delete=%-5v %s\n", d.Name, d.Delete, d.Reason)
	}
	return b.String()
}

func TestFmtAge(t *testing.T) {
	tests := map[time.Duration]string{
		40 * time.Second:                 "40s",
		2*time.Hour + 5*time.Minute:      "2h05m",
		41*day + 3*time.Hour + time.Hour: "41d4h",
		90 * time.Second:                 "1m30s",
		-2 * time.Hour:                   "-2h00m",
	}
	for d, want := range tests {
		if got := fmtAge(d); got != want {
			t.Errorf("fmtAge(%v) = %q, want %q", d, got, want)
		}
	}
}
