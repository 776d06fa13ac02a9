package backup

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseName(t *testing.T) {
	ts := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		prefix string // "" = invalid
		why    string // substring of the error
	}{
		{"cantina-20250301T020000Z.sql.gz", "cantina", ""},
		{"my-pos_db-20250301T020000Z.sql.gz", "my-pos_db", ""},
		{"cantina-20250301T020000Z.sql.gz.age", "cantina", ""},
		{"cantina-20250301T020000Z.sql.gz.age.json", "", "or .sql.gz.age when encrypted"},
		{"cantina-20250301T020000Z.sql.age", "", "want DATABASE-"},
		{"cantina-20250301T020000Z.sql.gz.age.age", "", "want DATABASE-"},
		{"cantina-20250301T020000Z.age", "", "want DATABASE-"},
		{"", "", "empty"},
		{"../etc/passwd", "", "directory"},
		{"..", "", `".."`},
		{"/etc/passwd", "", "not a path"},
		{"/backups/cantina-20250301T020000Z.sql.gz", "", "not a path"},
		{`C:\x\cantina-20250301T020000Z.sql.gz`, "", "not a path"},
		{`c:cantina-20250301T020000Z.sql.gz`, "", "not a path"},
		{"sub/cantina-20250301T020000Z.sql.gz", "", "directory"},
		{"..cantina-20250301T020000Z.sql.gz", "", `".."`},
		{"cantina-20250301T020000Z.sql.gz.json", "", "want DATABASE-"},
		{".cantina-20250301T020000Z.sql.gz.tmp-123", "", "want DATABASE-"},
		{"cantina.sql.gz", "", "want DATABASE-"},
		{"cantina-20250301T020000.sql.gz", "", "want DATABASE-"},
		{"cantina-20250301020000Z.sql.gz", "", "want DATABASE-"},
		{"cantina-20250301T020000Z.sql", "", "want DATABASE-"},
		{"cantina-20251301T020000Z.sql.gz", "", "bad timestamp"},
		{"can tina-20250301T020000Z.sql.gz", "", "want DATABASE-"},
		{"cantina-20250301T020000Z.sql.gz\n", "", "want DATABASE-"},
		{"/etc/passwd\x00cantina-20250301T020000Z.sql.gz", "", "not a path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ni, err := ParseName(tt.name)
			if tt.prefix != "" {
				if err != nil {
					t.Fatalf("ParseName: %v", err)
				}
				if ni.Prefix != tt.prefix || !ni.Time.Equal(ts) || ni.Encrypted != strings.HasSuffix(tt.name, AgeExt) {
					t.Fatalf("got %+v", ni)
				}
				return
			}
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("got %v, want ErrInvalidName", err)
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Fatalf("error %q does not say %q", err, tt.why)
			}
		})
	}
}

func TestDumpNameRoundTrip(t *testing.T) {
	ts := time.Date(2025, 12, 31, 23, 59, 58, 999, time.FixedZone("X", 3600))
	tests := []struct{ db, prefix string }{
		{"cantina", "cantina"},
		{"pos-prod_2", "pos-prod_2"},
		{"café.db", "caf__db"},
		{"a/b\\c..d", "a_b_c__d"},
		{strings.Repeat("x", 80), strings.Repeat("x", 64)},
	}
	for _, tt := range tests {
		name := DumpName(tt.db, ts)
		ni, err := ParseName(name)
		if err != nil {
			t.Fatalf("%q: DumpName gave %q: %v", tt.db, name, err)
		}
		if ni.Prefix != tt.prefix || !ni.Time.Equal(ts.Truncate(time.Second)) || ni.Time.Location() != time.UTC {
			t.Errorf("%q: got %+v from %q", tt.db, ni, name)
		}
	}
	if got := DumpName("cantina", ts); got != "cantina-20251231T225958Z.sql.gz" {
		t.Errorf("DumpName = %q", got)
	}
}

func TestClassifyName(t *testing.T) {
	const d = "cantina-20250301T020000Z.sql.gz"
	tests := []struct {
		name string
		kind objectKind
		dump string
	}{
		{d, kindDump, d},
		{d + ".json", kindManifest, d},
		{"." + d + ".tmp-1234567", kindTemp, d},
		{"." + d + ".json.tmp-abc", kindTemp, d},
		{".x.tmp-1", kindOther, ""},
		{"README", kindOther, ""},
		{d + ".json.json", kindOther, ""},
		{"." + d + ".tmp-", kindOther, ""},
		{"." + d + ".tmp-../../x", kindOther, ""},
		{d + ".age", kindDump, d + ".age"},
		{d + ".age.json", kindManifest, d + ".age"},
		{"." + d + ".age.tmp-1234567", kindTemp, d + ".age"},
		{"." + d + ".age.json.tmp-abc", kindTemp, d + ".age"},
		{d + ".json.age", kindOther, ""},
	}
	for _, tt := range tests {
		k, dump := classifyName(tt.name)
		if k != tt.kind || dump != tt.dump {
			t.Errorf("classifyName(%q) = %v, %q; want %v, %q", tt.name, k, dump, tt.kind, tt.dump)
		}
	}
}
