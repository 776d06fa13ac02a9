// Package testenv gives integration tests their own slice of the real
// services that scripts/test.sh starts: a fresh Redis database number, a
// fresh MariaDB database, the Mailpit SMTP server, and a fresh MinIO
// bucket (or a private MinIO server). Addresses come from
// the environment:
//
//	CANTINA_TEST_REDIS   host:port of a Redis started with --databases 256
//	CANTINA_TEST_MYSQL   mysql://user:password@host:port of a MariaDB account
//	                     allowed to create and drop databases
//	CANTINA_TEST_SMTP    host:port of Mailpit's SMTP server
//	CANTINA_TEST_MAILPIT http://host:port of Mailpit's HTTP API
//	CANTINA_TEST_S3_*    MinIO's endpoint and credentials, and its binary
//	                     (see s3.go)
//
// When a variable is missing the test is skipped, unless
// CANTINA_REQUIRE_SERVICES=1 (set by scripts/test.sh and so by CI), where a
// missing service fails the test instead: CI can never pass by skipping.
package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/mysqlx"
	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
)

// need returns the value of an environment variable or skips/fails the test.
func need(tb testing.TB, name string) string {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		missing(tb, name+" is not set; run `make test` for integration tests")
	}
	return v
}

// missing skips the test for want of a service, or fails it under
// CANTINA_REQUIRE_SERVICES=1 (make test, CI), where nothing may pass by
// skipping.
func missing(tb testing.TB, why string) {
	tb.Helper()
	if os.Getenv("CANTINA_REQUIRE_SERVICES") == "1" {
		tb.Fatal(why)
	}
	tb.Skip(why)
}

// StopProcess sends p sig and waits until done is closed (p has exited),
// killing p if it has not exited 30 s after the signal.
func StopProcess(p *os.Process, sig os.Signal, done <-chan struct{}) {
	_ = p.Signal(sig)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = p.Kill()
		<-done
	}
}

// RedisDB is a Redis database reserved for one test.
type RedisDB struct {
	Addr string
	DB   int
}

// URL is the database's redis:// URL.
func (r RedisDB) URL() string { return fmt.Sprintf("redis://%s/%d", r.Addr, r.DB) }

// Client opens a client on the database; it is closed at cleanup.
func (r RedisDB) Client(tb testing.TB) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.Addr, DB: r.DB})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Redis reserves an empty Redis database (1–255) for the test. Database 0
// holds the allocation counter and a lease per database held, so that a
// database is handed out again only once its test has ended (or its lease,
// an hour, has run out: a killed test binary), however many tests the run
// has: at most 255 may hold one at the same time.
func Redis(tb testing.TB) RedisDB {
	tb.Helper()
	addr := need(tb, "CANTINA_TEST_REDIS")
	ctx := context.Background()
	c0 := redis.NewClient(&redis.Options{Addr: addr})
	defer c0.Close()
	r := RedisDB{Addr: addr}
	for try := 0; r.DB == 0; try++ {
		if try == 255 {
			tb.Fatalf("reserve redis db at %s: all 255 are held by running tests", addr)
		}
		n, err := c0.Incr(ctx, "cantina-test:dbseq").Result()
		if err != nil {
			tb.Fatalf("reserve redis db at %s: %v", addr, err)
		}
		db := int(n%255) + 1
		ok, err := c0.SetNX(ctx, leaseKey(db), tb.Name(), time.Hour).Result()
		if err != nil {
			tb.Fatalf("reserve redis db at %s: %v", addr, err)
		}
		if ok {
			r.DB = db
		}
	}
	c := r.Client(tb)
	if err := c.FlushDB(ctx).Err(); err != nil {
		tb.Fatalf("flush redis db %d: %v", r.DB, err)
	}
	tb.Cleanup(func() {
		ctx := context.Background()
		c := redis.NewClient(&redis.Options{Addr: r.Addr, DB: r.DB})
		defer c.Close()
		_ = c.FlushDB(ctx).Err()
		c0 := redis.NewClient(&redis.Options{Addr: r.Addr})
		defer c0.Close()
		_ = c0.Del(ctx, leaseKey(r.DB)).Err()
	})
	return r
}

func leaseKey(db int) string { return "cantina-test:lease:" + strconv.Itoa(db) }

// MySQLServer is the test MariaDB server's account.
type MySQLServer struct {
	Host     string
	Port     int
	User     string
	Password string
}

// Config returns a driver config for database name ("" for none).
func (s MySQLServer) Config(name string) *mysql.Config {
	c := mysql.NewConfig()
	c.Net = "tcp"
	c.Addr = fmt.Sprintf("%s:%d", s.Host, s.Port)
	c.User = s.User
	c.Passwd = s.Password
	c.DBName = name
	c.Timeout = 5 * time.Second
	c.MultiStatements = false
	return c
}

// URL returns a mysql:// URL for database name, as DATABASE_URL takes it.
func (s MySQLServer) URL(name string) string {
	u := url.URL{Scheme: "mysql", User: url.UserPassword(s.User, s.Password),
		Host: fmt.Sprintf("%s:%d", s.Host, s.Port), Path: "/" + name}
	return u.String()
}

// Open opens a *sql.DB on database name; it is closed at cleanup.
func (s MySQLServer) Open(tb testing.TB, name string) *sql.DB {
	tb.Helper()
	conn, err := mysql.NewConnector(s.Config(name))
	if err != nil {
		tb.Fatalf("mysql connector: %v", err)
	}
	db := sql.OpenDB(conn)
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// MySQL returns the test server's account.
func MySQL(tb testing.TB) MySQLServer {
	tb.Helper()
	raw := need(tb, "CANTINA_TEST_MYSQL")
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatalf("CANTINA_TEST_MYSQL is not a URL")
	}
	port, _ := strconv.Atoi(u.Port())
	if port == 0 {
		port = 3306
	}
	pw, _ := u.User.Password()
	return MySQLServer{Host: u.Hostname(), Port: port, User: u.User.Username(), Password: pw}
}

// MySQLDatabase creates an empty database with a unique name for the test and
// drops it at cleanup.
func MySQLDatabase(tb testing.TB) (MySQLServer, string) {
	tb.Helper()
	s := MySQL(tb)
	name := "t_" + randomHex(6)
	admin := s.Open(tb, "")
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, mysqlx.CreateDatabase(name, false)); err != nil {
		tb.Fatalf("create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`")
	})
	return s, name
}

// SMTP returns Mailpit's SMTP host and port, and its HTTP API base URL.
func SMTP(tb testing.TB) (host string, port int, api string) {
	tb.Helper()
	addr := need(tb, "CANTINA_TEST_SMTP")
	api = need(tb, "CANTINA_TEST_MAILPIT")
	h, p, err := SplitHostPort(addr)
	if err != nil {
		tb.Fatalf("CANTINA_TEST_SMTP: %v", err)
	}
	return h, p, api
}

// SplitHostPort splits "host:port" (IPv6 in brackets) into its host and
// numeric port.
func SplitHostPort(addr string) (string, int, error) {
	u, err := url.Parse("//" + addr)
	if err != nil {
		return "", 0, err
	}
	p, err := strconv.Atoi(u.Port())
	return u.Hostname(), p, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Eventually polls cond every 50 ms until it returns true or the deadline
// passes, then fails the test with msg. The deadline is a hang guard, not a
// timing assertion: pass a generous one.
func Eventually(tb testing.TB, deadline time.Duration, msg string, cond func() bool) {
	tb.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			tb.Fatalf("gave up after %s waiting for: %s", deadline, msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// SyncBuffer is a log sink that goroutines (a worker, a scheduler) can
// share with the test reading it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
