package demo

import "testing"

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"1048576", 1048576, false},
		{"200MB", 200_000_000, false},
		{"200mb", 200_000_000, false},
		{"1GB", 1_000_000_000, false},
		{"1.5GB", 1_500_000_000, false},
		{"512KiB", 512 << 10, false},
		{"2MiB", 2 << 20, false},
		{"1GiB", 1 << 30, false},
		{"16M", 16 << 20, false},
		{"100 B", 100, false},
		{" 50 MB ", 50_000_000, false},
		{"1TB", 1_000_000_000_000, false},
		{"", 0, true},
		{"MB", 0, true},
		{"0", 0, true},
		{"-5MB", 0, true},
		{"10XB", 0, true},
		{"1.2.3MB", 0, true},
		{"9999999TiB", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseSize(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseSize(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}
