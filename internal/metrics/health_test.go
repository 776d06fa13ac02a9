package metrics

import (
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/health"
)

func TestHealthCollector(t *testing.T) {
	rep := health.Report{Checks: map[string]health.Result{"queue:memory": {Status: health.Warn}}}
	tests := []struct {
		name string
		last func() (health.Report, bool)
		want map[string]float64
	}{
		{"last round reported", func() (health.Report, bool) { return rep, true }, map[string]float64{"cantina_health_check_status": 1}},
		{"no round yet: nothing", func() (health.Report, bool) { return health.Report{}, false }, map[string]float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := gather(t, &healthCollector{last: tt.last})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) || got["cantina_health_check_status"] != tt.want["cantina_health_check_status"] {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
