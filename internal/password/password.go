// Package password hashes and verifies the console's passwords with
// argon2id, in the PHC string format that `cantina-ops user hash` prints
// and CONSOLE_USERS holds:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt, base64 without padding>$<key, same>
//
// It is the one definition of that format: config checks entries with
// Parse, the console verifies logins with Verify.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters. Default follows OWASP's
// password storage recommendation (19 MiB, 2 passes, 1 lane): about
// 30 ms on one core, so a login costs little and a guess as much.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// Default are the parameters of new hashes.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// maxMemory bounds what a configured hash may ask for (1 GiB): a typo
	// in CONSOLE_USERS must not make each login allocate gigabytes.
	maxMemory = 1 << 20
	maxTime   = 16
)

// ErrFormat is wrapped by Parse for a string that is not an argon2id PHC
// hash this package can verify.
var ErrFormat = errors.New("not an argon2id hash")

// Hash is a parsed PHC string.
type Hash struct {
	Params Params
	salt   []byte
	key    []byte
}

var b64 = base64.RawStdEncoding

// New hashes pw with Default parameters and a random salt.
func New(pw string) (string, error) { return NewWith(pw, Default) }

// NewWith hashes pw with parameters p and a random salt.
func NewWith(pw string, p Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read random salt: %w", err)
	}
	h := Hash{Params: p, salt: salt}
	h.key = h.derive(pw)
	return h.String(), nil
}

// String is the PHC form of h.
func (h Hash) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.Params.Memory, h.Params.Time, h.Params.Threads, b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// Parse reads a PHC argon2id string. Its errors never quote s.
func Parse(s string) (Hash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Hash{}, fmt.Errorf("%w: want $argon2id$v=19$m=…,t=…,p=…$salt$hash", ErrFormat)
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return Hash{}, fmt.Errorf("%w: version must be v=%d", ErrFormat, argon2.Version)
	}
	var h Hash
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.Params.Memory, &h.Params.Time, &h.Params.Threads); err != nil {
		return Hash{}, fmt.Errorf("%w: parameters must read m=…,t=…,p=…", ErrFormat)
	}
	if h.Params.Memory < 8 || h.Params.Memory > maxMemory || h.Params.Time < 1 || h.Params.Time > maxTime || h.Params.Threads < 1 {
		return Hash{}, fmt.Errorf("%w: parameters out of range (m 8–%d KiB, t 1–%d, p ≥ 1)", ErrFormat, maxMemory, maxTime)
	}
	var err error
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return Hash{}, fmt.Errorf("%w: the salt is not base64 of 8 bytes or more", ErrFormat)
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < 16 {
		return Hash{}, fmt.Errorf("%w: the hash is not base64 of 16 bytes or more", ErrFormat)
	}
	return h, nil
}

// Verify reports whether pw is the password of h, in time that depends on
// h's parameters only.
func (h Hash) Verify(pw string) bool {
	return subtle.ConstantTimeCompare(h.derive(pw), h.key) == 1
}

func (h Hash) derive(pw string) []byte {
	n := uint32(len(h.key))
	if n == 0 {
		n = keyLen
	}
	return argon2.IDKey([]byte(pw), h.salt, h.Params.Time, h.Params.Memory, h.Params.Threads, n)
}
