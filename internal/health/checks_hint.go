package health

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
)

// describe says in our words what kind of error err is, for a hint shown
// to anyone who can read /health/: never the driver's text, which carries
// addresses, account names and database names. timeout is the check's
// limit, named when it was hit (0: not named).
func describe(err error, timeout time.Duration) string {
	var (
		netErr   net.Error
		dnsErr   *net.DNSError
		myErr    *mysql.MySQLError
		redisErr redis.Error
		certErr  *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		recErr   tls.RecordHeaderError
	)
	switch {
	case err == nil:
		return "no error"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		if timeout <= 0 {
			return "timed out"
		}
		return "timed out after " + timeout.String()
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case connRefused(err):
		return "connection refused"
	case errors.As(err, &dnsErr):
		return "host name not found"
	case unreachable(err):
		return "host unreachable"
	case errors.As(err, &certErr), errors.As(err, &unknown), errors.As(err, &hostErr):
		return "TLS certificate not trusted"
	case errors.As(err, &recErr):
		return "TLS handshake failed: does the server speak TLS?"
	case errors.As(err, &myErr):
		return describeMySQL(myErr.Number)
	case errors.As(err, &redisErr):
		return describeRedis(redisErr.Error())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), connBroken(err),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, mysql.ErrInvalidConn),
		errors.Is(err, net.ErrClosed), errors.Is(err, redis.ErrClosed):
		return "the connection was closed"
	}
	return "unexpected error; details in the log"
}

// describeMySQL names a MariaDB/MySQL server error by its number.
func describeMySQL(n uint16) string {
	switch n {
	case 1045:
		return "authentication failed"
	case 1044, 1142, 1143, 1227:
		return "access denied"
	case 1049:
		return "unknown database"
	case 1040, 1203:
		return "too many connections"
	case 1053, 1077, 1079, 1927:
		return "the server is shutting down"
	}
	return fmt.Sprintf("server error %d", n)
}

// describeRedis names a Redis error reply by its code, the reply's first
// word (the rest may quote keys or the account).
func describeRedis(msg string) string {
	code, _, _ := strings.Cut(msg, " ")
	switch code {
	case "NOAUTH", "WRONGPASS":
		return "authentication failed"
	case "NOPERM":
		return "permission denied"
	case "LOADING":
		return "the server is loading its data"
	case "OOM":
		return "out of memory"
	case "READONLY":
		return "the server is a read-only replica"
	case "MISCONF":
		return "the server cannot persist its data"
	}
	if code == "" || strings.ToUpper(code) != code {
		return "unexpected reply"
	}
	return "server error " + code
}
