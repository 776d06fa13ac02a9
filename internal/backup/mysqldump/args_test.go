package mysqldump

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/config"
)

var (
	mariadb1011 = parseTool("mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)\n")
	mysql80     = parseTool("mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)")
	mysql57     = parseTool("mysqldump  Ver 10.13 Distrib 5.7.44, for Linux (x86_64)")
)

func TestParseTool(t *testing.T) {
	tests := []struct {
		out          string
		mariadb      bool
		major, minor int
	}{
		{"mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)\n", true, 10, 11},
		{"mariadb-dump from 11.4.2-MariaDB, client 10.19 for linux-systemd (x86_64)", true, 11, 4},
		{"mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)", false, 8, 0},
		{"mysqldump  Ver 8.4.0 for Linux on x86_64 (MySQL Community Server - GPL)", false, 8, 4},
		{"mysqldump  Ver 10.13 Distrib 5.7.44, for Linux (x86_64)", false, 5, 7},
		{"something else", false, 0, 0},
	}
	for _, tt := range tests {
		got := parseTool(tt.out)
		if got.mariadb != tt.mariadb || got.major != tt.major || got.minor != tt.minor ||
			got.version != strings.TrimSpace(strings.Split(tt.out, "\n")[0]) {
			t.Errorf("parseTool(%q) = %+v", tt.out, got)
		}
	}
}

func TestBuildArgs(t *testing.T) {
	db := config.DB{Host: "db.example", Port: 3307, Name: "pos", User: "u", Password: "s3cr3t-pw"}
	common := []string{"--defaults-file=/run/x/my.cnf", "--protocol=tcp", "--single-transaction", "--quick",
		"--skip-lock-tables", "--routines", "--events", "--triggers", "--hex-blob",
		"--default-character-set=utf8mb4", "--tz-utc", "--no-tablespaces", "--comments",
		"--max-allowed-packet=1073741824"}
	with := func(extra ...string) []string {
		return append(append(slices.Clone(common), extra...), "--", "pos")
	}
	tests := []struct {
		name string
		tool tool
		tls  string
		want []string
	}{
		{"mariadb", mariadb1011, "", with()},
		{"mariadb tls=true", mariadb1011, "true", with("--ssl", "--ssl-verify-server-cert")},
		{"mariadb tls=skip-verify", mariadb1011, "skip-verify", with("--ssl", "--skip-ssl-verify-server-cert")},
		{"mariadb tls=preferred", mariadb1011, "preferred", with("--ssl", "--skip-ssl-verify-server-cert")},
		{"mariadb tls=false", mariadb1011, "false", with("--skip-ssl")},
		{"mysql 8", mysql80, "", with("--set-gtid-purged=OFF", "--column-statistics=0")},
		{"mysql 8 tls=true", mysql80, "true", with("--set-gtid-purged=OFF", "--column-statistics=0", "--ssl-mode=VERIFY_IDENTITY")},
		{"mysql 8 tls=skip-verify", mysql80, "skip-verify", with("--set-gtid-purged=OFF", "--column-statistics=0", "--ssl-mode=REQUIRED")},
		{"mysql 5.7", mysql57, "false", with("--set-gtid-purged=OFF", "--ssl-mode=DISABLED")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := db
			d.TLS = tt.tls
			got, err := buildArgs("/run/x/my.cnf", d, tt.tool)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			for _, a := range got {
				if strings.Contains(a, "s3cr3t") || strings.Contains(a, "--password") || strings.HasPrefix(a, "-p") {
					t.Errorf("argument %q carries the password", a)
				}
			}
		})
	}
	d := db
	d.TLS = "custom-config"
	if _, err := buildArgs("/x", d, mariadb1011); err == nil || !strings.Contains(err.Error(), `"custom-config"`) {
		t.Errorf("unsupported tls: %v", err)
	}
	d = db
	d.Name = "-weird name"
	if got, _ := buildArgs("/x", d, mariadb1011); got[len(got)-2] != "--" || got[len(got)-1] != d.Name {
		t.Errorf("the database name must follow --: %q", got)
	}
}

func TestDefaultsFile(t *testing.T) {
	tests := []struct {
		name string
		db   config.DB
		want string
	}{
		{"plain", config.DB{Host: "127.0.0.1", Port: 3306, User: "pos", Password: "pw"},
			"[client]\nuser=\"pos\"\npassword=\"pw\"\nhost=\"127.0.0.1\"\nport=3306\n"},
		{"special characters", config.DB{Host: "h", Port: 1, User: `u"x`, Password: " a\"b\\c#d' e;f =g\\ \n\t"},
			"[client]\nuser=\"u\\\"x\"\npassword=\" a\\\"b\\\\c#d' e;f =g\\\\ \\n\\t\"\nhost=\"h\"\nport=1\n"},
		{"no password", config.DB{Host: "h", Port: 1, User: "u"}, "[client]\nuser=\"u\"\nhost=\"h\"\nport=1\n"},
	}
	for _, tt := range tests {
		got, err := defaultsFile(tt.db)
		if err != nil {
			t.Fatal(err)
		}
		_, body, _ := strings.Cut(got, "\n") // after the comment line
		if body != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, body, tt.want)
		}
	}
	if _, err := defaultsFile(config.DB{Password: "a\x00b"}); err == nil || strings.Contains(err.Error(), "a\x00b") {
		t.Errorf("NUL in password: %v", err)
	}
}

func TestWriteDefaultsIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "my.cnf")
	if err := writeDefaults(path, "[client]\n"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", fi.Mode(), err)
	}
	if err := writeDefaults(path, "x"); err == nil {
		t.Error("an existing file must not be reused")
	}
}

func TestChildEnv(t *testing.T) {
	// Every variable that holds a secret or steers the client, as the
	// configuration, Heroku add-ons, AWS tools and the client read them.
	secrets := []string{
		"DATABASE_URL=mysql://pos:s3cret@db/pos", "JAWSDB_URL=mysql://u:p@h/d", "CLEARDB_DATABASE_URL=mysql://u:p@h/d",
		"DB_PASSWORD=s3cret", "REDIS_URL=redis://:pw@h:6379/0", "CACHE_REDIS_URL=redis://:pw@h/1",
		"EMAIL_HOST_PASSWORD=smtp-pw", "S3_ACCESS_KEY_ID=AKIA", "S3_SECRET_ACCESS_KEY=s3-secret",
		"AWS_SECRET_ACCESS_KEY=aws", "AWS_SESSION_TOKEN=tok", "BACKUP_AGE_IDENTITY_FILE=/k/age.key",
		"CONSOLE_PASSWORD=admin-pw", "CONSOLE_USERS=a:operator:hash", "API_TOKENS=pos:tok", "METRICS_TOKEN=m",
		"MYSQL_PWD=leak", "MYSQL_HOST=other", "MARIADB_HOST=x", "MYSQL_TEST_LOGIN_FILE=/root/.mylogin.cnf",
		"LIBMYSQL_PLUGIN_DIR=/evil", "HOME=/root", "MYSQLX=x", "DB_PASSWORD_FILE=/run/secrets/db",
	}
	kept := []string{"PATH=/usr/bin", "TZ=Europe/Madrid", "LANG=C.UTF-8", "LC_ALL=C", "SSL_CERT_FILE=/etc/ssl/ca.pem"}
	tests := []struct {
		name   string
		parent []string
		want   []string
	}{
		{"empty", nil, []string{"HOME=/run/x"}},
		{"only secrets", secrets, []string{"HOME=/run/x"}},
		{"mixed", append(append([]string{kept[0], secrets[0]}, secrets[1:]...), kept[1:]...), append(append([]string(nil), kept...), "HOME=/run/x")},
		{"Windows spelling", []string{"Path=C:\\bin", "SystemRoot=C:\\Windows", "USERPROFILE=C:\\Users\\pos"}, []string{"Path=C:\\bin", "SystemRoot=C:\\Windows", "HOME=/run/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := childEnv(tt.parent, "/run/x")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			for _, kv := range got {
				for _, s := range secrets {
					if kv == s {
						t.Errorf("%s passes to the dump program", kv)
					}
				}
			}
		})
	}
}
