package testenv

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/dunglas/httpsfv"
)

// RateLimitFields are a response's rate limit fields
// (draft-ietf-httpapi-ratelimit-headers-11 and the X-RateLimit-* trio),
// read the way a client must read them: the first two as structured
// fields (RFC 9651).
type RateLimitFields struct {
	// RateLimit-Policy: "<Policy>";q=<Quota>;w=<Window s>
	Policy        string
	Quota, Window int64
	// RateLimit: "<Name>";r=<Remaining>;t=<Reset s>
	Name             string
	Remaining, Reset int64
	// X-RateLimit-Limit, -Remaining, -Reset.
	XLimit, XRemaining, XReset int64
	// RetryAfter is Retry-After in seconds, -1 when absent.
	RetryAfter int64
}

// ParseRateLimit reads h's rate limit fields; any missing or malformed
// one is an error. Each structured field must be a list of one item, a
// string with the draft's integer parameters.
func ParseRateLimit(h http.Header) (RateLimitFields, error) {
	var f RateLimitFields
	var err error
	if f.Policy, err = sfItem(h, "RateLimit-Policy", map[string]*int64{"q": &f.Quota, "w": &f.Window}); err != nil {
		return f, err
	}
	if f.Name, err = sfItem(h, "RateLimit", map[string]*int64{"r": &f.Remaining, "t": &f.Reset}); err != nil {
		return f, err
	}
	for name, dst := range map[string]*int64{"X-RateLimit-Limit": &f.XLimit, "X-RateLimit-Remaining": &f.XRemaining, "X-RateLimit-Reset": &f.XReset} {
		if *dst, err = strconv.ParseInt(h.Get(name), 10, 64); err != nil {
			return f, fmt.Errorf("%s %q: %w", name, h.Get(name), err)
		}
	}
	f.RetryAfter = -1
	if v := h.Values("Retry-After"); len(v) > 0 {
		if len(v) > 1 {
			return f, fmt.Errorf("Retry-After sent %d times", len(v))
		}
		if f.RetryAfter, err = strconv.ParseInt(v[0], 10, 64); err != nil {
			return f, fmt.Errorf("Retry-After %q: %w", v[0], err)
		}
	}
	return f, nil
}

// sfItem parses field as a list of one string item with integer params.
func sfItem(h http.Header, field string, params map[string]*int64) (string, error) {
	list, err := httpsfv.UnmarshalList(h.Values(field))
	if err != nil {
		return "", fmt.Errorf("%s %q: %w", field, h.Values(field), err)
	}
	if len(list) != 1 {
		return "", fmt.Errorf("%s %q: %d members, want 1", field, h.Values(field), len(list))
	}
	item, ok := list[0].(httpsfv.Item)
	if !ok {
		return "", fmt.Errorf("%s %q: not an item", field, h.Values(field))
	}
	name, ok := item.Value.(string)
	if !ok {
		return "", fmt.Errorf("%s %q: the policy name is not a string", field, h.Values(field))
	}
	for k, dst := range params {
		v, ok := item.Params.Get(k)
		n, isInt := v.(int64)
		if !ok || !isInt {
			return "", fmt.Errorf("%s %q: parameter %s is missing or not an integer", field, h.Values(field), k)
		}
		*dst = n
	}
	return name, nil
}
