package config

import (
	"maps"
	"strings"
	"testing"
	"time"
)

func TestDatabaseForms(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want DB
	}{
		{
			name: "full URL",
			env:  map[string]string{"DATABASE_URL": "mysql://user:pass@db.example.com:3307/pos"},
			want: DB{Source: "DATABASE_URL", Host: "db.example.com", Port: 3307, Name: "pos", User: "user", Password: "pass"},
		},
		{
			name: "default port",
			env:  map[string]string{"DATABASE_URL": "mysql://user:pass@db.example.com/pos"},
			want: DB{Source: "DATABASE_URL", Host: "db.example.com", Port: 3306, Name: "pos", User: "user", Password: "pass"},
		},
		{
			name: "percent-encoded password",
			env:  map[string]string{"DATABASE_URL": "mysql://user:p%40ss%3Aw%2Frd%25@db:3306/pos"},
			want: DB{Source: "DATABASE_URL", Host: "db", Port: 3306, Name: "pos", User: "user", Password: "p@ss:w/rd%"},
		},
		{
			name: "user without password",
			env:  map[string]string{"DATABASE_URL": "mysql://root@localhost/pos"},
			want: DB{Source: "DATABASE_URL", Host: "localhost", Port: 3306, Name: "pos", User: "root"},
		},
		{
			name: "IPv6 host",
			env:  map[string]string{"DATABASE_URL": "mysql://u:pass@[::1]:3310/pos"},
			want: DB{Source: "DATABASE_URL", Host: "::1", Port: 3310, Name: "pos", User: "u", Password: "pass"},
		},
		{
			name: "mariadb and mysql2 schemes",
			env:  map[string]string{"DATABASE_URL": "mariadb://u:pass@db/pos"},
			want: DB{Source: "DATABASE_URL", Host: "db", Port: 3306, Name: "pos", User: "u", Password: "pass"},
		},
		{
			name: "driver params",
			env:  map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos?charset=utf8mb4&timeout=10s&readTimeout=30s&collation=utf8mb4_unicode_ci"},
			want: DB{Source: "DATABASE_URL", Host: "db", Port: 3306, Name: "pos", User: "u", Password: "pass",
				Params: map[string]string{"charset": "utf8mb4", "timeout": "10s", "readTimeout": "30s", "collation": "utf8mb4_unicode_ci"}},
		},
		{
			name: "tls=true",
			env:  map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos?tls=true"},
			want: DB{Source: "DATABASE_URL", Host: "db", Port: 3306, Name: "pos", User: "u", Password: "pass", TLS: "true"},
		},
		{
			name: "tls=skip-verify",
			env:  map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos?tls=skip-verify"},
			want: DB{Source: "DATABASE_URL", Host: "db", Port: 3306, Name: "pos", User: "u", Password: "pass", TLS: "skip-verify"},
		},
		{
			name: "ssl-mode=REQUIRED is skip-verify",
			env:  map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos?ssl-mode=REQUIRED"},
			want: DB{Source: "DATABASE_URL", Host: "db", Port: 3306, Name: "pos", User: "u", Password: "pass", TLS: "skip-verify"},
		},
		{
			name: "ssl-mode is case-insensitive",
			env:  map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos?ssl-mode=required"},
			want: DB{Source: "DATABASE_URL", Host: "db", Port: 3306, Name: "pos", User: "u", Password: "pass", TLS: "skip-verify"},
		},
		{
			name: "sslmode=DISABLED",
			env:  map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos?sslmode=DISABLED"},
			want: DB{Source: "DATABASE_URL", Host: "db", Port: 3306, Name: "pos", User: "u", Password: "pass", TLS: "false"},
		},
		{
			name: "ssl_mode=PREFERRED",
			env:  map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos?ssl_mode=PREFERRED"},
			want: DB{Source: "DATABASE_URL", Host: "db", Port: 3306, Name: "pos", User: "u", Password: "pass", TLS: "preferred"},
		},
		{
			name: "ssl-mode=VERIFY_IDENTITY",
			env:  map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos?ssl-mode=VERIFY_IDENTITY"},
			want: DB{Source: "DATABASE_URL", Host: "db", Port: 3306, Name: "pos", User: "u", Password: "pass", TLS: "true"},
		},
		{
			name: "ClearDB's reconnect=true is ignored",
			env:  map[string]string{"CLEARDB_DATABASE_URL": "mysql://b6f0:9a1c@us-cdbr-east-06.cleardb.net/heroku_0a1b?reconnect=true"},
			want: DB{Source: "CLEARDB_DATABASE_URL", Host: "us-cdbr-east-06.cleardb.net", Port: 3306, Name: "heroku_0a1b", User: "b6f0", Password: "9a1c"},
		},
		{
			name: "JAWSDB_URL alone",
			env:  map[string]string{"JAWSDB_URL": "mysql://jaws:jawspw@jaws.rds.amazonaws.com:3306/jawsdb"},
			want: DB{Source: "JAWSDB_URL", Host: "jaws.rds.amazonaws.com", Port: 3306, Name: "jawsdb", User: "jaws", Password: "jawspw"},
		},
		{
			name: "DATABASE_URL wins over JAWSDB_URL and CLEARDB_DATABASE_URL",
			env: map[string]string{
				"DATABASE_URL":         "mysql://a:apw@a-host/a",
				"JAWSDB_URL":           "mysql://b:bpw@b-host/b",
				"CLEARDB_DATABASE_URL": "mysql://c:cpw@c-host/c",
			},
			want: DB{Source: "DATABASE_URL", Host: "a-host", Port: 3306, Name: "a", User: "a", Password: "apw"},
		},
		{
			name: "JAWSDB_URL wins over CLEARDB_DATABASE_URL",
			env: map[string]string{
				"JAWSDB_URL":           "mysql://b:bpw@b-host/b",
				"CLEARDB_DATABASE_URL": "mysql://c:cpw@c-host/c",
			},
			want: DB{Source: "JAWSDB_URL", Host: "b-host", Port: 3306, Name: "b", User: "b", Password: "bpw"},
		},
		{
			name: "empty DATABASE_URL counts as unset",
			env: map[string]string{
				"DATABASE_URL": "  ",
				"JAWSDB_URL":   "mysql://b:bpw@b-host/b",
			},
			want: DB{Source: "JAWSDB_URL", Host: "b-host", Port: 3306, Name: "b", User: "b", Password: "bpw"},
		},
		{
			name: "a URL wins over DB_NAME",
			env: map[string]string{
				"CLEARDB_DATABASE_URL": "mysql://c:cpw@c-host/c",
				"DB_NAME":              "ignored",
			},
			want: DB{Source: "CLEARDB_DATABASE_URL", Host: "c-host", Port: 3306, Name: "c", User: "c", Password: "cpw"},
		},
		{
			name: "DB_* variables",
			env: map[string]string{
				"DB_NAME": "pos", "DB_USER": "cantina", "DB_PASSWORD": "p@ss:w/rd%",
				"DB_HOST": "mariadb.lan", "DB_PORT": "3310",
			},
			want: DB{Source: "DB_NAME", Host: "mariadb.lan", Port: 3310, Name: "pos", User: "cantina", Password: "p@ss:w/rd%"},
		},
		{
			name: "DB_NAME alone gets localhost:3306",
			env:  map[string]string{"DB_NAME": "pos"},
			want: DB{Source: "DB_NAME", Host: "localhost", Port: 3306, Name: "pos"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustLoad(t, tt.env).DB
			assertDB(t, got, tt.want)
		})
	}
}

func assertDB(tb testing.TB, got, want DB) {
	tb.Helper()
	if got.Source != want.Source || got.Host != want.Host || got.Port != want.Port ||
		got.Name != want.Name || got.User != want.User || got.TLS != want.TLS {
		tb.Errorf("DB = {Source:%s Host:%s Port:%d Name:%s User:%s TLS:%q}, want {Source:%s Host:%s Port:%d Name:%s User:%s TLS:%q}",
			got.Source, got.Host, got.Port, got.Name, got.User, got.TLS,
			want.Source, want.Host, want.Port, want.Name, want.User, want.TLS)
	}
	if got.Password.Reveal() != want.Password.Reveal() {
		tb.Errorf("DB.Password = %q, want %q", got.Password.Reveal(), want.Password.Reveal())
	}
	if len(got.Params) != 0 || len(want.Params) != 0 {
		if !maps.Equal(got.Params, want.Params) {
			tb.Errorf("DB.Params = %v, want %v", got.Params, want.Params)
		}
	}
}

func TestDatabaseErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		varName string
		want    []string
	}{
		{"no database at all", map[string]string{}, "DATABASE_URL", []string{"no database configured", "DB_NAME"}},
		{"DB_USER without DB_NAME", map[string]string{"DB_USER": "u", "DB_PASSWORD": "pass"}, "DATABASE_URL", []string{"no database configured"}},
		{"wrong scheme", map[string]string{"DATABASE_URL": "postgres://u:pass@db/pos"}, "DATABASE_URL", []string{"scheme must be mysql://", `"postgres"`}},
		{"no scheme", map[string]string{"DATABASE_URL": "db.example.com/pos"}, "DATABASE_URL", []string{"must start with a scheme", "mysql://"}},
		{"missing host", map[string]string{"DATABASE_URL": "mysql://u:pass@/pos"}, "DATABASE_URL", []string{"host is missing"}},
		{"missing host, port only", map[string]string{"DATABASE_URL": "mysql://u:pass@:3306/pos"}, "DATABASE_URL", []string{"host is missing"}},
		{"port out of range", map[string]string{"DATABASE_URL": "mysql://u:pass@db:99999/pos"}, "DATABASE_URL", []string{"port must be a number between 1 and 65535"}},
		{"port zero", map[string]string{"DATABASE_URL": "mysql://u:pass@db:0/pos"}, "DATABASE_URL", []string{"port must be a number between 1 and 65535"}},
		{"port not a number", map[string]string{"DATABASE_URL": "mysql://u:pass@db:abc/pos"}, "DATABASE_URL", []string{"host or port is not valid"}},
		{"missing database name", map[string]string{"DATABASE_URL": "mysql://u:pass@db:3306"}, "DATABASE_URL", []string{"database name is missing"}},
		{"empty database name", map[string]string{"DATABASE_URL": "mysql://u:pass@db:3306/"}, "DATABASE_URL", []string{"database name is missing"}},
		{"database name with a slash", map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos/extra"}, "DATABASE_URL", []string{"database name is missing"}},
		{"unknown param", map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos?sslrootcert=x"}, "DATABASE_URL", []string{`unknown parameter "sslrootcert"`}},
		{"unknown ssl-mode", map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos?ssl-mode=MAYBE"}, "DATABASE_URL", []string{"ssl-mode", `"MAYBE"`}},
		{"unknown tls", map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos?tls=sometimes"}, "DATABASE_URL", []string{"tls must be", `"sometimes"`}},
		{"bad timeout", map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos?timeout=soon"}, "DATABASE_URL", []string{"parameter timeout"}},
		{"bad bool param", map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos?allowCleartextPasswords=perhaps"}, "DATABASE_URL", []string{"parameter allowCleartextPasswords"}},
		{"bad maxAllowedPacket", map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos?maxAllowedPacket=big"}, "DATABASE_URL", []string{"parameter maxAllowedPacket"}},
		{"param value with &", map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos?charset=utf8%26x"}, "DATABASE_URL", []string{"parameter charset", "&"}},
		{"bad JAWSDB_URL names JAWSDB_URL", map[string]string{"JAWSDB_URL": "mysql://u:pass@/pos"}, "JAWSDB_URL", []string{"host is missing"}},
		{"bad CLEARDB_DATABASE_URL names it", map[string]string{"CLEARDB_DATABASE_URL": "http://u:pass@db/pos"}, "CLEARDB_DATABASE_URL", []string{"scheme"}},
		{"bad DB_PORT", map[string]string{"DB_NAME": "pos", "DB_PORT": "three"}, "DB_PORT", []string{"whole number", `"three"`}},
		{"DB_PORT out of range", map[string]string{"DB_NAME": "pos", "DB_PORT": "70000"}, "DB_PORT", []string{"between 1 and 65535"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := loadErr(t, tt.env)
			wantProblem(t, err, tt.varName, tt.want...)
			wantOnlyProblemsFor(t, err, tt.varName)
		})
	}
}

func TestDatabaseURLReportsEveryProblem(t *testing.T) {
	err := loadErr(t, map[string]string{"DATABASE_URL": "pgsql://u:pass@:99999?foo=1"})
	for _, want := range []string{"scheme", "host is missing", "port must be", "database name is missing", `unknown parameter "foo"`} {
		wantProblem(t, err, "DATABASE_URL", want)
	}
}

func TestDBMySQL(t *testing.T) {
	tests := []struct {
		name string
		url  string
	}{
		{
			name: "defaults",
			url:  "mysql://user:p%40ss%3Aw%2Frd%25@db:3307/pos",
		},
		{
			name: "charset and timeouts become driver settings",
			url:  "mysql://user:p%40ss%3Aw%2Frd%25@db:3307/pos?charset=utf8mb4,utf8&timeout=10s&readTimeout=30s&writeTimeout=31s&collation=utf8mb4_unicode_ci",
		},
		{
			name: "connection attributes and packet size",
			url:  "mysql://user:p%40ss%3Aw%2Frd%25@db:3307/pos?connectionAttributes=program_name:cantina-ops&maxAllowedPacket=1048576&allowCleartextPasswords=true",
		},
		{
			name: "tls skip-verify from ssl-mode",
			url:  "mysql://user:p%40ss%3Aw%2Frd%25@db:3307/pos?ssl-mode=REQUIRED&reconnect=true",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustLoad(t, map[string]string{"DATABASE_URL": tt.url}).DB
			c := d.MySQL()
			if c.Net != "tcp" || c.Addr != "db:3307" || c.DBName != "pos" || c.User != "user" {
				t.Errorf("MySQL() = net %s addr %s db %s user %s, want tcp db:3307 pos user", c.Net, c.Addr, c.DBName, c.User)
			}
			if c.Passwd != "p@ss:w/rd%" {
				t.Errorf("MySQL().Passwd = %q, want the decoded password", c.Passwd)
			}
			// The driver sends Params to the server as SET name = value;
			// none of the URL's parameters are session variables.
			if len(c.Params) != 0 {
				t.Errorf("MySQL().Params = %v, want none (they would be sent as SET statements)", c.Params)
			}
		})
	}

	t.Run("values", func(t *testing.T) {
		d := mustLoad(t, map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos?charset=utf8mb4,utf8&timeout=10s&readTimeout=30s&writeTimeout=31s&collation=utf8mb4_unicode_ci&maxAllowedPacket=1048576&connectionAttributes=program_name:cantina-ops&allowCleartextPasswords=true"}).DB
		c := d.MySQL()
		if c.Timeout != 10*time.Second || c.ReadTimeout != 30*time.Second || c.WriteTimeout != 31*time.Second {
			t.Errorf("timeouts = %s/%s/%s, want 10s/30s/31s", c.Timeout, c.ReadTimeout, c.WriteTimeout)
		}
		if c.Collation != "utf8mb4_unicode_ci" || c.MaxAllowedPacket != 1048576 || !c.AllowCleartextPasswords {
			t.Errorf("collation %q, maxAllowedPacket %d, cleartext %v", c.Collation, c.MaxAllowedPacket, c.AllowCleartextPasswords)
		}
		if c.ConnectionAttributes != "program_name:cantina-ops" {
			t.Errorf("ConnectionAttributes = %q", c.ConnectionAttributes)
		}
		if dsn := c.FormatDSN(); !strings.Contains(dsn, "charset=utf8mb4,utf8") {
			t.Errorf("DSN %q lacks the charset list", strings.ReplaceAll(dsn, "p@", "***@"))
		}
	})
	t.Run("default timeout", func(t *testing.T) {
		c := mustLoad(t, map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos"}).DB.MySQL()
		if c.Timeout != defaultDialTimeout {
			t.Errorf("Timeout = %s, want %s", c.Timeout, defaultDialTimeout)
		}
		if c.TLS != nil {
			t.Errorf("TLS = %+v, want none", c.TLS)
		}
	})
	t.Run("tls", func(t *testing.T) {
		for _, tc := range []struct {
			query    string
			wantTLS  bool
			insecure bool
		}{
			{"ssl-mode=REQUIRED", true, true},
			{"tls=skip-verify", true, true},
			{"tls=true", true, false},
			{"ssl-mode=VERIFY_CA", true, false},
			{"ssl-mode=DISABLED", false, false},
			{"tls=false", false, false},
		} {
			c := mustLoad(t, map[string]string{"DATABASE_URL": "mysql://u:pass@db/pos?" + tc.query}).DB.MySQL()
			if (c.TLS != nil) != tc.wantTLS {
				t.Errorf("%s: TLS config present = %v, want %v", tc.query, c.TLS != nil, tc.wantTLS)
				continue
			}
			if c.TLS != nil && c.TLS.InsecureSkipVerify != tc.insecure {
				t.Errorf("%s: InsecureSkipVerify = %v, want %v", tc.query, c.TLS.InsecureSkipVerify, tc.insecure)
			}
		}
	})
	t.Run("DB_* variables", func(t *testing.T) {
		c := mustLoad(t, map[string]string{"DB_NAME": "pos", "DB_USER": "u", "DB_PASSWORD": "secret pw"}).DB.MySQL()
		if c.Addr != "localhost:3306" || c.DBName != "pos" || c.User != "u" || c.Passwd != "secret pw" {
			t.Errorf("MySQL() = addr %s db %s user %s, want localhost:3306 pos u", c.Addr, c.DBName, c.User)
		}
	})
	t.Run("hand-built DB with a bad parameter still gets its address and credentials", func(t *testing.T) {
		d := DB{Host: "db", Port: 3306, Name: "pos", User: "u", Password: "pw", Params: map[string]string{"timeout": "soon"}}
		c := d.MySQL()
		if c.Addr != "db:3306" || c.User != "u" || c.Passwd != "pw" || c.DBName != "pos" || c.Timeout != defaultDialTimeout {
			t.Errorf("MySQL() = addr %s user %s db %s timeout %s", c.Addr, c.User, c.DBName, c.Timeout)
		}
	})
}

func TestDBString(t *testing.T) {
	tests := []struct {
		name     string
		db       DB
		want     string
		wantAddr string
	}{
		{"user and password", DB{Host: "db", Port: 3306, Name: "pos", User: "u", Password: "p@ss:w/rd%"}, "mysql://u:[REDACTED]@db:3306/pos", "db:3306"},
		{"user only", DB{Host: "db", Port: 3307, Name: "pos", User: "u"}, "mysql://u@db:3307/pos", "db:3307"},
		{"no user", DB{Host: "db", Port: 3306, Name: "pos"}, "mysql://db:3306/pos", "db:3306"},
		{"IPv6", DB{Host: "::1", Port: 3306, Name: "pos", User: "u", Password: "x"}, "mysql://u:[REDACTED]@[::1]:3306/pos", "[::1]:3306"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.db.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := tt.db.Addr(); got != tt.wantAddr {
				t.Errorf("Addr() = %q, want %q", got, tt.wantAddr)
			}
		})
	}
}
