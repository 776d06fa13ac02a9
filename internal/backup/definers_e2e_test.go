package backup_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// definers returns "KIND name DEFINER [SECURITY]" for every view, trigger,
// routine and event of database name, sorted.
func definers(t *testing.T, srv testenv.MySQLServer, name string) []string {
	t.Helper()
	db := srv.Open(t, name)
	var out []string
	for _, q := range []string{
		"SELECT 'VIEW', TABLE_NAME, DEFINER, SECURITY_TYPE FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()",
		"SELECT 'TRIGGER', TRIGGER_NAME, DEFINER, '' FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
		"SELECT ROUTINE_TYPE, ROUTINE_NAME, DEFINER, SECURITY_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()",
		"SELECT 'EVENT', EVENT_NAME, DEFINER, '' FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()",
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var kind, obj, definer, security string
			if err := rows.Scan(&kind, &obj, &definer, &security); err != nil {
				t.Fatal(err)
			}
			out = append(out, strings.TrimSpace(kind+" "+obj+" "+definer+" "+security))
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(out)
	return out
}

// TestRestoreKeepsDefiners: views, triggers, routines and events owned by
// another account keep their DEFINER through a native backup restored
// with the standard client or by `backup restore` as a privileged
// account; restored by an account without SUPER or SET USER, they become
// that account's, and the result lists each one.
func TestRestoreKeepsDefiners(t *testing.T) {
	ctx := context.Background()
	srv, src := testenv.MySQLDatabase(t)
	srcDB := srv.Open(t, src)
	owner := testenv.MySQLAccount(t, srv, "GRANT ALL PRIVILEGES ON `"+src+"`.* TO {user}")
	def := "DEFINER='" + owner.User + "'@'%' "
	for _, s := range []string{
		"CREATE TABLE `items` (`id` INT NOT NULL PRIMARY KEY, `price` INT NOT NULL)",
		"INSERT INTO `items` VALUES (1, 10), (2, 20)",
		"CREATE " + def + "SQL SECURITY DEFINER VIEW `v_items` AS SELECT `id`, `price` * 2 AS `double` FROM `items`",
		"CREATE " + def + "TRIGGER `items_bi` BEFORE INSERT ON `items` FOR EACH ROW SET NEW.`price` = GREATEST(NEW.`price`, 0)",
		"CREATE " + def + "PROCEDURE `p_note`()\nBEGIN\n  -- CREATE DEFINER=`x`@`y` VIEW w\n  SELECT 'DEFINER=`x`@`y`' AS `s`;\nEND",
		"CREATE " + def + "FUNCTION `f_double`(`x` INT) RETURNS INT DETERMINISTIC SQL SECURITY DEFINER RETURN `x` * 2",
		"CREATE " + def + "EVENT `ev_purge` ON SCHEDULE EVERY 1 DAY STARTS '2031-01-01 00:00:00' DISABLE DO DELETE FROM `items` WHERE `id` < 0",
	} {
		if _, err := srcDB.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	want := definers(t, srv, src)
	if len(want) != 5 {
		t.Fatalf("fixture: %q", want)
	}
	for _, d := range want {
		if !strings.Contains(d, " "+owner.User+"@% ") && !strings.HasSuffix(d, " "+owner.User+"@%") {
			t.Fatalf("fixture object not owned by %s: %s", owner.User, d)
		}
	}

	m := nativeManager(t, srv, src, srcDB)
	man, err := m.Run(ctx, backup.RunOptions{Trigger: backup.TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	if man.Definers != backup.DefinersKept {
		t.Errorf("manifest says definers %q, want %q", man.Definers, backup.DefinersKept)
	}

	t.Run("gunzip | mariadb as a privileged account", func(t *testing.T) {
		_, dst := testenv.MySQLDatabase(t)
		gunzipIntoClient(t, srv, filepath.Join(dirOf(m), man.Name), dst)
		if got := definers(t, srv, dst); !slices.Equal(got, want) {
			t.Errorf("definers after the client restore:\n%q\nsource:\n%q", got, want)
		}
	})

	t.Run("backup restore as a privileged account", func(t *testing.T) {
		_, dst := testenv.MySQLDatabase(t)
		res, err := m.Restore(ctx, man.Name, backup.RestoreOptions{Database: dst})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.RewrittenDefiners) != 0 || len(res.Warnings) != 0 {
			t.Errorf("an account with SUPER got definers rewritten: %+v", res)
		}
		if got := definers(t, srv, dst); !slices.Equal(got, want) {
			t.Errorf("definers after backup restore:\n%q\nsource:\n%q", got, want)
		}
	})

	t.Run("backup restore as an account without SUPER", func(t *testing.T) {
		_, dst := testenv.MySQLDatabase(t)
		acc := testenv.MySQLAccount(t, srv, "GRANT ALL PRIVILEGES ON `"+dst+"`.* TO {user}")
		restricted := *m
		restricted.DB = acc.Open(t, "")
		res, err := restricted.Restore(ctx, man.Name, backup.RestoreOptions{Database: dst})
		if err != nil {
			t.Fatalf("restore as %s: %v", acc.User, err)
		}
		wantLines := []string{
			"event `ev_purge`", "function `f_double`", "procedure `p_note`", "trigger `items_bi`", "view `v_items`",
		}
		got := slices.Clone(res.RewrittenDefiners)
		slices.Sort(got)
		if len(got) != len(wantLines) {
			t.Fatalf("rewritten: %q", got)
		}
		for i, w := range wantLines {
			if want := w + ": DEFINER `" + owner.User + "`@`%` → current user `" + acc.User + "`@`%`"; got[i] != want {
				t.Errorf("rewritten[%d] = %q, want %q", i, got[i], want)
			}
			if !slices.Contains(res.Warnings, res.RewrittenDefiners[i]) {
				t.Errorf("warnings lack %q: %q", res.RewrittenDefiners[i], res.Warnings)
			}
		}
		var wantNow []string
		for _, d := range want {
			wantNow = append(wantNow, strings.Replace(d, owner.User+"@%", acc.User+"@%", 1))
		}
		if got := definers(t, srv, dst); !slices.Equal(got, wantNow) {
			t.Errorf("definers after the restricted restore:\n%q\nwant:\n%q", got, wantNow)
		}
		// The body's own DEFINER text is untouched, and the objects work.
		db := acc.Open(t, dst)
		var body string
		if err := db.QueryRowContext(ctx, "SELECT ROUTINE_DEFINITION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_NAME = 'p_note'").Scan(&body); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(body, "-- CREATE DEFINER=`x`@`y` VIEW w") || !strings.Contains(body, "'DEFINER=`x`@`y`'") {
			t.Errorf("procedure body changed: %q", body)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT SUM(`double`) + `f_double`(1) FROM `v_items`").Scan(&n); err != nil || n != 62 {
			t.Errorf("view and function as the new owner: %d, %v; want 62", n, err)
		}
	})
}
