package testenv

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// StartRedisCluster starts a three-master Redis Cluster of private
// redis-server processes and returns their addresses; everything is
// stopped at cleanup. It needs redis-server and redis-cli on PATH (make
// test installs them).
func StartRedisCluster(t testing.TB) []string {
	t.Helper()
	server, err1 := exec.LookPath("redis-server")
	cli, err2 := exec.LookPath("redis-cli")
	if err1 != nil || err2 != nil {
		if os.Getenv("CANTINA_REQUIRE_SERVICES") == "1" {
			t.Fatal("redis-server and redis-cli are needed for the cluster test")
		}
		t.Skip("redis-server or redis-cli not on PATH")
	}
	dir := t.TempDir()
	var addrs []string
	for i := range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if port > 55535 { // the cluster bus listens on port+10000
			t.Skipf("port %d leaves no room for its cluster bus port", port)
		}
		d := filepath.Join(dir, strconv.Itoa(i))
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(server, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--daemonize", "no",
			"--save", "", "--appendonly", "no", "--dir", d, "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(d, "nodes.conf"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		Eventually(t, 10*time.Second, "redis-server "+addr+" did not start", func() bool {
			c := redis.NewClient(&redis.Options{Addr: addr})
			defer c.Close()
			return c.Ping(context.Background()).Err() == nil
		})
		addrs = append(addrs, addr)
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	out, err := exec.Command(cli, append(args, "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, a := range addrs {
		Eventually(t, 30*time.Second, "the cluster did not become ok", func() bool {
			c := redis.NewClient(&redis.Options{Addr: a})
			defer c.Close()
			info, err := c.ClusterInfo(context.Background()).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok")
		})
	}
	return addrs
}
