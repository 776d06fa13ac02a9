// Package cache is the POS's cache side of cantina-ops: building the real
// Redis keys of Django's cache (django-redis) from logical keys,
// invalidating them, and auditing the keyspace against the TTL policy.
package cache

import (
	"strconv"
	"strings"
)

// Keyspace is the POS's Django cache key space: its KEY_PREFIX and VERSION
// (CACHE_KEY_PREFIX, CACHE_VERSION).
type Keyspace struct {
	Prefix  string
	Version int
}

// Key is the real key of a logical one, as Django's default key function
// builds it: "<prefix>:<version>:<key>" (the prefix may be empty).
func (k Keyspace) Key(logical string) string {
	return k.Prefix + ":" + strconv.Itoa(k.Version) + ":" + logical
}

// Pattern is the real SCAN MATCH pattern of a logical one: Key with the
// glob characters of the prefix escaped, the logical pattern's kept.
func (k Keyspace) Pattern(logical string) (string, error) {
	return escapeGlob(k.Prefix) + ":" + strconv.Itoa(k.Version) + ":" + logical, nil
}

// TagSet is the Redis SET of a tag: its members are the real keys tagged
// with it (contrib/django/cantina_ops.py's tag() adds them).
func (k Keyspace) TagSet(tag string) string { return k.Key("cantina_ops:tag:" + tag) }

// escapeGlob escapes the characters Redis glob patterns give a meaning.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
