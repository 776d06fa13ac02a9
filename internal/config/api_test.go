package config

import (
	"strings"
	"testing"
)

func TestAPITokens(t *testing.T) {
	const tokA, tokB = "tok-aaaaaaaaaaaaaaaa", "tok-bbbbbbbbbbbb:bb" // a token may hold ':'
	tests := []struct {
		name    string
		value   string
		want    []string // names
		errText []string
	}{
		{name: "unset"},
		{name: "two", value: "pos:" + tokA + ", ci.job-1:" + tokB, want: []string{"pos", "ci.job-1"}},
		{name: "trailing comma", value: "pos:" + tokA + ",", want: []string{"pos"}},
		{name: "no colon", value: tokA, errText: []string{"entry 1 is not name:token"}},
		{name: "bad name", value: "p os:" + tokA, errText: []string{"entry 1: the name must be"}},
		{name: "duplicate", value: "pos:" + tokA + ",pos:" + tokB, errText: []string{`entry 2: the name "pos" is used twice`}},
		{name: "short", value: "pos:short-token", errText: []string{"entry 1 (pos): the token must be at least 16"}},
		{name: "space", value: "pos:tok aaaaaaaaaaaaaaaaaaa", errText: []string{"without spaces"}},
		{name: "all at once", value: tokA + ",pos:x,pos:" + tokA + ",pos:" + tokB,
			errText: []string{"entry 1 is not", "entry 2 (pos): the token", "entry 4: the name \"pos\" is used twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := withDB(map[string]string{"API_TOKENS": tt.value})
			if tt.errText != nil {
				err := loadErr(t, env)
				for _, w := range tt.errText {
					wantProblem(t, err, "API_TOKENS", w)
				}
				wantOnlyProblemsFor(t, err, "API_TOKENS")
				for _, secret := range []string{tokA, tokB, "short-token", "tok aaaa"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("the error quotes a token: %v", err)
					}
				}
				return
			}
			c := mustLoad(t, env)
			var names []string
			for _, tok := range c.APITokens {
				names = append(names, tok.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Errorf("names %q, want %q", names, tt.want)
			}
		})
	}
}

func TestAPITokensRedacted(t *testing.T) {
	const tok = "s3cr3t-t0ken-0123456789"
	c := mustLoad(t, withDB(map[string]string{"API_TOKENS": "pos:" + tok}))
	var setting string
	for _, s := range c.Settings() {
		if s.Name == "API_TOKENS" {
			setting = s.Value
		}
	}
	if setting != "pos:[REDACTED]" {
		t.Errorf("API_TOKENS prints as %q, want pos:[REDACTED]", setting)
	}
	if got := c.Secrets().Redact("Authorization: Bearer " + tok + " from pos"); got != "Authorization: Bearer [REDACTED] from pos" {
		t.Errorf("Secrets().Redact = %q", got)
	}
}
