package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// PrivateMySQL starts a MariaDB server of the test's own, for server-wide
// settings that the shared one must keep (local_infile, the binary log):
// a fresh data dir, a free port, and options added after ours, so that they
// win (e.g. "--log-bin", "--local-infile=0"). The account returned has
// every privilege. The server is stopped and its data removed at cleanup
// (and killed with the test binary, on Linux). mariadbd comes from the
// packages scripts/test.sh installs; a machine without it skips the test,
// or fails it under CANTINA_REQUIRE_SERVICES=1.
func PrivateMySQL(tb testing.TB, options ...string) MySQLServer {
	tb.Helper()
	need(tb, "CANTINA_TEST_MYSQL")
	install, err1 := exec.LookPath("mariadb-install-db")
	server, err2 := lookSbin("mariadbd")
	if err1 != nil || err2 != nil {
		missing(tb, fmt.Sprintf("a private MariaDB needs mariadb-install-db and mariadbd: %v %v", err1, err2))
	}
	me, err := user.Current()
	if err != nil {
		tb.Fatal(err)
	}
	// The socket's path must fit in sun_path (108 bytes): a short dir.
	dir, err := os.MkdirTemp("", "cantina-mariadb")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	data, sock := filepath.Join(dir, "data"), filepath.Join(dir, "sock")
	// A small redo log: 16 MB, not the default 96 MB, on the test's disk.
	const logSize = "--innodb-log-file-size=16M"
	out, err := exec.Command(install, "--no-defaults", "--user="+me.Username, "--datadir="+data,
		"--auth-root-authentication-method=normal", "--skip-test-db", logSize).CombinedOutput()
	if err != nil {
		tb.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("find a free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	args := append([]string{"--no-defaults", "--user=" + me.Username, "--datadir=" + data,
		"--port=" + strconv.Itoa(port), "--bind-address=127.0.0.1", "--socket=" + sock,
		"--pid-file=" + filepath.Join(dir, "pid"), "--skip-name-resolve", "--skip-log-bin",
		"--innodb-buffer-pool-size=16M", logSize, "--log-error=" + filepath.Join(dir, "error.log")}, options...)
	cmd := exec.Command(server, args...)
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start mariadbd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	tb.Cleanup(func() { StopProcess(cmd.Process, syscall.SIGTERM, done) })

	// root answers on the socket; the test's account is made through it.
	rc := mysql.NewConfig()
	rc.Net, rc.Addr, rc.User, rc.Timeout = "unix", sock, "root", 2*time.Second
	conn, err := mysql.NewConnector(rc)
	if err != nil {
		tb.Fatal(err)
	}
	root := sql.OpenDB(conn)
	defer root.Close()
	end := time.Now().Add(60 * time.Second)
	for root.Ping() != nil {
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			tb.Fatalf("mariadbd exited during start-up:\n%s", log)
		default:
		}
		if time.Now().After(end) {
			tb.Fatalf("the private MariaDB does not answer after 60 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	s := MySQLServer{Host: "127.0.0.1", Port: port, User: "cantina", Password: randomHex(12)}
	ctx := context.Background()
	for _, q := range []string{
		"CREATE USER 'cantina'@'%' IDENTIFIED BY '" + s.Password + "'",
		"GRANT ALL PRIVILEGES ON *.* TO 'cantina'@'%' WITH GRANT OPTION",
	} {
		if _, err := root.ExecContext(ctx, q); err != nil {
			tb.Fatalf("private MariaDB: %s: %v", q[:12], err)
		}
	}
	return s
}

// lookSbin finds name in PATH or, for accounts whose PATH lacks them, in
// /usr/sbin.
func lookSbin(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil {
		return p, nil
	}
	if _, serr := os.Stat("/usr/sbin/" + name); serr == nil {
		return "/usr/sbin/" + name, nil
	}
	return "", err
}
