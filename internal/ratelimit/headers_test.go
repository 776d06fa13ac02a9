package ratelimit

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestHeaders(t *testing.T) {
	p := Policy{Name: "ip", Limit: 300, Period: time.Minute, Burst: 300}
	tests := []struct {
		name  string
		p     Policy
		d     Decision
		items map[string]sfItem
		plain map[string]string
	}{
		{
			name: "allowed",
			p:    p,
			d:    Decision{Allowed: true, Remaining: 299, ResetAfter: 200 * time.Millisecond, Limit: 300},
			items: map[string]sfItem{
				"RateLimit-Policy": {"ip", map[string]int64{"q": 300, "w": 60}},
				"RateLimit":        {"ip", map[string]int64{"r": 299, "t": 1}},
			},
			plain: map[string]string{"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299", "X-RateLimit-Reset": "1", "Retry-After": ""},
		},
		{
			name: "refused",
			p:    Policy{Name: "route:POST/ventas/procesar/", Limit: 30, Period: 90 * time.Second, Burst: 10},
			d:    Decision{RetryAfter: 3*time.Second + time.Microsecond, ResetAfter: 30 * time.Second, Limit: 10},
			items: map[string]sfItem{
				"RateLimit-Policy": {"route:POST/ventas/procesar/", map[string]int64{"q": 30, "w": 90}},
				"RateLimit":        {"route:POST/ventas/procesar/", map[string]int64{"r": 0, "t": 30}},
			},
			plain: map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "30", "Retry-After": "4"},
		},
		{
			name: "full budget resets in 0 s",
			p:    p,
			d:    Decision{Allowed: true, Remaining: 300, Limit: 300},
			items: map[string]sfItem{
				"RateLimit": {"ip", map[string]int64{"r": 300, "t": 0}},
			},
			plain: map[string]string{"X-RateLimit-Reset": "0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("Retry-After", "stale")
			Headers(h, tt.p, tt.d)
			for field, want := range tt.items {
				list, err := parseSFList(h.Get(field))
				if err != nil {
					t.Fatalf("%s: %q is not a structured-field list: %v", field, h.Get(field), err)
				}
				if len(list) != 1 || fmt.Sprint(list[0]) != fmt.Sprint(want) {
					t.Fatalf("%s: %q parses as %v, want [%v]", field, h.Get(field), list, want)
				}
			}
			for field, want := range tt.plain {
				if got := h.Get(field); got != want {
					t.Fatalf("%s = %q, want %q", field, got, want)
				}
			}
		})
	}
}

func TestTightest(t *testing.T) {
	ok := func(rem, limit int) Decision { return Decision{Allowed: true, Remaining: rem, Limit: limit} }
	no := func(retry time.Duration) Decision { return Decision{RetryAfter: retry, Limit: 10} }
	tests := []struct {
		name string
		ds   []Decision
		want int
	}{
		{"none", nil, -1},
		{"one", []Decision{ok(5, 10)}, 0},
		{"fewest remaining relative to limit", []Decision{ok(50, 300), ok(5, 10), ok(15, 120)}, 2},
		{"refused beats allowed", []Decision{ok(0, 10), no(time.Second)}, 1},
		{"longest wait among refused", []Decision{no(time.Second), no(5 * time.Second), no(2 * time.Second)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Tightest(tt.ds); got != tt.want {
				t.Fatalf("Tightest = %d, want %d", got, tt.want)
			}
		})
	}
}

// sfItem is a structured-field item whose bare item is a string and whose
// parameters are integers: all the rate limit fields use.
type sfItem struct {
	Value  string
	Params map[string]int64
}

func (i sfItem) String() string {
	keys := make([]string, 0, len(i.Params))
	for k := range i.Params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var sb strings.Builder
	sb.WriteString(strconv.Quote(i.Value))
	for _, k := range keys {
		fmt.Fprintf(&sb, ";%s=%d", k, i.Params[k])
	}
	return sb.String()
}

// parseSFList parses an RFC 8941 List of string Items with integer
// parameters, strictly (anything else is an error).
func parseSFList(s string) ([]sfItem, error) {
	var list []sfItem
	s = strings.TrimLeft(s, " ")
	for {
		var it sfItem
		var err error
		if it.Value, s, err = parseSFString(s); err != nil {
			return nil, err
		}
		it.Params = map[string]int64{}
		for strings.HasPrefix(s, ";") {
			s = strings.TrimLeft(s[1:], " ")
			n := 0
			for n < len(s) && (s[n] >= 'a' && s[n] <= 'z' || s[n] >= '0' && s[n] <= '9' || strings.IndexByte("_-.*", s[n]) >= 0) {
				n++
			}
			if n == 0 || s[0] < 'a' || s[0] > 'z' && s[0] != '*' {
				return nil, fmt.Errorf("bad parameter key at %q", s)
			}
			key := s[:n]
			s = s[n:]
			if !strings.HasPrefix(s, "=") {
				return nil, fmt.Errorf("parameter %s: want an integer value", key)
			}
			s = s[1:]
			m := 0
			if m < len(s) && s[m] == '-' {
				m++
			}
			for m < len(s) && s[m] >= '0' && s[m] <= '9' {
				m++
			}
			if m == 0 || s[:m] == "-" || m > 15 || m < len(s) && s[m] == '.' {
				return nil, fmt.Errorf("parameter %s: %q is not an sf-integer", key, s)
			}
			it.Params[key], _ = strconv.ParseInt(s[:m], 10, 64)
			s = s[m:]
		}
		list = append(list, it)
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return list, nil
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("want ',' between items at %q", s)
		}
		s = strings.TrimLeft(s[1:], " \t")
		if s == "" {
			return nil, fmt.Errorf("trailing comma")
		}
	}
}

func parseSFString(s string) (string, string, error) {
	if !strings.HasPrefix(s, `"`) {
		return "", s, fmt.Errorf("want a string at %q", s)
	}
	var sb strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			if i+1 == len(s) || s[i+1] != '"' && s[i+1] != '\\' {
				return "", s, fmt.Errorf("bad escape in %q", s)
			}
			i++
			sb.WriteByte(s[i])
		case c == '"':
			return sb.String(), s[i+1:], nil
		case c < 0x20 || c > 0x7e:
			return "", s, fmt.Errorf("bad character %q in string", c)
		default:
			sb.WriteByte(c)
		}
	}
	return "", s, fmt.Errorf("unterminated string %q", s)
}
