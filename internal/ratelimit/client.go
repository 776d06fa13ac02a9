package ratelimit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Trust is the set of proxies whose X-Forwarded-For is believed
// (TRUSTED_PROXIES): address ranges, and with Heroku the socket's peer
// whatever its address. The zero Trust believes no one.
type Trust struct {
	prefixes []netip.Prefix
	// heroku: the socket's peer is the platform router, trusted whatever
	// its address (Heroku's routers have no published ranges).
	heroku bool
}

// TrustHeroku is the TRUSTED_PROXIES entry for "the single hop of Heroku's
// router", whatever its address.
const TrustHeroku = "heroku"

// ParseTrust reads TRUSTED_PROXIES: comma-separated CIDRs (10.0.0.0/8,
// fd00::/8) or bare addresses (127.0.0.1, ::1), and/or the word heroku.
// Empty entries are skipped. It returns every bad entry, each named by its
// position and text. Ranges that would trust every address (0.0.0.0/0,
// ::/0) are refused: they let any client choose its address by sending
// X-Forwarded-For.
func ParseTrust(s string) (Trust, []error) {
	var t Trust
	var errs []error
	for i, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("entry %d (%q): %s", i+1, e, fmt.Sprintf(format, args...)))
		}
		if strings.EqualFold(e, TrustHeroku) {
			t.heroku = true
			continue
		}
		var pfx netip.Prefix
		if strings.Contains(e, "/") {
			p, err := netip.ParsePrefix(e)
			if err != nil {
				bad("not a CIDR such as 10.0.0.0/8 or fd00::/8")
				continue
			}
			if p != p.Masked() {
				bad("host bits are set; did you mean %s?", p.Masked())
				continue
			}
			pfx = p
		} else {
			a, err := netip.ParseAddr(e)
			if err != nil || a.Zone() != "" {
				bad("not an IP address, a CIDR or %s", TrustHeroku)
				continue
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		switch {
		case pfx.Addr().Is4In6():
			bad("write IPv4 addresses as IPv4 (clients are compared unmapped)")
		case pfx.Bits() == 0:
			bad("trusts every address, so any client could choose its address; list your proxies' addresses")
		default:
			t.prefixes = append(t.prefixes, pfx)
		}
	}
	return t, errs
}

// String is the trust as TRUSTED_PROXIES takes it.
func (t Trust) String() string {
	var parts []string
	if t.heroku {
		parts = append(parts, TrustHeroku)
	}
	for _, p := range t.prefixes {
		if p.IsSingleIP() {
			parts = append(parts, p.Addr().String())
		} else {
			parts = append(parts, p.String())
		}
	}
	return strings.Join(parts, ",")
}

// trusts reports whether a is one of t's ranges.
func (t Trust) trusts(a netip.Addr) bool {
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP is the address of the client behind a request that reached us
// from remoteAddr (http.Request.RemoteAddr, "ip:port" or a bare IP) with
// the X-Forwarded-For header values xff (r.Header.Values, each possibly a
// comma-separated list; all of them read as one list, in order).
//
// When the socket's peer is not trusted, the answer is the peer and xff is
// ignored: anyone can write the header. When it is (one of the trusted
// ranges, or any peer with heroku), xff is walked from the right, the entry
// each proxy appended for the hop before it: trusted entries are skipped,
// and the first untrusted one is the client. Entries may carry a port
// (1.2.3.4:5678, [2001:db8::1]:5678). A malformed entry (empty, "unknown",
// garbage) stops the walk, and the last good hop, the trusted proxy that
// passed it on, is the answer: whatever is left of a malformed entry was
// written by someone we cannot tell from the client, and keying on the
// proxy is never a fresh budget a client could mint. The same holds when
// every entry is trusted: the left-most one is the answer.
//
// IPv4-mapped IPv6 addresses are returned as IPv4, zones dropped. The zero
// Addr means remoteAddr is not an address (a Unix socket).
func ClientIP(remoteAddr string, xff []string, trusted Trust) netip.Addr {
	hop, ok := parseHop(remoteAddr)
	if !ok {
		return netip.Addr{}
	}
	if !trusted.trustsPeer(hop) {
		return hop
	}
	list := strings.Join(xff, ",")
	if strings.TrimSpace(list) == "" {
		return hop
	}
	for {
		i := strings.LastIndexByte(list, ',')
		prev, ok := parseHop(strings.TrimSpace(list[i+1:]))
		if !ok {
			return hop
		}
		hop = prev
		if !trusted.trusts(hop) || i < 0 {
			return hop
		}
		list = list[:i]
	}
}

// parseHop reads an address as RemoteAddr and X-Forwarded-For write it:
// a bare IP, ip:port or [ipv6]:port; unmapped, without zone.
func parseHop(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		host, _, splitErr := net.SplitHostPort(s)
		if splitErr != nil {
			return netip.Addr{}, false
		}
		if a, err = netip.ParseAddr(host); err != nil {
			return netip.Addr{}, false
		}
	}
	return a.Unmap().WithZone(""), true
}

// UnknownClient is the subject of requests whose address is unknown (the
// zero Addr from ClientIP): they share one budget.
const UnknownClient = "unknown"

// Subject is the rate-limit subject of a client address: an IPv4 address
// as is, an IPv6 address as its /64 (2001:db8:1:2::/64), because one
// customer line gets a whole /64 and picks addresses in it at will.
// IPv4-mapped IPv6 counts as IPv4.
func Subject(ip netip.Addr) string {
	if !ip.IsValid() {
		return UnknownClient
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.Prefix(64) // cannot fail: ip is a valid IPv6 address without zone
	return p.String()
}

// DefaultSessionCookie is the Django session cookie's default name
// (SESSION_COOKIE_NAME, our POS_SESSION_COOKIE).
const DefaultSessionCookie = "sessionid"

// ErrBadCookieName is returned by CheckCookieName.
var ErrBadCookieName = errors.New("not a cookie name")

// CheckCookieName reports whether name can be a cookie's name (an RFC 6265
// token: printable ASCII without separators).
func CheckCookieName(name string) error {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool {
		return r <= ' ' || r > '~' || strings.ContainsRune(`()<>@,;:\"/[]?={}`, r)
	}) {
		return fmt.Errorf("%q: %w (letters, digits and !#$%%&'*+-.^_`|~, e.g. %s)", name, ErrBadCookieName, DefaultSessionCookie)
	}
	return nil
}

// UserSubject is the per-user subject of a request to the POS: a hash of
// its Django session cookie's value, or else of its Authorization header,
// never the clear value; "" when the request has neither (no user policy
// applies). Exactly:
//
//	"session:" + hex(SHA-256(cookie value))[:32]
//	"auth:"    + hex(SHA-256(Authorization header))[:32]
//
// which the Django decorator computes the same way, so both share a budget.
// The prefixes keep a cookie and a header with the same text apart.
func UserSubject(cookieValue, authorization string) string {
	switch {
	case cookieValue != "":
		return "session:" + hash32(cookieValue)
	case authorization != "":
		return "auth:" + hash32(authorization)
	}
	return ""
}

// hash32 is the first 16 bytes of SHA-256(s), in hex.
func hash32(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// TrustsPeer reports whether the socket's peer remoteAddr is a proxy whose
// X-Forwarded-For t believes (with heroku, any peer).
func (t Trust) TrustsPeer(remoteAddr string) bool {
	hop, ok := parseHop(remoteAddr)
	return ok && t.trustsPeer(hop)
}

// trustsPeer reports whether a socket peer at a is believed.
func (t Trust) trustsPeer(a netip.Addr) bool { return t.heroku || t.trusts(a) }
