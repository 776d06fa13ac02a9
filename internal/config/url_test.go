package config

import (
	"net/url"
	"strings"
	"testing"
)

// assertNoPart fails if out holds pw, any encoded form of it, or any four
// characters of it in a row: a message quoting a piece of a mis-split URL
// ("%zzQ…", "?Zx9…") must not leak part of the password either.
func assertNoPart(tb testing.TB, out, pw string) {
	tb.Helper()
	for _, form := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw)} {
		if strings.Contains(out, form) {
			tb.Errorf("leaks the password %q (as %q):\n%s", pw, form, out)
			return
		}
	}
	for i := 0; i+4 <= len(pw); i++ {
		if strings.Contains(out, pw[i:i+4]) {
			tb.Errorf("leaks part of the password %q (%q):\n%s", pw, pw[i:i+4], out)
			return
		}
	}
}

// TestMalformedURLErrorsNeverContainPassword: every malformed shape of a
// URL variable that holds a password is refused, naming the variable, with
// a message that holds no part of the password. PW in a shape is replaced
// by the password.
func TestMalformedURLErrorsNeverContainPassword(t *testing.T) {
	const pw = "Zx9qK7wJ"
	mysqlShapes := []struct{ name, shape string }{
		{"? before the password (issue 7)", "mysql://u:?PW@h/db"},
		{"/ before the password, no database (issue 7)", "mysql://u:/PW@h"},
		{"? inside the password", "mysql://u:PW?x@h/db"},
		{"/ inside the password", "mysql://u:PW/x@h/db"},
		{"# before the password", "mysql://u:#PW@h/db"},
		{"# inside the password", "mysql://u:PW#x@h/db"},
		{"# after the database", "mysql://u:PW@h/db#x"},
		{"bad escape before", "mysql://u:%zzPW@h/db"},
		{"bad escape after", "mysql://u:PW%zz@h/db"},
		{"truncated escape", "mysql://u:PW%4@h/db"},
		{"space inside the password", "mysql://u:PW x@h/db"},
		{"space after the password", "mysql://u:PW @h/db"},
		{"newline in the password", "mysql://u:PW\n@h/db"},
		{"control character in the database", "mysql://u:PW@h/db\x7f"},
		{"bad escape in the database", "mysql://u:PW@h/d%zzb"},
		{"missing host", "mysql://u:PW@/db"},
		{"missing host, port only", "mysql://u:PW@:3306/db"},
		{"forgotten @host: password taken as port", "mysql://u:PW/db"},
		{"forgotten @host, nothing after", "mysql://u:PW"},
		{"missing database", "mysql://u:PW@h"},
		{"database with a slash", "mysql://u:PW@h/db/x"},
		{"unknown scheme", "postgres://u:PW@h/db"},
		{"no scheme", "u:PW@h/db"},
		{"one slash after the scheme", "mysql:/u:PW@h/db"},
		{"scheme with a bad character", "my_sql://u:PW@h/db"},
		{"port out of range", "mysql://u:PW@h:99999/db"},
		{"port not a number", "mysql://u:PW@h:port/db"},
		{"unescaped @ and a bad port", "mysql://u:p@PW@h:port/db"},
		{"IPv6 without its closing bracket", "mysql://u:PW@[::1/db"},
		{"IPv6 with junk after the bracket", "mysql://u:PW@[::1]x/db"},
		{"IPv6 without brackets", "mysql://u:PW@::1:3306/db"},
		{"unknown parameter", "mysql://u:PW@h/db?x=1"},
		{"bad parameter value", "mysql://u:PW@h/db?timeout=soon"},
		{"@ in a parameter", "mysql://u:PW@h/db?charset=a@b"},
	}
	redisShapes := []struct{ name, shape string }{
		{"? in the port (issue 7)", "redis://h:1?PW@x/0"},
		{"? before the password", "redis://:?PW@h/0"},
		{"/ inside the password", "redis://:PW/x@h/0"},
		{"# inside the password", "redis://:PW#x@h:6379/0"},
		{"bad escape", "redis://:%zzPW@h/0"},
		{"space inside the password", "redis://:PW x@h/0"},
		{"missing host", "redis://:PW@/0"},
		{"forgotten @host", "redis://:PW/0"},
		{"unknown scheme", "http://:PW@h:6379/0"},
		{"no scheme", ":PW@h:6379"},
		{"port out of range", "redis://:PW@h:99999/0"},
		{"user and password, port out of range", "rediss://user:PW@h:70000/0"},
		{"db not a number", "redis://:PW@h:6379/zero"},
		{"negative db", "redis://:PW@h:6379/-1"},
		{"path too deep", "redis://:PW@h:6379/0/1"},
		{"unknown option", "redis://:PW@h:6379/0?x=1"},
		{"bad option value", "redis://:PW@h:6379/0?dial_timeout=x"},
		{"IPv6 without its closing bracket", "redis://:PW@[::1:6379/0"},
	}
	type tcase struct{ variable, name, shape string }
	var cases []tcase
	for _, v := range urlVars {
		for _, s := range mysqlShapes {
			cases = append(cases, tcase{v, s.name, s.shape})
		}
	}
	for _, v := range []string{"REDIS_URL", "CACHE_REDIS_URL"} {
		for _, s := range redisShapes {
			cases = append(cases, tcase{v, s.name, s.shape})
		}
	}
	for _, tc := range cases {
		t.Run(tc.variable+"/"+tc.name, func(t *testing.T) {
			raw := strings.ReplaceAll(tc.shape, "PW", pw)
			env := map[string]string{tc.variable: raw}
			if !strings.HasSuffix(tc.variable, "DATABASE_URL") && tc.variable != "JAWSDB_URL" {
				env = withDB(env)
			}
			err := loadErr(t, env)
			wantOnlyProblemsFor(t, err, tc.variable)
			assertNoPart(t, err.Error(), pw)
			if strings.Contains(err.Error(), raw) {
				t.Errorf("error quotes the URL:\n%v", err)
			}
		})
	}
	t.Run("numeric password taken as a port", func(t *testing.T) {
		err := loadErr(t, map[string]string{"DATABASE_URL": "mysql://u:98765432/db"})
		wantProblem(t, err, "DATABASE_URL", "port must be a number")
		assertNoPart(t, err.Error(), "98765432")
	})
}

// TestURLProblemsSayWhatToFix: the messages name the part that is wrong
// and how to write it.
func TestURLProblemsSayWhatToFix(t *testing.T) {
	tests := []struct {
		name, variable, raw string
		want                []string
	}{
		{"unescaped ? in a password", "DATABASE_URL", "mysql://u:?secret@h/db", []string{"unescaped '/', '?' or '#'", "%3F"}},
		{"unescaped / in a password", "DATABASE_URL", "mysql://u:/secret@h", []string{"unescaped '/', '?' or '#'", "%2F"}},
		{"? in a Redis port", "REDIS_URL", "redis://h:1?secret@x/0", []string{"unescaped '/', '?' or '#'"}},
		{"fragment", "DATABASE_URL", "mysql://u:secret@h/db#x", []string{"'#' is not allowed", "%23"}},
		{"bad escape in the password", "DATABASE_URL", "mysql://u:%zzsecret@h/db", []string{"user name or password is not valid", "% as %25"}},
		{"space in the password", "CACHE_REDIS_URL", "redis://:sec ret@h/0", []string{"user name or password is not valid", "%20"}},
		{"IPv6 without a bracket", "JAWSDB_URL", "mysql://u:secret@[::1/db", []string{"host or port is not valid", "[IPv6]"}},
		{"no scheme", "CLEARDB_DATABASE_URL", "u:secret@h/db", []string{"must start with a scheme", "mysql://user:password@host:3306/database"}},
		{"bad escape in the database", "DATABASE_URL", "mysql://u:secret@h/d%zz", []string{"path or parameters are not valid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{tt.variable: tt.raw}
			if strings.Contains(tt.variable, "REDIS") {
				env = withDB(env)
			}
			err := loadErr(t, env)
			wantProblem(t, err, tt.variable, tt.want...)
			wantOnlyProblemsFor(t, err, tt.variable)
		})
	}
}

// TestURLsWithSpecialPasswordsParse: the shape check refuses nothing a
// correct URL may hold.
func TestURLsWithSpecialPasswordsParse(t *testing.T) {
	tests := []struct {
		name, raw                string
		user, password, host, db string
		port                     int
	}{
		{"percent-encoded / ? # @ : %", "mysql://u:p%2F%3F%23%40%3A%25w@db:3306/pos", "u", "p/?#@:%w", "db", "pos", 3306},
		{"unescaped @ in the password (the last @ ends it)", "mysql://u:p@ss@db/pos", "u", "p@ss", "db", "pos", 3306},
		{"unescaped : in the password", "mysql://u:pa:ss@db/pos", "u", "pa:ss", "db", "pos", 3306},
		{"sub-delimiters unescaped", "mysql://u:p!$&'()*+,;=w@db/pos", "u", "p!$&'()*+,;=w", "db", "pos", 3306},
		{"encoded space", "mysql://u:pa%20ss@db/pos", "u", "pa ss", "db", "pos", 3306},
		{"IPv6 host", "mysql://u:pass@[::1]:3310/pos", "u", "pass", "::1", "pos", 3310},
		{"IPv6 host without port", "mysql://u:pass@[2001:db8::5]/pos", "u", "pass", "2001:db8::5", "pos", 3306},
		{"no password", "mysql://root@db/pos", "root", "", "db", "pos", 3306},
		{"no user", "mysql://db/pos", "", "", "db", "pos", 3306},
		{"parameters", "mysql://u:pass@db/pos?tls=true&charset=utf8mb4", "u", "pass", "db", "pos", 3306},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustLoad(t, map[string]string{"DATABASE_URL": tt.raw}).DB
			if d.User != tt.user || d.Password.Reveal() != tt.password || d.Host != tt.host || d.Name != tt.db || d.Port != tt.port {
				t.Errorf("got user %q password %q host %q db %q port %d, want %q %q %q %q %d",
					d.User, d.Password.Reveal(), d.Host, d.Name, d.Port, tt.user, tt.password, tt.host, tt.db, tt.port)
			}
		})
	}
	redisTests := []struct {
		name, raw, addr, password string
		db                        int
	}{
		{"percent-encoded ? and #", "redis://:p%3Fw%23x@h:6379/0", "h:6379", "p?w#x", 0},
		{"user and unescaped @", "rediss://user:pa@ss@h:6380/1", "h:6380", "pa@ss", 1},
		{"IPv6", "redis://[::1]:6379/2", "[::1]:6379", "", 2},
		{"no port, no db", "redis://h", "h:6379", "", 0},
	}
	for _, tt := range redisTests {
		t.Run("redis "+tt.name, func(t *testing.T) {
			o := mustLoad(t, withDB(map[string]string{"REDIS_URL": tt.raw})).Redis.Options()
			if o.Addr != tt.addr || o.Password != tt.password || o.DB != tt.db {
				t.Errorf("got addr %q password %q db %d, want %q %q %d", o.Addr, o.Password, o.DB, tt.addr, tt.password, tt.db)
			}
		})
	}
}
