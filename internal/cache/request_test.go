package cache

import (
	"errors"
	"strings"
	"testing"
)

func TestKeyspace(t *testing.T) {
	tests := []struct {
		name             string
		ks               Keyspace
		logical          string
		key, pattern, tg string
	}{
		{"django default", Keyspace{Version: 1}, "productos:*", ":1:productos:*", `:1:productos:*`, ":1:cantina_ops:tag:productos:*"},
		{"prefix", Keyspace{Prefix: "pos", Version: 3}, "p?", "pos:3:p?", "pos:3:p?", "pos:3:cantina_ops:tag:p?"},
		{"glob prefix escaped", Keyspace{Prefix: `a*b?[c]\`, Version: 2}, "x*", `a*b?[c]\:2:x*`, `a\*b\?\[c\]\\:2:x*`, `a*b?[c]\:2:cantina_ops:tag:x*`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ks.Key(tt.logical); got != tt.key {
				t.Errorf("Key = %q, want %q", got, tt.key)
			}
			got, err := tt.ks.Pattern(tt.logical)
			if err != nil || got != tt.pattern {
				t.Errorf("Pattern = %q, %v; want %q", got, err, tt.pattern)
			}
			if got := tt.ks.TagSet(tt.logical); got != tt.tg {
				t.Errorf("TagSet = %q, want %q", got, tt.tg)
			}
			// The escaped pattern matches the real key of the pattern's
			// own text taken literally only through its logical globs.
			g, _ := parseGlob(tt.pattern)
			if !g.matchString(tt.ks.Key(strings.NewReplacer("*", "zz", "?", "q").Replace(tt.logical))) {
				t.Errorf("%q does not match its own keyspace", tt.pattern)
			}
		})
	}
	if _, err := (Keyspace{Version: 1}).Pattern("a[b"); err == nil {
		t.Error("Pattern accepted an unclosed [")
	}
}

// matchString is a reference matcher for tests: a string matches if the
// automaton ends in the accepting state.
func (g glob) matchString(s string) bool {
	states := g.closure(map[int]bool{0: true})
	for i := 0; i < len(s); i++ {
		next := map[int]bool{}
		for st := range states {
			if st < len(g) && g[st].matches(s[i]) {
				if g[st].kind == globAnySeq {
					next[st] = true
				} else {
					next[st+1] = true
				}
			}
		}
		states = g.closure(next)
	}
	return states[len(g)]
}

func TestMayMatchPrefix(t *testing.T) {
	tests := []struct {
		pattern string
		want    bool
	}{
		{"*", true}, {"a*", true}, {"as*", true}, {"asynq:*", true}, {"asynq:{default}:t:*", true},
		{"?*", true}, {"[a-z]*", true}, {"[^b]*", true}, {"?sy*", true}, {"asynq", false}, {"asynq:", true},
		{"a", false}, {"b*", false}, {"[b-z]*", false}, {"[^a]*", false}, {"asynq[]*", false},
		{":1:*", false}, {"asynq-*", false}, {`asyn\q:*`, true}, {"asy?q*", true}, {"*:*", true},
		{"as[xz]nq*", false}, {"as[xy]nq*", true}, {"as[x-z]*", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			g, err := parseGlob(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := g.mayMatchPrefix("asynq:"); got != tt.want {
				t.Errorf("mayMatchPrefix(asynq:) = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	def := Keyspace{Version: 1}
	asynqPrefix := Keyspace{Prefix: "asynq", Version: 1}
	many := make([]string, MaxSelectors+1)
	for i := range many {
		many[i] = "k"
	}
	tests := []struct {
		name   string
		ks     Keyspace
		shared bool
		r      Request
		want   []string // substrings of the problems, in order; nil: valid
	}{
		{"keys", def, true, Request{Keys: []string{"productos:1"}}, nil},
		{"pattern", def, true, Request{Patterns: []string{"productos:*"}}, nil},
		{"tag", def, true, Request{Tags: []string{"categoria:5"}}, nil},
		{"empty request", def, false, Request{}, []string{"nothing to invalidate"}},
		{"too many", def, false, Request{Keys: many}, []string{"1001 selectors"}},
		{"exactly the limit", def, false, Request{Keys: many[:MaxSelectors]}, nil},
		{"empty selectors", def, false, Request{Keys: []string{""}, Patterns: []string{""}, Tags: []string{""}},
			[]string{"keys[0] is empty", "patterns[0] is empty", "tags[0] is empty"}},
		{"star", def, false, Request{Patterns: []string{"*"}}, []string{"whole cache"}},
		{"wide logical", def, false, Request{Patterns: []string{"?*", "**", "[a-z]*", "[a-z]*?", "*:5"}},
			[]string{"patterns[0]", "patterns[1]", "patterns[2]", "patterns[3]", "patterns[4]"}},
		{"malformed", def, false, Request{Patterns: []string{"a[b", `a\`}}, []string{"unclosed", "lone"}},
		{"raw wide", def, false, Request{Raw: true, Patterns: []string{"*", ":*", ":1:*", ":1:?x"}},
			[]string{"patterns[0]", "patterns[1]", "patterns[2]", "patterns[3]"}},
		{"raw narrow not shared", def, false, Request{Raw: true, Patterns: []string{":1:p*", "sess*", "a*"}, Keys: []string{"asynq:queues"}}, nil},
		{"raw queue keys shared", def, true, Request{Raw: true, Keys: []string{"asynq:queues", "cantina:scheduler:leader", "x"}},
			[]string{"keys[0]", "keys[1]"}},
		{"raw queue patterns shared", def, true, Request{Raw: true, Patterns: []string{"a*", "as*", "[a-z]x*", "?s*", "c*", "asynq:{default}:*", "b*", ":1:a*"}},
			[]string{"patterns[0]", "patterns[1]", "patterns[2]", "patterns[3]", "patterns[4]", "patterns[5]"}},
		{"logical patterns shared, default prefix", def, true, Request{Patterns: []string{"asynq:*", "a*", "cantina:*"}}, nil},
		{"prefix asynq shared", asynqPrefix, true, Request{Patterns: []string{"productos:*"}, Keys: []string{"x"}},
			[]string{"keys[0]", "patterns[0]"}},
		{"prefix asynq not shared", asynqPrefix, false, Request{Patterns: []string{"productos:*"}, Keys: []string{"x"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate(tt.ks, tt.shared)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v, want valid", err)
				}
				return
			}
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("Validate = %v, want a *RequestError", err)
			}
			if len(re.Problems) != len(tt.want) {
				t.Fatalf("problems %q, want %d matching %q", re.Problems, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(re.Problems[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, re.Problems[i], w)
				}
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	a := Request{Keys: []string{"b", "a", "b"}, Patterns: []string{"p*"}, Raw: true}.Normalize()
	b := Request{Keys: []string{"a", "b"}, Patterns: []string{"p*", "p*"}, Raw: true}.Normalize()
	if strings.Join(a.Keys, ",") != "a,b" || strings.Join(b.Keys, ",") != "a,b" || len(a.Patterns) != 1 || len(b.Patterns) != 1 {
		t.Errorf("Normalize: %+v and %+v", a, b)
	}
}
