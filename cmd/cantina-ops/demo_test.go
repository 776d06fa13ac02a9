package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// TestDemoSeed runs `demo seed` against a database that does not exist yet:
// the command creates it, fills it, then leaves it alone with --if-empty and
// refuses to seed over it without --reset. The password never shows.
func TestDemoSeed(t *testing.T) {
	srv := testenv.MySQL(t)
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	name := "t_demo_" + hex.EncodeToString(b)
	admin := srv.Open(t, "")
	t.Cleanup(func() { _, _ = admin.Exec("DROP DATABASE IF EXISTS `" + name + "`") })
	t.Setenv("DATABASE_URL", srv.URL(name))
	t.Setenv("LOG_FORMAT", "json")

	run := func(args ...string) (int, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		a := &app{stdout: &stdout, stderr: &stderr}
		code := exitCode(&stderr, dispatch(context.Background(), a, args))
		out := stdout.String() + stderr.String()
		if srv.Password != "" && strings.Contains(out, srv.Password) {
			t.Errorf("demo %v prints the database password:\n%s", args, out)
		}
		return code, out
	}

	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"demo", "seed", "--size", "1MB", "--if-empty"}, 0, "sale_lines"},
		{[]string{"demo", "seed", "--size", "1MB", "--if-empty"}, 0, "nothing to do"},
		{[]string{"demo", "seed", "--size", "1MB"}, 1, "--reset"},
		{[]string{"demo", "seed", "--size", "1MB", "--reset", "--seed", "2"}, 0, "done in"},
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
	var products int
	if err := srv.Open(t, name).QueryRow("SELECT COUNT(*) FROM products").Scan(&products); err != nil || products == 0 {
		t.Errorf("products after demo seed: %d, %v", products, err)
	}
}
