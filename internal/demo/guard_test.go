package demo

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

func TestStateCheck(t *testing.T) {
	tests := []struct {
		name  string
		state State
		want  []string // in the error; none: no error
	}{
		{"empty database", State{Database: "pos"}, nil},
		{"marked, with demo tables", State{Database: "pos", Tables: []string{"products", "sales"}, Marker: &Marker{}}, nil},
		{"marked, with other tables too", State{Database: "pos", Tables: []string{"keep_me", "products"}, Marker: &Marker{}}, nil},
		{"real tables", State{Database: "cantina", Tables: []string{"auth_user", "pos_sale"}},
			[]string{"database cantina has 2 tables (auth_user, pos_sale) and no demo marker (table cantina_demo_marker)", "real POS database"}},
		{"one table", State{Database: "cantina", Tables: []string{"django_migrations"}},
			[]string{"has 1 table (django_migrations)"}},
		{"many tables", State{Database: "cantina", Tables: []string{"a", "b", "c", "d", "e", "f", "g"}},
			[]string{"has 7 tables (a, b, c, d, e, … (2 more))"}},
		{"demo tables without marker", State{Database: "cantina", Tables: []string{"categories", View, "products"}},
			[]string{"all of them demo tables", "before the marker"}},
		{"demo names among real ones", State{Database: "cantina", Tables: []string{"products", "sales", "staff"}},
			[]string{"real POS database"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.state.Check()
			if tt.state.IsDemo() != (tt.want == nil) {
				t.Errorf("IsDemo = %v", tt.state.IsDemo())
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrNotDemo) {
				t.Fatalf("Check = %v, want ErrNotDemo", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Check = %q, want %q in it", err, w)
				}
			}
		})
	}
}

// realDatabase returns a fresh database that looks like a real POS one:
// products and django_migrations with rows, and no marker.
func realDatabase(t *testing.T) *sql.DB {
	t.Helper()
	srv, name := testenv.POSDatabase(t)
	return srv.Open(t, name)
}

// TestGuardRefusesRealDatabase: Seed and Reset refuse a database with
// tables and no marker, and change nothing in it.
func TestGuardRefusesRealDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := realDatabase(t)
	before := testenv.Snapshot(t, db)

	st, err := Inspect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if st.Marker != nil || !reflect.DeepEqual(st.Tables, []string{"django_migrations", "products"}) || st.IsDemo() {
		t.Fatalf("Inspect = %+v, want the two tables and no marker", st)
	}
	if _, err := Seed(ctx, db, Options{Size: testSize, Seed: 1}); !errors.Is(err, ErrNotDemo) || !strings.Contains(err.Error(), "has 2 tables (django_migrations, products)") {
		t.Errorf("Seed: err = %v, want ErrNotDemo naming the tables", err)
	}
	if err := Reset(ctx, db, false); !errors.Is(err, ErrNotDemo) {
		t.Errorf("Reset: err = %v, want ErrNotDemo", err)
	}
	if after := testenv.Snapshot(t, db); !reflect.DeepEqual(after, before) {
		t.Errorf("the refused database changed:\nbefore %v\nafter  %v", before, after)
	}
}

// TestGuardForce: forced, Reset drops the demo-named table and Seed fills
// and marks the database; the other table keeps its rows.
func TestGuardForce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := realDatabase(t)
	if err := Reset(ctx, db, true); err != nil {
		t.Fatalf("forced Reset: %v", err)
	}
	if _, err := Seed(ctx, db, Options{Size: testSize, Seed: 1, Force: true, By: "cantina-ops test"}); err != nil {
		t.Fatalf("forced Seed: %v", err)
	}
	st, err := Inspect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if st.Marker == nil || st.Marker.SeededBy != "cantina-ops test" || !st.IsDemo() {
		t.Errorf("after a forced Seed: marker %+v, want one by cantina-ops test", st.Marker)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM django_migrations"); n != 3 {
		t.Errorf("django_migrations has %d rows after the forced seed, want its 3", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM products WHERE name = 'Zumo'"); n != 0 {
		t.Errorf("the old products rows survived a forced reset")
	}
}

// TestSeedMarksAndReseeds: Seed claims an empty database with the marker
// before it creates a demo table; Reset keeps the marker, so that the
// database re-seeds unforced and the first claim's time is kept.
func TestSeedMarksAndReseeds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, name := testenv.MySQLDatabase(t)
	db := srv.Open(t, name)
	start := time.Now().UTC().Add(-time.Minute) // the server's clock may differ a little
	if _, err := Seed(ctx, db, Options{Size: testSize, Seed: 1, By: "cantina-ops v1"}); err != nil {
		t.Fatalf("Seed into an empty database: %v", err)
	}
	first, err := Inspect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	m := first.Marker
	if m == nil || m.CreatedBy != "cantina-ops v1" || m.SeededBy != "cantina-ops v1" || m.CreatedAt.Before(start) || m.SeededAt.Before(m.CreatedAt) {
		t.Fatalf("marker after Seed: %+v", m)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM "+MarkerTable+" WHERE seed = 1 AND size_bytes = ?", testSize); n != 1 {
		t.Errorf("the marker does not record seed and size")
	}
	if err := Reset(ctx, db, false); err != nil {
		t.Fatalf("Reset of a marked database: %v", err)
	}
	if found, err := Objects(ctx, db); err != nil || len(found) != 0 {
		t.Fatalf("after Reset: %v, %v", found, err)
	}
	if _, err := Seed(ctx, db, Options{Size: testSize, Seed: 2, By: "cantina-ops v2"}); err != nil {
		t.Fatalf("re-Seed of a marked database: %v", err)
	}
	second, err := Inspect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if m2 := second.Marker; m2 == nil || !m2.CreatedAt.Equal(m.CreatedAt) || m2.CreatedBy != "cantina-ops v1" || m2.SeededBy != "cantina-ops v2" {
		t.Errorf("marker after the second Seed: %+v, want the first claim (%v by v1) kept", m2, m.CreatedAt)
	}
}

// TestInspectEmptyMarkerTable: a marker table without its row marks nothing.
func TestInspectEmptyMarkerTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, name := testenv.MySQLDatabase(t)
	db := srv.Open(t, name)
	testenv.ExecAll(t, db, markerSchema, "CREATE TABLE orders (id INT)")
	st, err := Inspect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if st.Marker != nil || !errors.Is(st.Check(), ErrNotDemo) {
		t.Errorf("Inspect = %+v, Check = %v; want no marker and ErrNotDemo", st, st.Check())
	}
}
