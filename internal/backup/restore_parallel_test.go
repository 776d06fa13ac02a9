package backup_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/backup/sqlload"
	"github.com/cantina-pos/cantina-ops/internal/demo"
)

// TestRestoreInterruptedThenAgain: a restore stopped in the middle of
// loading rows leaves a partial database marked as such; the next
// restore, without Replace and without anybody confirming, replaces it and
// gives back the source exactly, and leaves no mark.
func TestRestoreInterruptedThenAgain(t *testing.T) {
	srv, src, srcDB := demoSource(t)
	want := checksums(t, srv, src)
	m := nativeManager(t, srv, src, srcDB)
	man, err := m.Run(context.Background(), backup.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	target := src + "_again"
	dropLater(t, srcDB, target)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	var at sqlload.Stats
	_, err = m.Restore(ctx, man.Name, backup.RestoreOptions{Database: target, Threads: 3, Progress: func(s sqlload.Stats) {
		// Stop once a table is complete and another one's rows are
		// coming: in the middle of the data.
		if s.Tables >= 1 && s.Rows > 0 {
			once.Do(func() { at = s; cancel() })
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped restore: %v, want context.Canceled", err)
	}
	if at.Bytes == 0 || at.Bytes >= man.RawBytes {
		t.Fatalf("stopped at %d of %d bytes: not in the middle", at.Bytes, man.RawBytes)
	}
	st, err := m.Target(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	if st.Interrupted != man.Name || st.Empty() {
		t.Fatalf("after the stopped restore the target is %+v, want a partial copy marked as an interrupted restore of %s", st, man.Name)
	}

	// Restore again, as a user would: no Replace, nobody to confirm.
	res, err := m.Restore(context.Background(), man.Name, backup.RestoreOptions{Database: target})
	if err != nil {
		t.Fatalf("restore again: %v", err)
	}
	if res.Interrupted != man.Name || len(res.Dropped) == 0 || res.Stats.Threads < 2 {
		t.Errorf("restore again: interrupted %q, dropped %q, %d threads", res.Interrupted, res.Dropped, res.Stats.Threads)
	}
	sameChecksums(t, "restore after an interrupted one", want, checksums(t, srv, target))
	st, err = m.Target(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	if st.Interrupted != "" || len(st.Objects) != len(demo.BaseTables())+1 {
		t.Errorf("after the restore the target is %+v: a mark left, or objects missing", st)
	}

	// A database that holds anything else is still refused.
	if _, err := m.Restore(context.Background(), man.Name, backup.RestoreOptions{Database: target}); !errors.Is(err, backup.ErrTargetNotEmpty) {
		t.Fatalf("restore over a complete database: %v, want ErrTargetNotEmpty", err)
	}
}

// TestRestoreLoaders: the sequential load (Threads 1) and the parallel one
// give back the same tables, rows and definitions, and say how they ran.
func TestRestoreLoaders(t *testing.T) {
	srv, src, srcDB := demoSource(t)
	want := checksums(t, srv, src)
	wantDefs := tableDefinitions(t, srcDB)
	m := nativeManager(t, srv, src, srcDB)
	man, err := m.Run(context.Background(), backup.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	for _, tb := range man.Tables {
		rows += tb.Rows
	}
	for _, threads := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("threads=%d", threads), func(t *testing.T) {
			target := fmt.Sprintf("%s_t%d", src, threads)
			dropLater(t, srcDB, target)
			res, err := m.Restore(context.Background(), man.Name, backup.RestoreOptions{Database: target, Threads: threads})
			if err != nil {
				t.Fatal(err)
			}
			if res.Stats.Threads != threads || res.Stats.Rows != rows || res.Stats.Tables != int64(len(man.Tables)) || res.Stats.Bytes != man.RawBytes {
				t.Errorf("stats %+v, want %d threads, %d rows, %d tables, %d bytes", res.Stats, threads, rows, len(man.Tables), man.RawBytes)
			}
			if res.Binlogged {
				t.Errorf("binlogged on a server without a binary log")
			}
			sameChecksums(t, "restore", want, checksums(t, srv, target))
			got := tableDefinitions(t, srv.Open(t, target))
			if !slices.Equal(got, wantDefs) {
				t.Errorf("SHOW CREATE TABLE differs:\n%q\nsource:\n%q", got, wantDefs)
			}
		})
	}
}

// tableDefinitions returns SHOW CREATE TABLE of every demo table of db.
func tableDefinitions(t *testing.T, db *sql.DB) []string {
	t.Helper()
	var out []string
	for _, tbl := range demo.Tables() {
		var name, def string
		if err := db.QueryRow("SHOW CREATE TABLE `"+tbl+"`").Scan(&name, &def); err != nil {
			t.Fatalf("show create table %s: %v", tbl, err)
		}
		out = append(out, def)
	}
	return out
}
