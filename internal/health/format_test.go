package health

import "testing"

func TestFormatValue(t *testing.T) {
	for _, tt := range []struct {
		v    any
		unit string
		want string
	}{
		{nil, "%", ""},
		{93.5, "%", "93.5 %"},
		{83.456, "%", "83.5 %"},
		{int64(3), "", "3"},
		{0.8734, "", "0.873"},
		{float64(3 << 20), "bytes", "3.0 MiB"},
		{uint64(512), "B", "512 B"},
		{1234.6, "ms", "1235 ms"},
		{"odd", "x", "odd x"},
	} {
		if got := FormatValue(tt.v, tt.unit); got != tt.want {
			t.Errorf("FormatValue(%v, %q) = %q, want %q", tt.v, tt.unit, got, tt.want)
		}
	}
}
