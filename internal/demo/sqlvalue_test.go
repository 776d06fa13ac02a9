package demo

import (
	"testing"
	"time"
)

func TestAppendString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `''`},
		{"plain", `'plain'`},
		{"it's", `'it\'s'`},
		{`back\slash`, `'back\\slash'`},
		{"a\x00b", `'a\0b'`},
		{"l1\nl2\r\n", `'l1\nl2\r\n'`},
		{"ctrl\x1az", `'ctrl\Zz'`},
		{`"double"`, `'"double"'`},
		{"tab\there", "'tab\there'"},
		{"ñá€😀", "'ñá€😀'"},
	}
	for _, tt := range tests {
		if got := string(appendString(nil, tt.in)); got != tt.want {
			t.Errorf("appendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestAppendBlob(t *testing.T) {
	tests := []struct {
		in   []byte
		want string
	}{
		{[]byte{}, `X''`},
		{[]byte{0x00, 0x0f, 0xab, 0xff}, `X'000FABFF'`},
	}
	for _, tt := range tests {
		if got := string(appendBlob(nil, tt.in)); got != tt.want {
			t.Errorf("appendBlob(%x) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestAppendCents(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0.00"},
		{5, "0.05"},
		{120, "1.20"},
		{123456, "1234.56"},
		{-1, "-0.01"},
		{-2050, "-20.50"},
	}
	for _, tt := range tests {
		if got := string(appendCents(nil, tt.in)); got != tt.want {
			t.Errorf("appendCents(%d) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestAppendTime(t *testing.T) {
	in := time.Date(2024, 9, 9, 7, 45, 3, 120_000, time.UTC)
	if got, want := string(appendTime(nil, in)), `'2024-09-09 07:45:03.000120'`; got != want {
		t.Errorf("appendTime = %s, want %s", got, want)
	}
}
