package ratelimit

import (
	"strings"
	"testing"
	"time"
)

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		in   string
		want Policy
	}{
		{"300/1m", Policy{Limit: 300, Period: time.Minute, Burst: 300}},
		{"30/1m burst=10", Policy{Limit: 30, Period: time.Minute, Burst: 10}},
		{"  5/m  ", Policy{Limit: 5, Period: time.Minute, Burst: 5}},
		{"120/1h30m burst=200", Policy{Limit: 120, Period: 90 * time.Minute, Burst: 200}},
		{"10/500ms", Policy{Limit: 10, Period: 500 * time.Millisecond, Burst: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePolicy(tt.in)
			if err != nil {
				t.Fatalf("ParsePolicy(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParsePolicy(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			again, err := ParsePolicy(got.String())
			if err != nil || again != got {
				t.Fatalf("ParsePolicy(%q.String() = %q) = %+v, %v; want the same policy", tt.in, got.String(), again, err)
			}
		})
	}
}

func TestParsePolicyErrors(t *testing.T) {
	tests := []struct{ in, says string }{
		{"", "empty"},
		{"300", "want N/DURATION"},
		{"0/1m", "count \"0\""},
		{"x/1m", "count \"x\""},
		{"300/", "duration \"\""},
		{"300/-1m", "duration \"-1m\""},
		{"300/1y", "duration \"1y\""},
		{"30/1m;burst=10", "after a space"},
		{"30/1m,burst=10", "after a space"},
		{"30/1m burst=0", "burst \"0\""},
		{"30/1m rate=1", "unknown option"},
		{"2000000/1s", "more than one request per microsecond"},
		{"1/200h", "period 200h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParsePolicy(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("ParsePolicy(%q) error = %v, want one saying %q", tt.in, err, tt.says)
			}
		})
	}
}

func TestPolicyCheckName(t *testing.T) {
	for _, name := range []string{"ip", "route:POST/ventas/procesar/", "login-user"} {
		if err := (Policy{Name: name, Limit: 1, Period: time.Second, Burst: 1}).check(); err != nil {
			t.Errorf("name %q: %v", name, err)
		}
	}
	for _, name := range []string{"a}b", "a{", "with space", `q"uote`, "é"} {
		if err := (Policy{Name: name, Limit: 1, Period: time.Second, Burst: 1}).check(); err == nil {
			t.Errorf("name %q accepted, want an error (it would break the key's hash tag or the header)", name)
		}
	}
}
