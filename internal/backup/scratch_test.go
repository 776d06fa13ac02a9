package backup

import (
	"strings"
	"testing"
	"time"
)

func TestScratchName(t *testing.T) {
	at := time.Date(2025, 6, 15, 2, 3, 4, 0, time.FixedZone("CEST", 2*3600))
	for _, tt := range []struct{ name, database, prefix string }{
		{"plain", "cantina", "cantina_drill_cantina_20250615000304_"},
		{"odd characters", "my db.x", "cantina_drill_my_db_x_20250615000304_"},
		{"long", strings.Repeat("a", 64), "cantina_drill_" + strings.Repeat("a", scratchMaxDBPrefix) + "_20250615000304_"},
		{"digits and underscores", "pos_2025_01", "cantina_drill_pos_2025_01_20250615000304_"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := scratchName(tt.database, at)
			if !strings.HasPrefix(n, tt.prefix) || len(n) != len(tt.prefix)+8 || len(n) > 64 {
				t.Fatalf("scratchName = %q (%d characters), want %s<8 hex>", n, len(n), tt.prefix)
			}
			if got, ok := scratchTime(n); !ok || !got.Equal(at) {
				t.Errorf("scratchTime(%q) = %v, %v; want %v", n, got, ok, at.UTC())
			}
		})
	}
	for _, n := range []string{"cantina", "cantina_verify_0badcafe", "cantina_drill_x", "cantina_drill_x_20250615000304_0BADCAFE", "cantina_drill_x_2025061500030_0badcafe", "xcantina_drill_x_20250615000304_0badcafe"} {
		if _, ok := scratchTime(n); ok {
			t.Errorf("scratchTime(%q) takes it for a drill's", n)
		}
	}
}

func TestRawBound(t *testing.T) {
	for _, tt := range []struct {
		name       string
		man        *Manifest
		compressed int64
		want       int64
	}{
		{"manifest", &Manifest{RawBytes: 1024}, 1 << 30, 1024},
		{"no manifest", nil, 10 << 20, 1000<<20 + 64<<20},
		{"no manifest, tiny file", nil, 100, 10000 + 64<<20},
		{"no manifest, size unknown", nil, -1, 64 << 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := rawBound(tt.man, tt.compressed); got != tt.want {
				t.Errorf("rawBound = %d, want %d", got, tt.want)
			}
		})
	}
}
