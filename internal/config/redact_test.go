package config

import (
	"html"
	"net/url"
	"testing"
)

// TestRedact: secrets are hidden in every form; a name equal to (or
// containing) a secret stays readable where it is used as a name; a secret
// used as a password (userinfo, password=) is hidden even when it equals a
// name.
func TestRedact(t *testing.T) {
	const special = "p@ss:w/rd%&'<"
	tests := []struct {
		name           string
		secrets, names []string
		text, want     string
	}{
		// The database password is the database name (issue 7).
		{"name alone", []string{"cantina"}, []string{"cantina"},
			"dump cantina: 12 tables", "dump cantina: 12 tables"},
		{"URL", []string{"cantina"}, []string{"cantina"},
			"dial mysql://pos:cantina@db:3306/pos", "dial mysql://pos:[REDACTED]@db:3306/pos"},
		{"URL and name", []string{"cantina"}, []string{"cantina"},
			"backup of cantina failed: dial mysql://pos:cantina@db:3306/cantina",
			"backup of cantina failed: dial mysql://pos:[REDACTED]@db:3306/cantina"},
		{"driver DSN, user = password = name", []string{"cantina"}, []string{"cantina"},
			"open cantina:cantina@tcp(db:3306)/cantina?timeout=5s", "open cantina:[REDACTED]@tcp(db:3306)/cantina?timeout=5s"},
		{"Redis URL without user", []string{"cantina"}, []string{"cantina"},
			"redis://:cantina@cantina:6379/0", "redis://:[REDACTED]@cantina:6379/0"},
		{"assignment", []string{"cantina"}, []string{"cantina"},
			"env DB_NAME=cantina DB_PASSWORD=cantina", "env DB_NAME=cantina DB_PASSWORD=[REDACTED]"},
		{"assignment, lower case", []string{"cantina"}, []string{"cantina"},
			"password=cantina", "password=[REDACTED]"},
		{"percent-encoded in userinfo", []string{"can tina"}, []string{"can tina"},
			"db can tina via mysql://u:can%20tina@h/x", "db can tina via mysql://u:[REDACTED]@h/x"},

		// A secret that is part of a name, or holds one.
		{"secret inside a longer name", []string{"cantina"}, []string{"cantina_pos"},
			"db cantina_pos, word cantina", "db cantina_pos, word [REDACTED]"},
		{"name inside a longer secret", []string{"cantina123"}, []string{"cantina"},
			"db cantina, pw cantina123", "db cantina, pw [REDACTED]"},
		{"secret straddling a name is hidden whole", []string{"hostpw"}, []string{"db-host"},
			"db-hostpw and db-host", "db-[REDACTED] and db-host"},
		{"name that holds no secret protects nothing", []string{"s3cretpw"}, []string{"pos", "db.internal"},
			"pos at db.internal: s3cretpw", "pos at db.internal: [REDACTED]"},

		// Every form, no names.
		{"raw", []string{special}, nil, "x " + special + " y", "x [REDACTED] y"},
		{"query-escaped", []string{special}, nil, "x " + url.QueryEscape(special) + " y", "x [REDACTED] y"},
		{"path-escaped", []string{special}, nil, "x " + url.PathEscape(special) + " y", "x [REDACTED] y"},
		{"userinfo-escaped", []string{special}, nil, url.UserPassword("u", special).String() + "@h", "u:[REDACTED]@h"},
		{"HTML-escaped", []string{special}, nil, "<p>" + html.EscapeString(special) + "</p>", "<p>[REDACTED]</p>"},
		{"overlapping secrets hidden as one", []string{"abcd", "cdWXYZ"}, nil, "pw=abcdWXYZ!", "pw=[REDACTED]!"},
		{"prefix secrets", []string{"abcd", "abcdWXYZ"}, nil, "abcdWXYZ abcd", "[REDACTED] [REDACTED]"},
		{"adjacent occurrences", []string{"abcd"}, nil, "abcdabcd", "[REDACTED][REDACTED]"},
		{"nothing to hide", []string{"abcd"}, nil, "plain text", "plain text"},
		{"empty text", []string{"abcd"}, nil, "", ""},
		{"no secrets", nil, []string{"cantina"}, "cantina", "cantina"},
		{"empty secret ignored", []string{""}, nil, "anything", "anything"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewSecrets(tt.secrets, tt.names).Redact(tt.text); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// TestConfigSecretsKeepNames: the redactor of a loaded configuration keeps
// the database name, user and host readable when the password equals them,
// and hides the password in the DSN.
func TestConfigSecretsKeepNames(t *testing.T) {
	tests := []struct {
		name, dbURL, text, want string
	}{
		{"password = database name", "mysql://pos:cantina@db.internal/cantina",
			"backup cantina: dial cantina:cantina@tcp(db.internal:3306)/cantina",
			"backup cantina: dial cantina:[REDACTED]@tcp(db.internal:3306)/cantina"},
		{"password = user", "mysql://cantina:cantina@db.internal/pos",
			"user cantina: mysql://cantina:cantina@db.internal:3306/pos",
			"user cantina: mysql://cantina:[REDACTED]@db.internal:3306/pos"},
		{"password = host", "mysql://pos:mariadb@mariadb/pos",
			"dial tcp mariadb:3306: refused (mysql://pos:mariadb@mariadb/pos)",
			"dial tcp mariadb:3306: refused (mysql://pos:[REDACTED]@mariadb/pos)"},
		{"distinct password", "mysql://pos:s3cretpw@db.internal/cantina",
			"cantina s3cretpw", "cantina [REDACTED]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, map[string]string{"DATABASE_URL": tt.dbURL})
			if got := c.Secrets().Redact(tt.text); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
	t.Run("Redis and SMTP names", func(t *testing.T) {
		c := mustLoad(t, withDB(map[string]string{
			"REDIS_URL":           "redis://default:redis@redis:6379/0",
			"EMAIL_HOST":          "smtp.example.com",
			"EMAIL_HOST_USER":     "apikey",
			"EMAIL_HOST_PASSWORD": "apikey",
			"EMAIL_FROM":          "ops@example.com",
		}))
		text := "redis://default:redis@redis:6379/0 down; smtp user apikey refused"
		want := "redis://default:[REDACTED]@redis:6379/0 down; smtp user apikey refused"
		if got := c.Secrets().Redact(text); got != want {
			t.Errorf("Redact(%q) = %q, want %q", text, got, want)
		}
	})
}
