package config

import (
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// DB is the POS database to back up and watch.
type DB struct {
	// Source names where it came from: DATABASE_URL, JAWSDB_URL,
	// CLEARDB_DATABASE_URL or DB_NAME.
	Source   string
	Host     string
	Port     int
	Name     string
	User     string
	Password Secret
	// TLS is the driver's tls parameter ("", "true", "skip-verify", "preferred", "false").
	TLS string
	// Params are extra driver parameters from the URL (charset, timeouts …).
	Params map[string]string
}

// Addr is host:port.
func (d DB) Addr() string { return net.JoinHostPort(d.Host, strconv.Itoa(d.Port)) }

// String describes the database without its password.
func (d DB) String() string {
	u := url.URL{Scheme: "mysql", Host: d.Addr(), Path: "/" + d.Name}
	if d.User != "" {
		if d.Password.IsSet() {
			u.User = url.UserPassword(d.User, redacted)
		} else {
			u.User = url.User(d.User)
		}
	}
	return strings.Replace(u.String(), url.QueryEscape(redacted), redacted, 1)
}

// MySQL returns a go-sql-driver configuration for the database. Pass it to
// mysql.NewConnector; never format it into a message (it holds the password).
func (d DB) MySQL() *mysql.Config {
	c, err := d.mysqlConfig()
	if err != nil {
		// Load rejects parameters the driver cannot parse, so this only
		// happens for a DB built by hand; connect without its parameters.
		c = d.baseMySQL()
	}
	c.User = d.User
	c.Passwd = d.Password.Reveal()
	return c
}

// defaultDialTimeout is the driver's dial timeout unless the URL sets timeout.
const defaultDialTimeout = 5 * time.Second

// baseMySQL is the driver configuration without credentials or parameters.
func (d DB) baseMySQL() *mysql.Config {
	c := mysql.NewConfig()
	c.Net = "tcp"
	c.Addr = d.Addr()
	c.DBName = d.Name
	c.Timeout = defaultDialTimeout
	c.TLSConfig = d.TLS
	return c
}

// mysqlConfig builds the driver configuration without credentials. The URL
// parameters go through the driver's own DSN parser: set in Config.Params
// directly, the driver would send them to the server as session variables
// (SET charset = …) and every connection would fail.
func (d DB) mysqlConfig() (*mysql.Config, error) {
	dsn := d.baseMySQL().FormatDSN()
	if q := dsnParams(d.Params); q != "" {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + q // later parameters win, so the URL's timeout replaces ours
	}
	return mysql.ParseDSN(dsn)
}

// dsnParams formats params as a DSN query in a stable order. The driver
// unescapes only some values (connectionAttributes); the rest are written as
// they are, which is why databaseURL refuses values containing '&'.
func dsnParams(params map[string]string) string {
	parts := make([]string, 0, len(params))
	for _, k := range slices.Sorted(maps.Keys(params)) {
		parts = append(parts, dsnParam(k, params[k]))
	}
	return strings.Join(parts, "&")
}

func dsnParam(k, v string) string {
	if k == "connectionAttributes" {
		v = url.QueryEscape(v)
	}
	return k + "=" + v
}

// urlVars are the database URL variables in order of precedence.
var urlVars = []string{"DATABASE_URL", "JAWSDB_URL", "CLEARDB_DATABASE_URL"}

func (p *parser) database() DB {
	for _, name := range urlVars {
		if raw := p.str(name, ""); raw != "" {
			return p.databaseURL(name, raw)
		}
	}
	d := DB{
		Source:   "DB_NAME",
		Name:     p.str("DB_NAME", ""),
		User:     p.str("DB_USER", ""),
		Password: Secret(p.str("DB_PASSWORD", "")),
		Host:     p.str("DB_HOST", "localhost"),
		Port:     p.integer("DB_PORT", 3306, 1, 65535),
	}
	p.password("DB_PASSWORD", d.Password, dbPasswordFix)
	if d.Name == "" {
		p.fail("DATABASE_URL", "no database configured: set DATABASE_URL=mysql://user:pass@host:3306/db (or JAWSDB_URL, CLEARDB_DATABASE_URL, or DB_NAME with DB_USER, DB_PASSWORD, DB_HOST, DB_PORT)")
	}
	return d
}

// driverParams are URL query parameters passed to go-sql-driver/mysql as is.
var driverParams = map[string]bool{
	"charset": true, "collation": true, "timeout": true, "readTimeout": true,
	"writeTimeout": true, "allowCleartextPasswords": true, "allowNativePasswords": true,
	"maxAllowedPacket": true, "connectionAttributes": true,
}

// databaseURL parses mysql://user:pass@host:port/db?params. Messages never
// repeat the URL, the password or the port (see parseSecretURL).
func (p *parser) databaseURL(name, raw string) DB {
	d := DB{Source: name, Port: 3306, Params: map[string]string{}}
	u, err := parseSecretURL(raw, "mysql://user:password@host:3306/database")
	if err != nil {
		p.fail(name, "%v", err)
		return d
	}
	if u.Scheme != "mysql" && u.Scheme != "mysql2" && u.Scheme != "mariadb" {
		p.fail(name, "scheme must be mysql://, mysql2:// or mariadb://, not %q", u.Scheme)
	}
	d.Host = u.Hostname()
	if d.Host == "" {
		p.fail(name, "host is missing")
	}
	if ps := u.Port(); ps != "" {
		port, err := strconv.Atoi(ps)
		if err != nil || port < 1 || port > 65535 {
			p.fail(name, "port must be a number between 1 and 65535")
		} else {
			d.Port = port
		}
	}
	if u.User != nil {
		d.User = u.User.Username()
		pw, _ := u.User.Password()
		d.Password = Secret(pw)
		p.password(name, d.Password, dbPasswordFix)
	}
	d.Name = strings.TrimPrefix(u.Path, "/")
	if d.Name == "" || strings.Contains(d.Name, "/") {
		p.fail(name, "database name is missing (mysql://user:password@host:3306/database)")
	}
	for k, vs := range u.Query() {
		v := vs[len(vs)-1]
		switch {
		case k == "reconnect":
			// ClearDB adds reconnect=true; database/sql reconnects anyway.
		case k == "tls" || k == "ssl":
			d.TLS = v
		case k == "ssl-mode" || k == "sslmode" || k == "ssl_mode":
			switch strings.ToUpper(v) {
			case "DISABLED":
				d.TLS = "false"
			case "PREFERRED":
				d.TLS = "preferred"
			case "REQUIRED":
				d.TLS = "skip-verify"
			case "VERIFY_CA", "VERIFY_IDENTITY":
				d.TLS = "true"
			default:
				p.fail(name, "unknown %s %q (DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY)", k, v)
			}
		case driverParams[k]:
			if strings.Contains(v, "&") {
				p.fail(name, "parameter %s must not contain '&'", k)
			} else if _, err := mysql.ParseDSN("/?" + dsnParam(k, v)); err != nil {
				// The DSN holds no credentials, so the driver's message is safe.
				p.fail(name, "parameter %s: %v", k, err)
			} else {
				d.Params[k] = v
			}
		default:
			p.fail(name, "unknown parameter %q", k)
		}
	}
	switch d.TLS {
	case "", "true", "false", "skip-verify", "preferred":
	default:
		p.fail(name, "tls must be true, false, skip-verify or preferred, not %q", d.TLS)
	}
	return d
}
