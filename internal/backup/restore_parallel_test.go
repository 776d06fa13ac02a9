package backup_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/backup/sqlload"
	"github.com/cantina-pos/cantina-ops/internal/demo"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
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

// TestRestoreOnABinloggingServer: on a server that writes a binary log and
// has local_infile=OFF (both global: a server of the test's own), a
// restore says what it did about each, and the data is exact every time:
//   - an account with SUPER, its own or a role's, keeps the restore out of
//     the log (replicas keep their old copy: said);
//   - one without may not create the dump's trigger there: the restore and
//     the drill are refused before anything is touched (ErrCreatorPrivilege),
//     until log_bin_trust_function_creators is ON; the restore is then
//     written to the log (said, Binlogged);
//   - a function that is not DETERMINISTIC is refused even with SUPER,
//     until log_bin_trust_function_creators is ON;
//   - either way every row goes as an INSERT (said).
func TestRestoreOnABinloggingServer(t *testing.T) {
	ctx := context.Background()
	srv, src, srcDB := demoSource(t)
	want := checksums(t, srv, src)
	m := nativeManager(t, srv, src, srcDB)
	man, err := m.Run(ctx, backup.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if o := man.Objects; o == nil || o.Views != 1 || o.Triggers != 1 || o.Functions != 0 {
		t.Fatalf("manifest objects %+v, want the demo's view and trigger counted", o)
	}
	testenv.ExecAll(t, srcDB, "CREATE FUNCTION plus_one(x INT) RETURNS INT DETERMINISTIC RETURN x + 1",
		"CREATE FUNCTION reads_sales() RETURNS INT READS SQL DATA RETURN (SELECT COUNT(*) FROM sales)",
		"CREATE FUNCTION unsafe_one() RETURNS INT RETURN 1") // NOT DETERMINISTIC CONTAINS SQL
	withFunctions, err := m.Run(ctx, backup.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if o := withFunctions.Objects; o == nil || o.Functions != 3 || o.UnsafeFunctions != 1 {
		t.Fatalf("manifest objects %+v, want 3 functions, 1 unsafe", o)
	}

	priv := testenv.PrivateMySQL(t, "--log-bin", "--server-id=1", "--local-infile=0")
	admin := priv.Open(t, "")
	limited := testenv.MySQLAccount(t, priv, "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, "+
		"CREATE VIEW, SHOW VIEW, TRIGGER, CREATE ROUTINE, ALTER ROUTINE, EVENT, REFERENCES, LOCK TABLES, "+
		"CREATE TEMPORARY TABLES, EXECUTE ON *.* TO {user}")
	manager := func(t *testing.T, acc testenv.MySQLServer) *backup.Manager {
		rm := nativeManager(t, acc, src, acc.Open(t, ""))
		rm.Storage = m.Storage
		return rm
	}
	restore := func(t *testing.T, rm *backup.Manager, name, target string, binlogged bool, warning string) {
		dropLater(t, admin, target)
		res, err := rm.Restore(ctx, name, backup.RestoreOptions{Database: target, Threads: 2})
		if err != nil {
			t.Fatalf("restore: %v (warnings %q)", err, res.Warnings)
		}
		warnings := strings.Join(res.Warnings, "\n")
		if res.Binlogged != binlogged || !strings.Contains(warnings, warning) {
			t.Errorf("binlogged %t, warnings %q; want %t and %q", res.Binlogged, warnings, binlogged, warning)
		}
		if !res.Stats.LocalInfileOff || res.Stats.LoadDataRows != 0 || !strings.Contains(warnings, "local_infile=OFF") {
			t.Errorf("stats %+v, warnings %q: want every row as an INSERT, and said", res.Stats, warnings)
		}
		sameChecksums(t, "restore", want, checksums(t, priv, target))
	}
	nothingMade := func(t *testing.T) {
		t.Helper()
		var n int
		if err := admin.QueryRow("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? OR SCHEMA_NAME LIKE 'cantina\\_drill\\_%'", src+"%").Scan(&n); err != nil || n != 0 {
			t.Errorf("%d databases made (%v), want none", n, err)
		}
	}

	t.Run("with SUPER", func(t *testing.T) {
		restore(t, manager(t, priv), man.Name, src+"_super", false, "replicas keep their old copy of")
	})
	t.Run("an unsafe function, even with SUPER", func(t *testing.T) {
		_, err := manager(t, priv).Restore(ctx, withFunctions.Name, backup.RestoreOptions{Database: src + "_refused"})
		if !errors.Is(err, backup.ErrCreatorPrivilege) || !strings.Contains(err.Error(), "log_bin_trust_function_creators") ||
			strings.Contains(err.Error(), "as an account with SUPER") {
			t.Errorf("restore: %v, want ErrCreatorPrivilege naming log_bin_trust_function_creators only", err)
		}
		nothingMade(t)
	})
	t.Run("SUPER through a role", func(t *testing.T) {
		// Not in USER_PRIVILEGES: the check lets the server decide.
		testenv.ExecAll(t, admin, "CREATE ROLE IF NOT EXISTS restorer", "GRANT SUPER ON *.* TO restorer",
			"GRANT restorer TO '"+limited.User+"'@'%'", "SET DEFAULT ROLE restorer FOR '"+limited.User+"'@'%'")
		defer testenv.ExecAll(t, admin, "SET DEFAULT ROLE NONE FOR '"+limited.User+"'@'%'", "REVOKE restorer FROM '"+limited.User+"'@'%'")
		restore(t, manager(t, limited), man.Name, src+"_role", false, "replicas keep their old copy of")
	})
	t.Run("without", func(t *testing.T) {
		rm := manager(t, limited)
		_, err := rm.Restore(ctx, man.Name, backup.RestoreOptions{Database: src + "_refused", Threads: 2})
		if !errors.Is(err, backup.ErrCreatorPrivilege) || !strings.Contains(err.Error(), "log_bin_trust_function_creators") {
			t.Errorf("restore: %v, want ErrCreatorPrivilege naming log_bin_trust_function_creators", err)
		}
		rep, err := rm.Verify(ctx, man.Name, true)
		if !errors.Is(err, backup.ErrCreatorPrivilege) || strings.Count(err.Error(), "restore test") > 1 || len(rep.Problems) != 0 {
			t.Errorf("drill: %v (problems %q), want ErrCreatorPrivilege, said once, and no finding about the file", err, rep.Problems)
		}
		nothingMade(t)

		testenv.ExecAll(t, admin, "SET GLOBAL log_bin_trust_function_creators = 1")
		restore(t, rm, man.Name, src+"_logged", true, "the restore is written to the server's binary log")
		restore(t, rm, withFunctions.Name, src+"_functions", true, "the restore is written to the server's binary log")
		var two, sales int
		db := priv.Open(t, src+"_functions")
		if err := db.QueryRow("SELECT plus_one(1), reads_sales() - (SELECT COUNT(*) FROM sales)").Scan(&two, &sales); err != nil || two != 2 || sales != 0 {
			t.Errorf("the restored functions answer %d, %d (%v); want 2, 0", two, sales, err)
		}
	})
}
