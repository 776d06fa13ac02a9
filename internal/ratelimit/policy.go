package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Policy is a rate: Limit requests per Period, with at most Burst passing at
// once (Burst defaults to Limit). Name identifies it in keys and headers.
type Policy struct {
	Name   string
	Limit  int
	Period time.Duration
	Burst  int
}

// MaxPeriod is the longest Period a policy may have.
const MaxPeriod = 7 * 24 * time.Hour

// ParsePolicy reads a policy written as
//
//	N/DURATION            e.g. 300/1m: 300 requests per minute, burst 300
//	N/DURATION burst=B    e.g. 30/1m burst=10: same rate, at most 10 at once
//
// DURATION is a Go duration (500ms, 10s, 1m, 1h30m), or a bare unit meaning
// one of it (s, m, h: 300/m). The burst is separated by spaces, not by ';'
// or ',', because RATE_LIMIT_ROUTES uses those between routes and between a
// route's policies: `POST /ventas/procesar/=user:30/1m burst=10,ip:60/1m`.
// The returned policy has no Name.
func ParsePolicy(s string) (Policy, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return Policy{}, errors.New("empty rate limit policy: want N/DURATION, e.g. 300/1m")
	}
	n, d, ok := strings.Cut(fields[0], "/")
	if !ok {
		return Policy{}, fmt.Errorf("rate limit policy %q: want N/DURATION, e.g. 300/1m", s)
	}
	if strings.ContainsAny(d, ";,") {
		return Policy{}, fmt.Errorf("rate limit policy %q: write the burst after a space, e.g. 30/1m burst=10", s)
	}
	limit, err := strconv.Atoi(n)
	if err != nil || limit < 1 {
		return Policy{}, fmt.Errorf("rate limit policy %q: the count %q is not a whole number ≥ 1", s, n)
	}
	period, err := parsePeriod(d)
	if err != nil {
		return Policy{}, fmt.Errorf("rate limit policy %q: %w", s, err)
	}
	p := Policy{Limit: limit, Period: period, Burst: limit}
	for _, f := range fields[1:] {
		b, ok := strings.CutPrefix(f, "burst=")
		if !ok {
			return Policy{}, fmt.Errorf("rate limit policy %q: unknown option %q (the only one is burst=B)", s, f)
		}
		p.Burst, err = strconv.Atoi(b)
		if err != nil || p.Burst < 1 {
			return Policy{}, fmt.Errorf("rate limit policy %q: the burst %q is not a whole number ≥ 1", s, b)
		}
	}
	if err := p.check(); err != nil {
		return Policy{}, fmt.Errorf("rate limit policy %q: %w", s, err)
	}
	return p, nil
}

func parsePeriod(d string) (time.Duration, error) {
	switch d {
	case "s", "m", "h":
		d = "1" + d
	}
	period, err := time.ParseDuration(d)
	if err != nil || period <= 0 {
		return 0, fmt.Errorf("the duration %q is not a positive duration such as 1s, 1m or 1h", d)
	}
	return period, nil
}

// check reports what makes p unusable, nil when it is fine.
func (p Policy) check() error {
	switch {
	case p.Limit < 1:
		return fmt.Errorf("limit %d: want ≥ 1", p.Limit)
	case p.Burst < 1:
		return fmt.Errorf("burst %d: want ≥ 1", p.Burst)
	case p.Period <= 0 || p.Period > MaxPeriod:
		return fmt.Errorf("period %s: want more than 0 and at most %s", p.Period, MaxPeriod)
	case p.interval() < 1:
		return fmt.Errorf("%d per %s is more than one request per microsecond", p.Limit, p.Period)
	case strings.ContainsAny(p.Name, "{}\"\\") || strings.ContainsFunc(p.Name, func(r rune) bool { return r <= ' ' || r > '~' }):
		return fmt.Errorf("name %q: use printable ASCII without spaces, quotes, backslashes or braces", p.Name)
	}
	return nil
}

// String writes p back in the syntax ParsePolicy reads.
func (p Policy) String() string {
	s := strconv.Itoa(p.Limit) + "/" + p.Period.String()
	if p.Burst != p.Limit {
		s += " burst=" + strconv.Itoa(p.Burst)
	}
	return s
}

// interval is the emission interval T = Period/Limit, in microseconds
// (rounded down): the time one request's worth of budget takes to refill.
func (p Policy) interval() int64 { return p.Period.Microseconds() / int64(p.Limit) }

// capacity is Burst*T in microseconds: how far ahead of now the TAT may run.
func (p Policy) capacity() int64 { return p.interval() * int64(p.Burst) }
