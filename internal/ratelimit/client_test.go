package ratelimit

import (
	"net/netip"
	"strings"
	"testing"
)

func mustTrust(t *testing.T, s string) Trust {
	t.Helper()
	tr, errs := ParseTrust(s)
	if len(errs) > 0 {
		t.Fatalf("ParseTrust(%q): %v", s, errs)
	}
	return tr
}

// wantErrors fails unless errs are one per want, in order, each containing
// its want.
func wantErrors(t *testing.T, errs []error, want []string) {
	t.Helper()
	if len(errs) != len(want) {
		t.Fatalf("errors %v, want %d containing %q", errs, len(want), want)
	}
	for i, e := range errs {
		if !strings.Contains(e.Error(), want[i]) {
			t.Errorf("error %d %q, want it to contain %q", i, e, want[i])
		}
	}
}

func TestParseTrust(t *testing.T) {
	tests := []struct {
		in      string
		want    string   // String() of the result
		errText []string // one per bad entry, in order
	}{
		{in: "", want: ""},
		{in: "10.0.0.0/8, 127.0.0.1 ,::1,fd00::/8,", want: "10.0.0.0/8,127.0.0.1,::1,fd00::/8"},
		{in: "HEROKU", want: "heroku"},
		{in: "heroku,10.1.2.0/24", want: "heroku,10.1.2.0/24"},
		{in: "10.0.0.1/8", errText: []string{`entry 1 ("10.0.0.1/8"): host bits are set; did you mean 10.0.0.0/8?`}},
		{in: "proxy.internal", errText: []string{`entry 1 ("proxy.internal"): not an IP address, a CIDR or heroku`}},
		{in: "10.0.0.0/33", errText: []string{`entry 1 ("10.0.0.0/33"): not a CIDR`}},
		{in: "fe80::1%eth0", errText: []string{`entry 1 ("fe80::1%eth0"): not an IP address`}},
		{in: "::ffff:10.0.0.1", errText: []string{`write IPv4 addresses as IPv4`}},
		{in: "0.0.0.0/0", errText: []string{`entry 1 ("0.0.0.0/0"): trusts every address`}},
		{in: "127.0.0.1,::/0,x", errText: []string{`entry 2 ("::/0"): trusts every address`, `entry 3 ("x")`}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			tr, errs := ParseTrust(tt.in)
			wantErrors(t, errs, tt.errText)
			if tt.errText == nil && tr.String() != tt.want {
				t.Errorf("String() = %q, want %q", tr.String(), tt.want)
			}
		})
	}
}

func TestClientIP(t *testing.T) {
	const proxies = "10.0.0.0/8,192.168.1.1,fd00::/8"
	tests := []struct {
		name   string
		remote string
		xff    []string
		trust  string
		want   string // "" = the zero Addr
	}{
		{name: "direct, no header", remote: "203.0.113.7:51234", trust: proxies, want: "203.0.113.7"},
		{name: "spoofed XFF from an untrusted hop is ignored", remote: "203.0.113.7:51234", xff: []string{"1.2.3.4"}, trust: proxies, want: "203.0.113.7"},
		{name: "spoofed XFF ignored when nothing is trusted", remote: "10.0.0.5:80", xff: []string{"1.2.3.4"}, trust: "", want: "10.0.0.5"},
		{name: "trusted proxy: its entry is used", remote: "10.0.0.5:80", xff: []string{"198.51.100.9"}, trust: proxies, want: "198.51.100.9"},
		{name: "trusted proxy: client's own spoofed entries left of it are ignored", remote: "10.0.0.5:80", xff: []string{"6.6.6.6, 7.7.7.7, 198.51.100.9"}, trust: proxies, want: "198.51.100.9"},
		{name: "chain of trusted proxies", remote: "10.0.0.5:80", xff: []string{"6.6.6.6, 198.51.100.9, 192.168.1.1, 10.9.9.9"}, trust: proxies, want: "198.51.100.9"},
		{name: "chain split over several header lines", remote: "10.0.0.5:80", xff: []string{"6.6.6.6, 198.51.100.9", "192.168.1.1", "10.9.9.9"}, trust: proxies, want: "198.51.100.9"},
		{name: "every entry trusted: the left-most", remote: "10.0.0.5:80", xff: []string{"10.1.1.1, 192.168.1.1"}, trust: proxies, want: "10.1.1.1"},
		{name: "trusted proxy, no header: the proxy", remote: "10.0.0.5:80", trust: proxies, want: "10.0.0.5"},
		{name: "trusted proxy, blank header: the proxy", remote: "10.0.0.5:80", xff: []string{" "}, trust: proxies, want: "10.0.0.5"},
		{name: "entries with ports", remote: "10.0.0.5:80", xff: []string{"[2001:db8::1]:4711, 10.2.2.2:443"}, trust: proxies, want: "2001:db8::1"},
		{name: "malformed right-most entry: the socket hop", remote: "10.0.0.5:80", xff: []string{"198.51.100.9, unknown"}, trust: proxies, want: "10.0.0.5"},
		{name: "malformed entry behind a trusted one: that trusted hop", remote: "10.0.0.5:80", xff: []string{"garbage, 10.3.3.3"}, trust: proxies, want: "10.3.3.3"},
		{name: "empty entry stops the walk", remote: "10.0.0.5:80", xff: []string{"198.51.100.9,,10.3.3.3"}, trust: proxies, want: "10.3.3.3"},
		{name: "malformed entry left of the client does not matter", remote: "10.0.0.5:80", xff: []string{"garbage, 198.51.100.9"}, trust: proxies, want: "198.51.100.9"},
		{name: "heroku: the router's entry whatever its address", remote: "54.1.2.3:80", xff: []string{"6.6.6.6, 198.51.100.9"}, trust: "heroku", want: "198.51.100.9"},
		{name: "heroku trusts one hop only", remote: "54.1.2.3:80", xff: []string{"198.51.100.9, 10.3.3.3"}, trust: "heroku", want: "10.3.3.3"},
		{name: "heroku with a CDN's range in front", remote: "54.1.2.3:80", xff: []string{"198.51.100.9, 10.3.3.3"}, trust: "heroku,10.0.0.0/8", want: "198.51.100.9"},
		{name: "heroku, no header: the router", remote: "54.1.2.3:80", trust: "heroku", want: "54.1.2.3"},
		{name: "IPv6 socket", remote: "[2001:db8::7]:443", trust: proxies, want: "2001:db8::7"},
		{name: "IPv6 trusted proxy", remote: "[fd00::1]:443", xff: []string{"2001:db8::7"}, trust: proxies, want: "2001:db8::7"},
		{name: "IPv4-mapped socket is IPv4 and trusted as such", remote: "[::ffff:10.0.0.5]:80", xff: []string{"198.51.100.9"}, trust: proxies, want: "198.51.100.9"},
		{name: "IPv4-mapped entry is IPv4", remote: "10.0.0.5:80", xff: []string{"::ffff:198.51.100.9"}, trust: proxies, want: "198.51.100.9"},
		{name: "zone dropped", remote: "[fe80::1%eth0]:80", trust: proxies, want: "fe80::1"},
		{name: "bare remote address", remote: "203.0.113.7", trust: proxies, want: "203.0.113.7"},
		{name: "unix socket: zero", remote: "@", xff: []string{"1.2.3.4"}, trust: proxies, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ClientIP(tt.remote, tt.xff, mustTrust(t, tt.trust))
			want := netip.Addr{}
			if tt.want != "" {
				want = netip.MustParseAddr(tt.want)
			}
			if got != want {
				t.Errorf("ClientIP(%q, %q, %q) = %v, want %v", tt.remote, tt.xff, tt.trust, got, want)
			}
		})
	}
}

func TestSubject(t *testing.T) {
	tests := []struct{ ip, want string }{
		{"198.51.100.9", "198.51.100.9"},
		{"::ffff:198.51.100.9", "198.51.100.9"},
		{"2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"", UnknownClient},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			var ip netip.Addr
			if tt.ip != "" {
				ip = netip.MustParseAddr(tt.ip)
			}
			if got := Subject(ip); got != tt.want {
				t.Errorf("Subject(%v) = %q, want %q", ip, got, tt.want)
			}
		})
	}
}

func TestUserSubject(t *testing.T) {
	const cookie, auth = "k2l3m4n5o6p7q8r9s0t1u2v3w4x5y6z7", "Bearer s3cr3t-t0ken"
	tests := []struct {
		name, cookie, auth, wantPrefix string
	}{
		{name: "neither", wantPrefix: ""},
		{name: "cookie", cookie: cookie, wantPrefix: "session:"},
		{name: "cookie wins over header", cookie: cookie, auth: auth, wantPrefix: "session:"},
		{name: "header", auth: auth, wantPrefix: "auth:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := UserSubject(tt.cookie, tt.auth)
			if tt.wantPrefix == "" {
				if got != "" {
					t.Fatalf("UserSubject = %q, want \"\"", got)
				}
				return
			}
			hash, ok := strings.CutPrefix(got, tt.wantPrefix)
			if !ok || len(hash) != 32 || strings.Trim(hash, "0123456789abcdef") != "" {
				t.Fatalf("UserSubject = %q, want %s<32 hex digits>", got, tt.wantPrefix)
			}
			for _, clear := range []string{cookie, "s3cr3t", "Bearer"} {
				if strings.Contains(got, clear) {
					t.Errorf("UserSubject = %q holds %q in clear", got, clear)
				}
			}
		})
	}
	// The Django decorator computes the same subject: pin the formula
	// (sha256("abc") = ba7816bf8f01cfea414140de5dae2223…).
	if got := UserSubject("abc", ""); got != "session:ba7816bf8f01cfea414140de5dae2223" {
		t.Errorf(`UserSubject("abc", "") = %q`, got)
	}
	if UserSubject("x", "") == UserSubject("y", "") || UserSubject("x", "") == UserSubject("", "x") {
		t.Error("different cookies, or a cookie and a header with the same text, share a subject")
	}
}

func TestCheckCookieName(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"sessionid", true}, {"pos_session", true}, {"__Host-sid", true},
		{"", false}, {"session id", false}, {"sid;x", false}, {"séance", false}, {"a=b", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckCookieName(tt.name); (err == nil) != tt.ok {
				t.Errorf("CheckCookieName(%q) = %v, want ok %v", tt.name, err, tt.ok)
			}
		})
	}
}
