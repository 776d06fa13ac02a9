package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// SessionKeyPrefix is where sessions live in the queue Redis: the key is
// the prefix and hex(SHA-256(cookie token)), so that a copy of Redis
// holds no usable cookie. The value is a session as JSON; it holds no
// password.
const SessionKeyPrefix = "cantina:console:session:"

// session is what the store keeps of a login.
type session struct {
	User    string    `json:"user"`
	Created time.Time `json:"created"`
	Seen    time.Time `json:"seen"`
}

// sessions are console sessions in Redis, shared by every web replica and
// kept across restarts. A session ends after idle without a request or
// lifetime after its login, by the store's clock; Redis expires the key
// at the same time as a back-stop.
type sessions struct {
	rdb      redis.UniversalClient
	idle     time.Duration
	lifetime time.Duration
	now      func() time.Time
}

func sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return SessionKeyPrefix + hex.EncodeToString(sum[:])
}

// ttl is how long Redis keeps s from now: until it would go idle or reach
// its lifetime, whichever is first.
func (st *sessions) ttl(s session, now time.Time) time.Duration {
	return max(min(st.idle, s.Created.Add(st.lifetime).Sub(now)), time.Second)
}

// create starts a session for user and returns its new token (32 random
// bytes, base64url): the cookie's value.
func (st *sessions) create(ctx context.Context, user string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random session token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	now := st.now()
	s := session{User: user, Created: now, Seen: now}
	v, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("encode session: %w", err)
	}
	if err := st.rdb.Set(ctx, sessionKey(token), v, st.ttl(s, now)).Err(); err != nil {
		return "", fmt.Errorf("store session: %w", err)
	}
	return token, nil
}

// errNoSession: the token names no live session.
var errNoSession = errors.New("no such session")

// get returns token's session and marks it used now. A session past its
// idle timeout or lifetime is deleted and errNoSession returned.
func (st *sessions) get(ctx context.Context, token string) (session, error) {
	key := sessionKey(token)
	v, err := st.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return session{}, errNoSession
	}
	if err != nil {
		return session{}, fmt.Errorf("read session: %w", err)
	}
	var s session
	if err := json.Unmarshal(v, &s); err != nil {
		_ = st.rdb.Del(ctx, key).Err()
		return session{}, errNoSession
	}
	now := st.now()
	if now.Sub(s.Seen) >= st.idle || now.Sub(s.Created) >= st.lifetime {
		_ = st.rdb.Del(ctx, key).Err()
		return session{}, errNoSession
	}
	s.Seen = now
	if v, err = json.Marshal(s); err == nil {
		// XX: a session logged out meanwhile stays gone.
		err = st.rdb.SetArgs(ctx, key, v, redis.SetArgs{Mode: "XX", TTL: st.ttl(s, now)}).Err()
	}
	switch {
	case errors.Is(err, redis.Nil):
		return session{}, errNoSession
	case err != nil:
		return session{}, fmt.Errorf("renew session: %w", err)
	}
	return s, nil
}

// destroy ends token's session.
func (st *sessions) destroy(ctx context.Context, token string) error {
	if err := st.rdb.Del(ctx, sessionKey(token)).Err(); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
