package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/demo"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// demoRunner points DATABASE_URL at database name of srv and returns a
// function that runs cantina-ops with args (stdin not a terminal) and
// returns its exit code and output. The password must never show.
func demoRunner(t *testing.T, srv testenv.MySQLServer, name string) func(args ...string) (int, string) {
	t.Helper()
	t.Setenv("DATABASE_URL", srv.URL(name))
	t.Setenv("LOG_FORMAT", "json")
	return func(args ...string) (int, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		a := &app{stdin: strings.NewReader(name + "\n"), stdout: &stdout, stderr: &stderr}
		code := exitCode(&stderr, dispatch(context.Background(), a, args))
		out := stdout.String() + stderr.String()
		if srv.Password != "" && strings.Contains(out, srv.Password) {
			t.Errorf("demo %v prints the database password:\n%s", args, out)
		}
		return code, out
	}
}

// TestDemoSeed runs `demo seed` against a database that does not exist yet:
// the command creates it, fills it, then leaves it alone with --if-empty,
// refuses to seed over it without --reset and to reset it without a
// terminal or --yes. The password never shows.
func TestDemoSeed(t *testing.T) {
	srv := testenv.MySQL(t)
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	name := "t_demo_" + hex.EncodeToString(b)
	admin := srv.Open(t, "")
	t.Cleanup(func() { _, _ = admin.Exec("DROP DATABASE IF EXISTS `" + name + "`") })
	run := demoRunner(t, srv, name)

	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"demo", "seed", "--size", "1MB", "--if-empty"}, 0, "sale_lines"},
		{[]string{"demo", "seed", "--size", "1MB", "--if-empty"}, 0, "nothing to do"},
		{[]string{"demo", "seed", "--size", "1MB"}, 1, "--reset"},
		{[]string{"demo", "seed", "--size", "1MB", "--reset", "--seed", "2"}, 1, "no terminal to answer on"},
		{[]string{"demo", "seed", "--size", "1MB", "--reset", "--seed", "2"}, 1, "pass --yes"},
		{[]string{"demo", "seed", "--size", "1MB", "--reset", "--yes", "--seed", "2"}, 0, "done in"},
		{[]string{"demo", "seed", "--help"}, 0, "needs --yes"},
		{[]string{"demo", "seed", "--size", "lots"}, 2, "--size"},
		{[]string{"demo", "seed", "--reset", "--if-empty"}, 2, "contradict"},
		{[]string{"demo", "grow"}, 2, "Usage: cantina-ops demo seed"},
	}
	for _, s := range steps {
		code, out := run(s.args...)
		if code != s.code || !strings.Contains(out, s.want) {
			t.Fatalf("cantina-ops %s: exit %d, want %d with %q in:\n%s", strings.Join(s.args, " "), code, s.code, s.want, out)
		}
	}
	var products, seed int
	db := srv.Open(t, name)
	if err := db.QueryRow("SELECT COUNT(*) FROM products").Scan(&products); err != nil || products == 0 {
		t.Errorf("products after demo seed: %d, %v", products, err)
	}
	if err := db.QueryRow("SELECT seed FROM " + demo.MarkerTable).Scan(&seed); err != nil || seed != 2 {
		t.Errorf("marker after demo seed --reset --seed 2: seed %d, %v", seed, err)
	}

	// A demo seeded before the marker existed (make run's .state, the
	// benchmark's cache): --if-empty leaves it alone, --reset needs --force.
	if _, err := db.Exec("DROP TABLE " + demo.MarkerTable); err != nil {
		t.Fatal(err)
	}
	if code, out := run("demo", "seed", "--size", "1MB", "--if-empty"); code != 0 || !strings.Contains(out, "nothing to do") {
		t.Errorf("--if-empty on an unmarked complete demo: exit %d:\n%s", code, out)
	}
	if code, out := run("demo", "seed", "--size", "1MB", "--reset", "--yes"); code != 1 || !strings.Contains(out, "all of them demo tables") {
		t.Errorf("--reset on an unmarked complete demo: exit %d, want 1 with a hint:\n%s", code, out)
	}
}

// TestDemoSeedRefusesRealDatabase: against a database with real tables and
// no demo marker, every form of `demo seed` without --force refuses, says
// what it found and changes nothing; --force --reset --yes then seeds it.
func TestDemoSeedRefusesRealDatabase(t *testing.T) {
	srv, name := testenv.POSDatabase(t)
	db := srv.Open(t, name)
	run := demoRunner(t, srv, name)
	before := testenv.Snapshot(t, db)

	found := "database " + name + " has 2 tables (django_migrations, products) and no demo marker"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"demo", "seed", "--size", "1MB"}, found},
		{[]string{"demo", "seed", "--size", "1MB", "--if-empty"}, found},
		{[]string{"demo", "seed", "--size", "1MB", "--reset"}, found},
		{[]string{"demo", "seed", "--size", "1MB", "--reset", "--yes"}, found},
		{[]string{"demo", "seed", "--size", "1MB", "--reset", "--force"}, "NO demo marker"}, // forced, but nobody confirmed
	} {
		code, out := run(c.args...)
		if code != 1 || !strings.Contains(out, c.want) || strings.Contains(out, "seeding") {
			t.Errorf("cantina-ops %s: exit %d, want 1 with %q in:\n%s", strings.Join(c.args, " "), code, c.want, out)
		}
		if after := testenv.Snapshot(t, db); !reflect.DeepEqual(after, before) {
			t.Fatalf("cantina-ops %s changed the database:\nbefore %v\nafter  %v", strings.Join(c.args, " "), before, after)
		}
	}

	code, out := run("demo", "seed", "--size", "1MB", "--reset", "--force", "--yes")
	if code != 0 || !strings.Contains(out, "done in") {
		t.Fatalf("demo seed --reset --force --yes: exit %d:\n%s", code, out)
	}
	var migrations, demoProducts int
	if err := db.QueryRow("SELECT COUNT(*) FROM django_migrations").Scan(&migrations); err != nil || migrations != 3 {
		t.Errorf("django_migrations after the forced seed: %d rows, %v; want its 3", migrations, err)
	}
	if err := db.QueryRow("SELECT COUNT(*) FROM products WHERE name <> 'Zumo'").Scan(&demoProducts); err != nil || demoProducts < 3 {
		t.Errorf("products after the forced seed: %d demo rows, %v", demoProducts, err)
	}
	// Now marked, it re-seeds with --reset --yes, without --force.
	if code, out := run("demo", "seed", "--size", "1MB", "--reset", "--yes", "--seed", "3"); code != 0 {
		t.Errorf("re-seed of the now marked database: exit %d:\n%s", code, out)
	}
}
