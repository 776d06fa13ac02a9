package password

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

func TestNewVerify(t *testing.T) {
	s, err := New("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q does not carry the default parameters", s)
	}
	h, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		pw   string
		want bool
	}{{"correct horse", true}, {"correct horsE", false}, {"", false}} {
		if got := h.Verify(tt.pw); got != tt.want {
			t.Errorf("Verify(%q) = %v, want %v", tt.pw, got, tt.want)
		}
	}
	if again, _ := New("correct horse"); again == s {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

// TestParseForeign: a hash with other parameters, as other argon2id tools
// write it (alexedwards/argon2id's defaults: m=65536,t=1,p=2), built here
// with x/crypto directly, parses, prints back unchanged and verifies.
func TestParseForeign(t *testing.T) {
	salt := []byte("somesaltsomesalt")
	key := argon2.IDKey([]byte("pa55word"), salt, 1, 65536, 2, 32)
	s := "$argon2id$v=19$m=65536,t=1,p=2$" + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(key)
	h, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	if h.String() != s {
		t.Errorf("String() = %q, want the input back", h.String())
	}
	if !h.Verify("pa55word") || h.Verify("pa55wore") {
		t.Error("the foreign hash does not verify its password alone")
	}
}

func TestParseRejects(t *testing.T) {
	good, _ := New("pw-123")
	parts := strings.Split(good, "$")
	tests := map[string]string{
		"empty":        "",
		"plain":        "hunter2",
		"bcrypt":       "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":      strings.Replace(good, "argon2id", "argon2i", 1),
		"old version":  strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":  strings.Replace(good, "m=19456", "m=99999999", 1),
		"zero time":    strings.Replace(good, "t=2", "t=0", 1),
		"bad salt":     strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$"),
		"short key":    strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
		"missing part": strings.Join(parts[:5], "$"),
	}
	for name, s := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(s)
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("Parse = %v, want ErrFormat", err)
			}
			if s != "" && strings.Contains(err.Error(), s) {
				t.Errorf("the error quotes the input: %v", err)
			}
		})
	}
}
