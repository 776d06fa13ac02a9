package console

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in string
		want     string   // exact, when set
		hidden   []string // must not appear
		kept     []string // must appear
	}{
		{name: "email payload", in: `{"kind":"backup_failed","to":"ana.garcia@example.org","lang":"es"}`,
			hidden: []string{"ana.garcia", "example.org"}, kept: []string{`"to":"[email]"`, `"kind":"backup_failed"`}},
		{name: "secret keys", in: `{"password":"hunter2","db_password":"x","api_key":"k","token":{"a":1},"Authorization":"Bearer abc","cookie":"s=1"}`,
			hidden: []string{"hunter2", `"x"`, `"k"`, "Bearer", "s=1", `"a"`}},
		{name: "cache keys stay", in: `{"keys":["product:42","menu:today"],"tags":["prices"]}`,
			want: `{"keys":["product:42","menu:today"],"tags":["prices"]}`},
		{name: "random token in a value", in: `{"note":"call with aZ3kP9qLm2Xv8Rt7Yw1BcD4e"}`,
			hidden: []string{"aZ3kP9qLm2Xv8Rt7Yw1BcD4e"}, kept: []string{"call with [REDACTED]"}},
		{name: "hex token", in: `{"note":"0123456789abcdef0123456789abcdef0123"}`, hidden: []string{"0123456789abcdef"}},
		{name: "checksum kept", in: `{"sha256":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}`,
			kept: []string{"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}},
		{name: "backup names kept", in: `{"name":"cantina-20261129T020000Z.sql.gz.age","storage":"s3-offsite"}`,
			kept: []string{"cantina-20261129T020000Z.sql.gz.age", "s3-offsite"}},
		{name: "text with assignments", in: "connect failed: password=hunter2 token: abc user=pos",
			hidden: []string{"hunter2", "abc"}, kept: []string{"user=pos", "password=[REDACTED]"}},
		{name: "url password", in: "dial mysql://pos:s3cret@db:3306/pos", hidden: []string{"s3cret"}, kept: []string{"mysql://pos:[REDACTED]@db"}},
		{name: "binary", in: "\x00\x01\x02", want: "non-printable bytes (not shown)"},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Redact([]byte(tt.in))
			if tt.want != "" && got != tt.want || tt.want == "" && tt.in == "" && got != "" {
				t.Errorf("Redact = %q, want %q", got, tt.want)
			}
			for _, h := range tt.hidden {
				if strings.Contains(got, h) {
					t.Errorf("Redact = %q shows %q", got, h)
				}
			}
			for _, k := range tt.kept {
				if !strings.Contains(got, k) {
					t.Errorf("Redact = %q lacks %q", got, k)
				}
			}
		})
	}
}

// TestRedactErrors: asynqmon's task lists have their error messages
// masked (emails, URL passwords, key=value secrets) but checksums and
// everything else kept.
func TestRedactErrors(t *testing.T) {
	in := `{"tasks":[{"id":"t1","error_message":"send to ana@example.org: 550; dial mysql://pos:s3cret@db/pos; checksum 0123456789abcdef0123456789abcdef0123 differs","payload":"x"}],"stats":{"size":1}}`
	got := string(redactErrors([]byte(in)))
	for _, h := range []string{"ana@example.org", "s3cret"} {
		if strings.Contains(got, h) {
			t.Errorf("redactErrors shows %q: %s", h, got)
		}
	}
	for _, k := range []string{"[email]", "0123456789abcdef0123456789abcdef0123", `"id":"t1"`, `"size":1`} {
		if !strings.Contains(got, k) {
			t.Errorf("redactErrors lost %q: %s", k, got)
		}
	}
	if other := `{"queues":[]}`; string(redactErrors([]byte(other))) != other {
		t.Error("a body without error messages changed")
	}
}
