package main

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/cantina-pos/cantina-ops/internal/demo"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// openPTY returns a pseudo-terminal pair: what is written to master is read
// from slave as if typed. The test is skipped where there are no PTYs.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	var n, unlock uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Skipf("no pseudo-terminals here: TIOCGPTN: %v", e)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Skipf("no pseudo-terminals here: TIOCSPTLCK: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestDemoSeedResetAsksOnTerminal: on a terminal, `demo seed --reset` drops
// the demo data only when the operator types the database name.
func TestDemoSeedResetAsksOnTerminal(t *testing.T) {
	master, slave := openPTY(t)
	srv, name := testenv.MySQLDatabase(t)
	db := srv.Open(t, name)
	run := demoRunner(t, srv, name)
	if code, out := run("demo", "seed", "--size", "1MB", "--seed", "1"); code != 0 {
		t.Fatalf("first seed: exit %d:\n%s", code, out)
	}
	before := testenv.Snapshot(t, db)

	for _, c := range []struct {
		typed string
		code  int
		want  string
	}{
		{"no\n", 1, "cancelled: nothing was changed"},
		{name + "x\n", 1, "cancelled: nothing was changed"},
		{name + "\n", 0, "done in"},
	} {
		if _, err := master.WriteString(c.typed); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr strings.Builder
		a := &app{stdin: slave, stdout: &stdout, stderr: &stderr}
		code := exitCode(&stderr, dispatch(context.Background(), a, []string{"demo", "seed", "--size", "1MB", "--seed", "2", "--reset"}))
		out := stdout.String() + stderr.String()
		if code != c.code || !strings.Contains(out, c.want) || !strings.Contains(out, "Type the database name to confirm") {
			t.Fatalf("typed %q: exit %d, want %d with %q in:\n%s", c.typed, code, c.code, c.want, out)
		}
		if c.code != 0 {
			if after := testenv.Snapshot(t, db); !reflect.DeepEqual(after, before) {
				t.Fatalf("typed %q: the database changed:\nbefore %v\nafter  %v", c.typed, before, after)
			}
		}
	}
	var seed int
	if err := db.QueryRow("SELECT seed FROM " + demo.MarkerTable).Scan(&seed); err != nil || seed != 2 {
		t.Errorf("after the confirmed reset: marker seed %d, %v; want 2", seed, err)
	}
}
