package config

import (
	"net/netip"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/ratelimit"
)

func TestRateLimitDefaults(t *testing.T) {
	c := mustLoad(t, withDB(nil))
	r := c.RateLimit
	for _, tt := range []struct {
		name   string
		got    ratelimit.Policy
		limit  int
		policy string
	}{
		{"ip", r.IP, 300, DefaultRateLimitIP},
		{"token", r.Token, 600, DefaultRateLimitToken},
		{"user", r.User, 120, DefaultRateLimitUser},
		{"login", r.Login, 5, DefaultRateLimitLogin},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got.Name != tt.name || tt.got.Limit != tt.limit || tt.got.Burst != tt.limit || tt.got.Period != time.Minute {
				t.Errorf("policy %+v, want %s: %s", tt.got, tt.name, tt.policy)
			}
		})
	}
	if c.POSUpstream != nil {
		t.Errorf("POSUpstream = %v, want none", c.POSUpstream)
	}
	if !r.FailOpen || len(r.Routes) != 0 || r.TrustedProxies.String() != "" || r.SessionCookie != "sessionid" {
		t.Errorf("FailOpen %v, Routes %q, TrustedProxies %q, SessionCookie %q; want true, none, none, sessionid",
			r.FailOpen, r.Routes, r.TrustedProxies, r.SessionCookie)
	}
}

func TestRateLimitSet(t *testing.T) {
	c := mustLoad(t, withDB(map[string]string{
		"RATE_LIMIT_IP":        "100/10s burst=20",
		"RATE_LIMIT_TOKEN":     "1000/h",
		"RATE_LIMIT_USER":      "60/1m",
		"RATE_LIMIT_LOGIN":     "10/15m burst=3",
		"RATE_LIMIT_ROUTES":    "POST /ventas/procesar/=user:30/1m,ip:60/1m;/api/=ip:120/1m",
		"RATE_LIMIT_FAIL_OPEN": "false",
		"TRUSTED_PROXIES":      "10.0.0.0/8, 127.0.0.1",
		"POS_SESSION_COOKIE":   "pos_session",
		"POS_UPSTREAM_URL":     "http://127.0.0.1:8000/pos",
	}))
	if c.POSUpstream == nil || c.POSUpstream.Host != "127.0.0.1:8000" || c.POSUpstream.Path != "/pos" {
		t.Errorf("POSUpstream = %v, want http://127.0.0.1:8000/pos", c.POSUpstream)
	}
	r := c.RateLimit
	if r.IP.Limit != 100 || r.IP.Period != 10*time.Second || r.IP.Burst != 20 || r.Login.Burst != 3 || r.Token.Period != time.Hour {
		t.Errorf("IP %+v, Login %+v, Token %+v", r.IP, r.Login, r.Token)
	}
	if rt, ok := r.Routes.Route("POST", "/ventas/procesar/"); !ok || len(rt.Policies) != 2 || rt.Policies[0].Policy.Limit != 30 {
		t.Errorf("route of POST /ventas/procesar/: %+v %v", rt, ok)
	}
	if r.FailOpen || r.SessionCookie != "pos_session" {
		t.Errorf("FailOpen %v, SessionCookie %q", r.FailOpen, r.SessionCookie)
	}
	if got := ratelimit.ClientIP("10.1.2.3:80", []string{"198.51.100.9"}, r.TrustedProxies); got != netip.MustParseAddr("198.51.100.9") {
		t.Errorf("ClientIP through a trusted proxy = %v", got)
	}
	settings := map[string]string{}
	for _, s := range c.Settings() {
		settings[s.Name] = s.Value
	}
	for name, want := range map[string]string{
		"RATE_LIMIT_IP":        "100/10s burst=20",
		"RATE_LIMIT_TOKEN":     "1000/1h0m0s",
		"RATE_LIMIT_ROUTES":    "POST /ventas/procesar/=user:30/1m0s,ip:60/1m0s;/api/=ip:120/1m0s",
		"RATE_LIMIT_FAIL_OPEN": "false",
		"TRUSTED_PROXIES":      "10.0.0.0/8,127.0.0.1",
		"POS_SESSION_COOKIE":   "pos_session",
		"POS_UPSTREAM_URL":     "http://127.0.0.1:8000/pos",
	} {
		if settings[name] != want {
			t.Errorf("setting %s = %q, want %q", name, settings[name], want)
		}
	}
}

// TestRateLimitErrors: every bad value is a problem naming its variable
// and, in lists, the entry.
func TestRateLimitErrors(t *testing.T) {
	tests := []struct {
		variable, value string
		want            []string // substrings of one problem each
	}{
		{"RATE_LIMIT_IP", "300", []string{`"300": want N/DURATION`}},
		{"RATE_LIMIT_TOKEN", "0/1m", []string{`the count "0"`}},
		{"RATE_LIMIT_USER", "120/1m,burst=5", []string{`write the burst after a space`}},
		{"RATE_LIMIT_LOGIN", "5/fortnight", []string{`the duration "fortnight"`}},
		{"RATE_LIMIT_LOGIN", "5/1m burst=x", []string{`the burst "x"`}},
		{"RATE_LIMIT_ROUTES", "/api/=ip:120/1m;POST ventas=user:1/s;/x/=who:1/s",
			[]string{`route 2 ("POST ventas=user:1/s"): path "ventas"`, `route 3 ("/x/=who:1/s"): policy "who:1/s": counts by "who"`}},
		{"RATE_LIMIT_FAIL_OPEN", "maybe", []string{`maybe`}},
		{"TRUSTED_PROXIES", "10.0.0.0/8,proxy,0.0.0.0/0", []string{`entry 2 ("proxy")`, `entry 3 ("0.0.0.0/0"): trusts every address`}},
		{"POS_SESSION_COOKIE", "session id", []string{`"session id": not a cookie name`}},
		{"POS_UPSTREAM_URL", "pos:8000", []string{`must be the POS's http:// or https:// address`}},
		{"POS_UPSTREAM_URL", "ftp://pos/", []string{`must be the POS's http:// or https:// address`}},
		{"POS_UPSTREAM_URL", "http://admin:hunter2@pos:8000", []string{`must not carry credentials`}},
		{"POS_UPSTREAM_URL", "http://pos:8000/?x=1", []string{`must not have a query or fragment`}},
	}
	for _, tt := range tests {
		t.Run(tt.variable+"="+tt.value, func(t *testing.T) {
			err := loadErr(t, withDB(map[string]string{tt.variable: tt.value}))
			for _, w := range tt.want {
				wantProblem(t, err, tt.variable, w)
			}
			if n := len(problems(err)); n != len(tt.want) {
				t.Errorf("%d problems, want %d:\n%v", n, len(tt.want), err)
			}
			wantOnlyProblemsFor(t, err, tt.variable)
		})
	}
}
