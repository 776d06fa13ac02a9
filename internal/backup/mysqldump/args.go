package mysqldump

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/cantina-pos/cantina-ops/internal/config"
)

// tool describes the dump program, from its --version output.
type tool struct {
	version      string // the --version line, for the manifest
	mariadb      bool
	major, minor int
}

var (
	distribRe = regexp.MustCompile(`Distrib (\d+)\.(\d+)`)
	verRe     = regexp.MustCompile(`Ver (\d+)\.(\d+)`)
	fromRe    = regexp.MustCompile(`from (\d+)\.(\d+)`)
)

// parseTool reads `mysqldump --version` output, for example
//
//	mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)
//	mariadb-dump from 11.4.2-MariaDB, client 10.19 for linux-systemd (x86_64)
//	mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)
//	mysqldump  Ver 10.13 Distrib 5.7.44, for Linux (x86_64)
func parseTool(out string) tool {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	t := tool{version: strings.TrimSpace(line), mariadb: strings.Contains(line, "MariaDB")}
	for _, re := range []*regexp.Regexp{distribRe, fromRe, verRe} {
		if m := re.FindStringSubmatch(line); m != nil {
			t.major, _ = strconv.Atoi(m[1])
			t.minor, _ = strconv.Atoi(m[2])
			break
		}
	}
	return t
}

func (t tool) atLeast(major, minor int) bool {
	return t.major > major || (t.major == major && t.minor >= minor)
}

// buildArgs returns the dump program's arguments. The option file comes
// first (the client requires it there) and holds the credentials, so no
// secret is in argv. --defaults-file, not --defaults-extra-file: the
// client would read ~/.my.cnf after an extra file, and a [client]
// password or user there would override ours; global files could also
// turn off the comments that carry the completion trailer.
func buildArgs(defaultsPath string, db config.DB, t tool) ([]string, error) {
	args := []string{
		"--defaults-file=" + defaultsPath,
		"--protocol=tcp", // like the driver, even for host "localhost"
		// One consistent InnoDB snapshot, streamed row by row, with every
		// object and binary data in hex.
		"--single-transaction", "--quick", "--skip-lock-tables",
		"--routines", "--events", "--triggers", "--hex-blob",
		"--default-character-set=utf8mb4", "--tz-utc",
		// Tablespace statements need the PROCESS privilege (MySQL 8)
		// and are of no use to a restore.
		"--no-tablespaces",
		// The completion trailer is a comment: keep comments on.
		"--comments",
		// Rows up to the server's own limit (client side only).
		"--max-allowed-packet=1073741824",
	}
	if !t.mariadb {
		if t.atLeast(5, 6) {
			// No SET @@GLOBAL.GTID_PURGED: it fails on restore into a
			// server with its own GTID history.
			args = append(args, "--set-gtid-purged=OFF")
		}
		if t.atLeast(8, 0) {
			// MySQL 8's client queries column statistics that MariaDB
			// and older servers do not have.
			args = append(args, "--column-statistics=0")
		}
	}
	tls, err := tlsArgs(db.TLS, t)
	if err != nil {
		return nil, err
	}
	args = append(args, tls...)
	return append(args, "--", db.Name), nil
}

// tlsArgs maps the driver's tls setting (DATABASE_URL ?tls=, ssl-mode=) to
// the client's flags. MariaDB clients before 11.4 fall back to plain text
// with --ssl when the server offers no TLS, so "skip-verify" is weaker
// there than in the driver; only "true" insists on TLS.
func tlsArgs(mode string, t tool) ([]string, error) {
	if t.mariadb {
		switch mode {
		case "":
			return nil, nil
		case "false":
			return []string{"--skip-ssl"}, nil
		case "preferred", "skip-verify":
			return []string{"--ssl", "--skip-ssl-verify-server-cert"}, nil
		case "true":
			return []string{"--ssl", "--ssl-verify-server-cert"}, nil
		}
	} else {
		m := map[string]string{"false": "DISABLED", "preferred": "PREFERRED", "skip-verify": "REQUIRED", "true": "VERIFY_IDENTITY"}
		if mode == "" {
			return nil, nil
		}
		if v, ok := m[mode]; ok {
			return []string{"--ssl-mode=" + v}, nil
		}
	}
	return nil, fmt.Errorf("database tls setting %q is not supported by BACKUP_ENGINE=mysqldump; use true, false, skip-verify or preferred", mode)
}

// maxOptionValue keeps values well inside the client's option-file line
// buffer.
const maxOptionValue = 1024

// defaultsFile returns the option file for one run: the [client] group
// with the account and address, values double-quoted and escaped as the
// client's option-file reader (my_default.c) unescapes them.
func defaultsFile(db config.DB) (string, error) {
	var b strings.Builder
	b.WriteString("# cantina-ops: the account for one mysqldump run; deleted when it ends.\n[client]\n")
	for _, kv := range []struct{ key, val string }{
		{"user", db.User}, {"password", db.Password.Reveal()}, {"host", db.Host},
	} {
		if kv.val == "" {
			continue
		}
		v, err := optionValue(kv.val)
		if err != nil {
			return "", fmt.Errorf("database %s: %w", kv.key, err)
		}
		fmt.Fprintf(&b, "%s=%s\n", kv.key, v)
	}
	if db.Port != 0 {
		fmt.Fprintf(&b, "port=%d\n", db.Port)
	}
	return b.String(), nil
}

// optionValue quotes a value for an option file. The messages never
// include the value.
func optionValue(v string) (string, error) {
	if strings.ContainsRune(v, 0) {
		return "", fmt.Errorf("contains a NUL byte, which an option file cannot hold")
	}
	if len(v) > maxOptionValue {
		return "", fmt.Errorf("longer than %d bytes", maxOptionValue)
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`, "\b", `\b`)
	return `"` + r.Replace(v) + `"`, nil
}

// writeDefaults creates the option file, readable by its owner only.
func writeDefaults(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// childEnvNames are the only variables of ours the dump program inherits:
// where programs are (PATH), the time zone and locale of its messages and
// of the trailer's date, where OpenSSL finds the system's CA certificates
// (a TLS connection verified against them), SYSTEMROOT, without which
// nothing starts on Windows, and the loader's library path (a client
// installed outside the system's directories). Everything else stays out: our environment
// holds DATABASE_URL, EMAIL_HOST_PASSWORD, S3_SECRET_ACCESS_KEY and the
// like, and the client reads MYSQL_PWD, MYSQL_HOST, MARIADB_… itself.
var childEnvNames = []string{"PATH", "TZ", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "SSL_CERT_FILE", "SSL_CERT_DIR", "SYSTEMROOT", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH"}

// childEnv is the dump program's environment: the childEnvNames variables
// of parent (names compared without case, as Windows does), and HOME set
// to the run's private directory so that no ~/.my.cnf or ~/.mylogin.cnf
// is read. The credentials go through the option file, never here.
func childEnv(parent []string, home string) []string {
	env := make([]string, 0, len(childEnvNames)+1)
	for _, kv := range parent {
		name, _, _ := strings.Cut(kv, "=")
		for _, keep := range childEnvNames {
			if strings.EqualFold(name, keep) {
				env = append(env, kv)
				break
			}
		}
	}
	return append(env, "HOME="+home)
}
