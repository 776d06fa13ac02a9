package ratelimit

import (
	"strings"
	"testing"
	"time"
)

func TestParseRoutes(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string   // String() of the table
		names   []string // policy names, in order
		errText []string // one per bad route, in order
	}{
		{name: "empty", in: "", want: ""},
		{name: "issue example", in: "POST /ventas/procesar/=user:30/1m,ip:60/1m;/api/=ip:120/1m",
			want:  "POST /ventas/procesar/=user:30/1m0s,ip:60/1m0s;/api/=ip:120/1m0s",
			names: []string{"user:POST/ventas/procesar/", "ip:POST/ventas/procesar/", "ip:/api/"}},
		{name: "burst, spaces, trailing ;", in: " POST  /ventas/ = user:30/1m burst=10 , token:5/s ; ",
			want: "POST /ventas/=user:30/1m0s burst=10,token:5/1s", names: []string{"user:POST/ventas/", "token:POST/ventas/"}},
		{name: "same prefix, two methods", in: "GET /x/=ip:1/s;POST /x/=ip:2/s;/x/=ip:3/s",
			want: "GET /x/=ip:1/1s;POST /x/=ip:2/1s;/x/=ip:3/1s"},
		{name: "no =", in: "/api/", errText: []string{`route 1 ("/api/"): no policies`}},
		{name: "nothing after =", in: "/api/=", errText: []string{`route 1 ("/api/="): no policies`}},
		{name: "no slash", in: "api/=ip:1/s", errText: []string{`path "api/": want a path starting with /`}},
		{name: "query", in: "/api/?x=ip:1/s", errText: []string{`without ? or #`}},
		{name: "lower-case method", in: "post /x/=ip:1/s", errText: []string{`method "post": write it in capitals`}},
		{name: "three words", in: "POST /x/ y=ip:1/s", errText: []string{`is not a path or a method and a path`}},
		{name: "unknown subject", in: "/x/=session:1/s", errText: []string{`counts by "session"; want ip, user or token`}},
		{name: "no subject", in: "/x/=1/s", errText: []string{`policy "1/s": want ip|user|token:N/DURATION`}},
		{name: "bad policy", in: "/x/=ip:ten/s", errText: []string{`route 1 ("/x/=ip:ten/s"): rate limit policy "ten/s": the count "ten"`}},
		{name: "burst after ;", in: "/x/=ip:10/s;burst=2", errText: []string{`route 2 ("burst=2")`}},
		{name: "subject twice", in: "/x/=ip:1/s,ip:2/s", errText: []string{`two ip policies`}},
		{name: "route twice", in: "POST /x/=ip:1/s;/y/=ip:1/s;POST /x/=user:1/s", errText: []string{`route 3 ("POST /x/=user:1/s"): POST /x/ appears twice`}},
		{name: "path unfit for a name", in: "/caf\u00e9/=ip:1/s", errText: []string{`path "/café/": name`}},
		{name: "every bad route", in: "/a/=ip:1/s;x;/b/=ip:0/s", errText: []string{`route 2 ("x")`, `route 3 ("/b/=ip:0/s")`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, errs := ParseRoutes(tt.in)
			wantErrors(t, errs, tt.errText)
			if tt.errText != nil {
				return
			}
			if rs.String() != tt.want {
				t.Errorf("String() = %q, want %q", rs.String(), tt.want)
			}
			again, errs := ParseRoutes(rs.String())
			if len(errs) > 0 || again.String() != rs.String() {
				t.Errorf("String() does not parse back: %v %q", errs, again.String())
			}
			var names []string
			for _, r := range rs {
				for _, p := range r.Policies {
					names = append(names, p.Policy.Name)
				}
			}
			if tt.names != nil && strings.Join(names, " ") != strings.Join(tt.names, " ") {
				t.Errorf("names %q, want %q", names, tt.names)
			}
		})
	}
	rs, _ := ParseRoutes("POST /v/=user:30/1m burst=10")
	if p := rs[0].Policies[0]; p.By != ByUser || p.Policy.Limit != 30 || p.Policy.Period != time.Minute || p.Policy.Burst != 10 {
		t.Errorf("parsed %+v, want user 30 per minute, burst 10", p)
	}
}

func TestRoutesRoute(t *testing.T) {
	rs, errs := ParseRoutes("POST /ventas/procesar/=user:30/1m;/ventas/=ip:1/s;/ventas/procesar/=ip:2/s;" +
		"GET /ventas/procesar/=ip:3/s;/api=ip:4/s;/=ip:5/s;DELETE /x/y/=ip:6/s")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	tests := []struct {
		method, path string
		want         string // "" = no route
	}{
		{"POST", "/ventas/procesar/", "POST /ventas/procesar/"},
		{"POST", "/ventas/procesar/42/", "POST /ventas/procesar/"},
		{"GET", "/ventas/procesar/", "GET /ventas/procesar/"},
		{"PUT", "/ventas/procesar/", "/ventas/procesar/"},
		{"POST", "/ventas/", "/ventas/"},
		{"POST", "/ventas/lista/", "/ventas/"},
		{"POST", "/ventas", "/"},
		{"GET", "/api", "/api"},
		{"GET", "/api/v1/tasks/1", "/api"},
		{"GET", "/apix", "/"},
		{"GET", "/x/y/", "/"},
		{"DELETE", "/x/y/z", "DELETE /x/y/"},
		{"GET", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r, ok := rs.Route(tt.method, tt.path)
			got := ""
			if ok {
				got = strings.TrimSpace(r.Method + " " + r.Prefix)
			}
			if got != tt.want {
				t.Errorf("Route = %q, want %q", got, tt.want)
			}
		})
	}
	if _, ok := Routes(nil).Route("GET", "/"); ok {
		t.Error("an empty table has a route")
	}
}
