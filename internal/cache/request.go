package cache

import (
	"fmt"
	"slices"
	"strings"
)

// MaxSelectors bounds the keys, patterns and tags of one request together.
const MaxSelectors = 1000

// QueueKeyPrefixes are the prefixes of the keys the job queue and
// cantina-ops itself keep in the queue Redis (asynq's, the scheduler lease,
// health rounds, metrics). When the cache Redis is the queue Redis, no
// selector may reach them.
var QueueKeyPrefixes = []string{"asynq:", "cantina:"}

// Request says which cache entries are stale: exact keys, glob patterns
// (Redis MATCH syntax) and tags. Keys and patterns are logical (Django's
// key, before KEY_PREFIX and VERSION are added) unless Raw, when they are
// taken verbatim; tags are always names, their sets found by
// Keyspace.TagSet.
type Request struct {
	Keys     []string `json:"keys,omitempty"`
	Patterns []string `json:"patterns,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	Raw      bool     `json:"raw,omitempty"`
}

// RequestError lists every problem of a request.
type RequestError struct {
	Problems []string `json:"problems"`
}

func (e *RequestError) Error() string {
	return "invalid cache invalidation request: " + strings.Join(e.Problems, "; ")
}

// Selectors is how many keys, patterns and tags r names.
func (r Request) Selectors() int { return len(r.Keys) + len(r.Patterns) + len(r.Tags) }

// Normalize returns r with each list sorted and without duplicates, so two
// requests for the same entries compare (and hash) equal.
func (r Request) Normalize() Request {
	norm := func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		s = slices.Clone(s)
		slices.Sort(s)
		return slices.Compact(s)
	}
	return Request{Keys: norm(r.Keys), Patterns: norm(r.Patterns), Tags: norm(r.Tags), Raw: r.Raw}
}

// RealKey is the Redis key a key selector names.
func (r Request) RealKey(ks Keyspace, key string) string {
	if r.Raw {
		return key
	}
	return ks.Key(key)
}

// RealPattern is the Redis MATCH pattern a pattern selector names.
func (r Request) RealPattern(ks Keyspace, pattern string) (string, error) {
	if r.Raw {
		if _, err := parseGlob(pattern); err != nil {
			return "", err
		}
		return pattern, nil
	}
	return ks.Pattern(pattern)
}

// Validate returns a *RequestError listing every problem of r, or nil:
// no selector at all or more than MaxSelectors, an empty selector, a
// malformed pattern, a pattern as wide as the whole keyspace (it must fix
// at least one character of the key before its first wildcard: "*", "?*",
// "[a-z]*" are refused, "productos:*" is not), and, when the cache Redis
// is the queue Redis (sharedWithQueue), any key or pattern that could
// reach a key of QueueKeyPrefixes.
func (r Request) Validate(ks Keyspace, sharedWithQueue bool) error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch n := r.Selectors(); {
	case n == 0:
		add("nothing to invalidate: give at least one key, pattern or tag")
	case n > MaxSelectors:
		add("%d selectors: at most %d keys, patterns and tags together per request; split it", n, MaxSelectors)
	}
	base := ks.Key("")
	for i, k := range r.Keys {
		switch real := r.RealKey(ks, k); {
		case k == "":
			add("keys[%d] is empty", i)
		case sharedWithQueue && queueKey(real):
			add("keys[%d] %q is a job queue key (%s…): the cache shares its Redis with the queue, and its keys are never touched", i, real, queuePrefixOf(real))
		}
	}
	for i, p := range r.Patterns {
		if p == "" {
			add("patterns[%d] is empty", i)
			continue
		}
		real, err := r.RealPattern(ks, p)
		if err != nil {
			add("patterns[%d] %q: %v", i, p, err)
			continue
		}
		g, _ := parseGlob(real)
		if g.wild() && strings.HasPrefix(base, g.literalPrefix()) {
			add("patterns[%d] %q would match the whole cache: start it with a fixed part of the key, e.g. \"productos:*\"", i, p)
			continue
		}
		if sharedWithQueue {
			for _, q := range QueueKeyPrefixes {
				if g.mayMatchPrefix(q) {
					add("patterns[%d] %q (%s) could match the job queue's keys (%s*): the cache shares its Redis with the queue; start the pattern with a fixed part that cannot", i, p, real, q)
					break
				}
			}
		}
	}
	for i, t := range r.Tags {
		if t == "" {
			add("tags[%d] is empty", i)
		}
	}
	if len(problems) > 0 {
		return &RequestError{Problems: problems}
	}
	return nil
}

// queueKey reports whether key is one of the queue's (QueueKeyPrefixes).
func queueKey(key string) bool { return queuePrefixOf(key) != "" }

func queuePrefixOf(key string) string {
	for _, q := range QueueKeyPrefixes {
		if strings.HasPrefix(key, q) {
			return q
		}
	}
	return ""
}
