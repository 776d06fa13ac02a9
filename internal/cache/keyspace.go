// Package cache is the POS's Redis cache seen from cantina-ops: the POS's
// key names as Django builds them (Keyspace), invalidation requests and
// their limits (Request, Validate) and the invalidation itself (Invalidate:
// pipelined UNLINK, SCAN in batches on every master, tag sets). It imports
// config and go-redis, never a process package; cacheclient enqueues
// invalidations for the API and the CLI.
package cache

import (
	"strconv"
	"strings"

	"github.com/cantina-pos/cantina-ops/internal/config"
)

// Keyspace is the POS's cache key space: Django's KEY_PREFIX and VERSION
// (CACHE_KEY_PREFIX, CACHE_VERSION).
type Keyspace struct {
	Prefix  string
	Version int
}

// KeyspaceOf returns the keyspace cfg configures.
func KeyspaceOf(cfg *config.Config) Keyspace {
	return Keyspace{Prefix: cfg.CacheKeyPrefix, Version: cfg.CacheVersion}
}

// Key is the real Redis key of a logical key, as Django's default key
// function builds it: "<prefix>:<version>:<key>" (the prefix may be "").
func (k Keyspace) Key(logical string) string {
	return k.Prefix + ":" + strconv.Itoa(k.Version) + ":" + logical
}

// Pattern is the real Redis glob pattern of a logical pattern: Key with the
// glob characters of the prefix and version escaped, the logical pattern's
// globs kept. A malformed logical pattern (an unclosed "[", a trailing
// "\") is an error.
func (k Keyspace) Pattern(logical string) (string, error) {
	if _, err := parseGlob(logical); err != nil {
		return "", err
	}
	return escapeGlob(k.Key("")) + logical, nil
}

// TagSet is the Redis SET of a tag: its members are the real keys tagged
// with it (as Django's cache.make_key builds them). The Django module's
// tag(key, *tags) adds to it; both sides must use this name.
func (k Keyspace) TagSet(tag string) string {
	return k.Key("cantina_ops:tag:" + tag)
}

// escapeGlob escapes the characters Redis's glob matching treats specially.
func escapeGlob(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// SharedWithQueue reports whether cfg's cache Redis is the queue Redis
// (the same URL, so the same database): then no invalidation may reach
// the queue's keys (QueueKeyPrefixes).
func SharedWithQueue(cfg *config.Config) bool {
	return cfg.CacheRedis.String() == cfg.Redis.String()
}
