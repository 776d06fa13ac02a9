package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/backup/sqlload"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/internal/units"
)

// cliBackup makes a backup of a small database with `backup run` and
// returns the environment, the backup's name and the server.
func cliBackup(t *testing.T) (map[string]string, string, testenv.MySQLServer) {
	t.Helper()
	srv, src := testenv.MySQLDatabase(t)
	db := srv.Open(t, src)
	for _, q := range []string{"CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))", "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{
		"REDIS_URL":    testenv.Redis(t).URL(),
		"DATABASE_URL": srv.URL(src),
		"BACKUP_DIR":   t.TempDir(),
	}
	if out, err := binCmd(t, env, "backup", "run").CombinedOutput(); err != nil {
		t.Fatalf("backup run (%v):\n%s", err, out)
	}
	out, err := binCmd(t, env, "backup", "list", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var l backup.Listing
	if err := json.Unmarshal(out, &l); err != nil || len(l.Backups) != 1 {
		t.Fatalf("backup list --json (%v):\n%s", err, out)
	}
	return env, l.Backups[0].Name, srv
}

// TestRestoreCommandRefusesSystemDatabases: `backup restore NAME --database
// mysql --yes` (any system schema, any case) is refused before anything is
// shown or touched, and the schema keeps every table; so is a configured
// database that is one.
func TestRestoreCommandRefusesSystemDatabases(t *testing.T) {
	env, name, srv := cliBackup(t)
	admin := srv.Open(t, "")
	run := func(t *testing.T, env map[string]string, schema string, args ...string) {
		t.Helper()
		before := testenv.SchemaTables(t, admin, schema)
		if before == 0 {
			t.Fatalf("%s has no tables: the test would prove nothing", schema)
		}
		out, err := binCmd(t, env, append([]string{"backup", "restore", name, "--yes"}, args...)...).CombinedOutput()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || !strings.Contains(string(out), "a system database can never be a restore target") {
			t.Errorf("restore into %s (%v):\n%s", schema, err, out)
		}
		if strings.Contains(string(out), "Target database") {
			t.Errorf("the summary was shown before the refusal:\n%s", out)
		}
		if after := testenv.SchemaTables(t, admin, schema); after != before {
			t.Errorf("%s had %d tables, now %d", schema, before, after)
		}
	}
	for _, target := range []string{"mysql", "MySQL", "sys", "performance_schema", "INFORMATION_SCHEMA"} {
		t.Run(target, func(t *testing.T) {
			run(t, env, strings.ToLower(target), "--database", target)
		})
	}
	t.Run("configured", func(t *testing.T) {
		conf := map[string]string{}
		for k, v := range env {
			conf[k] = v
		}
		conf["DATABASE_URL"] = srv.URL("mysql")
		run(t, conf, "mysql")
	})
}

// TestRestoreCommandShowsWhatItWillReplace: over a database with tables,
// `backup restore` first shows the backup (here unverified: its manifest
// is gone) and the target's table count and size, then asks; without a
// terminal the answer is no and the target is unchanged. With --yes it
// shows the same and replaces the target.
func TestRestoreCommandShowsWhatItWillReplace(t *testing.T) {
	ctx := context.Background()
	env, name, srv := cliBackup(t)
	if err := os.Remove(filepath.Join(env["BACKUP_DIR"], backup.ManifestName(name))); err != nil {
		t.Fatal(err)
	}
	_, target := testenv.MySQLDatabase(t)
	tdb := srv.Open(t, target)
	for _, q := range []string{
		"CREATE TABLE a (id INT PRIMARY KEY, v LONGTEXT)",
		"INSERT INTO a SELECT seq, REPEAT('x', 1000) FROM seq_1_to_2000",
		"CREATE TABLE b (id INT)",
		"CREATE VIEW v AS SELECT id FROM a",
		"ANALYZE TABLE a",
	} {
		if _, err := tdb.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	m := &backup.Manager{DB: srv.Open(t, "")}
	before, err := m.Target(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	sumA := func() string {
		var n, sum string
		if err := tdb.QueryRow("CHECKSUM TABLE a EXTENDED").Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		return sum
	}
	wantSum := sumA()
	want := []string{
		"Backup " + name,
		"WARNING: the file has no manifest",
		"Target database " + target,
		"holds 2 tables, 1 views and 0 routines and events, " + units.Bytes(before.Bytes) + ": everything in it will be DROPPED",
	}

	cmd := binCmd(t, env, "backup", "restore", name, "--database", target)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	out := stderr.String()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || !strings.Contains(out, "nothing was changed") {
		t.Fatalf("restore without --yes (%v):\n%s", err, out)
	}
	t.Logf("restore without --yes says:\n%s", out)
	ask := strings.Index(out, "Type the database name to confirm")
	if ask < 0 || !strings.Contains(out[ask:], "(no terminal to answer on)") {
		t.Errorf("no question asked:\n%s", out)
	}
	for _, s := range want {
		if i := strings.Index(out, s); i < 0 || i > ask {
			t.Errorf("%q is not shown before the question:\n%s", s, out)
		}
	}
	after, err := m.Target(ctx, target)
	if err != nil || strings.Join(after.Objects, ",") != "a,b,v" || sumA() != wantSum {
		t.Errorf("after a no the target holds %q (%v)", after.Objects, err)
	}

	cmd = binCmd(t, env, "backup", "restore", name, "--database", target, "--yes")
	stdout.Reset()
	stderr.Reset()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("restore --yes (%v):\n%s", err, stderr.String())
	}
	for _, s := range append(want, "--yes given") {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("restore --yes does not show %q:\n%s", s, stderr.String())
		}
	}
	if !strings.Contains(stdout.String(), "restored "+name+" into "+target) || !strings.Contains(stdout.String(), "measured RTO: ") {
		t.Errorf("restore --yes printed:\n%s", stdout.String())
	}
	if st, _ := m.Target(ctx, target); strings.Join(st.Objects, ",") != "t" {
		t.Errorf("after --yes the target holds %q, want the backup's t", st.Objects)
	}
}

// TestRestoreEstimate: the progress line shows tables of the manifest's,
// bytes of the SQL, rows per second and the time left: from the last
// drill's time until the load has run long enough, then from its own pace.
func TestRestoreEstimate(t *testing.T) {
	man := &backup.Manifest{Tables: []backup.TableInfo{{Name: "a", Bytes: 600}, {Name: "b", Bytes: 400}},
		Drill: &backup.Drill{RestoreSeconds: 100, OK: true}}
	e := newRestoreEstimate(backup.RestorePlan{RawBytes: 1000, Backup: backup.Backup{Manifest: man}})
	for _, tt := range []struct {
		done    int64
		elapsed time.Duration
		left    time.Duration
		ok      bool
	}{
		{0, 0, 100 * time.Second, true},                 // the drill's time, from the start
		{100, time.Second, 99 * time.Second, true},      // still the drill's: too early to measure
		{250, 10 * time.Second, 30 * time.Second, true}, // its own pace: 25 bytes/s, 750 to go
		{1000, 40 * time.Second, 0, true},
	} {
		left, ok := e.left(tt.done, tt.elapsed)
		if left != tt.left || ok != tt.ok {
			t.Errorf("left(%d, %s) = %s %v, want %s %v", tt.done, tt.elapsed, left, ok, tt.left, tt.ok)
		}
	}
	got := e.line(sqlload.Stats{Tables: 1, Bytes: 250, Rows: 5000}, 10*time.Second)
	if want := "tables 1/2  250 B/1000 B (25%)  500 rows/s  about 30s left"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	// Without a drill there is no estimate until the pace is measured.
	e.drill = 0
	if _, ok := e.left(10, time.Second); ok {
		t.Error("an estimate without a drill before the pace is known")
	}
}
