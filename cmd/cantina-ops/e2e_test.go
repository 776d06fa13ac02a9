package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/conn"
	"github.com/cantina-pos/cantina-ops/internal/logging"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// testDeps builds the shared connections from vars, as openDeps does from
// the environment.
func testDeps(t *testing.T, vars map[string]string) *deps {
	t.Helper()
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	db, err := conn.DB(cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	d := &deps{cfg: cfg, log: logging.Discard(), rdb: conn.Redis(cfg.Redis), db: db}
	t.Cleanup(d.close)
	return d
}

// quietSchedules keeps the scheduler's own tasks out of a test, whatever
// the time of day it runs at: every daily task 12 hours from now (out of
// reach of the scheduler's catch-up of the last minutes), no catch-up
// backup, no weekly drill. Variables env sets are kept.
func quietSchedules(env map[string]string) map[string]string {
	at := time.Now().UTC().Add(12 * time.Hour)
	daily := fmt.Sprintf("%d %d * * *", at.Minute(), at.Hour())
	for k, v := range map[string]string{
		"SCHEDULE_TZ": "UTC", "BACKUP_SCHEDULE": daily, "CLEANUP_SCHEDULE": daily, "CACHE_AUDIT_SCHEDULE": daily,
		"HEALTH_SCHEDULE": daily, "BACKUP_VERIFY_SCHEDULE": "off", "BACKUP_CATCHUP": "off",
	} {
		if _, set := env[k]; !set {
			env[k] = v
		}
	}
	return env
}

// systemChecksOff keeps the machine's own state out of a health round: a
// busy (2 cores busy are 100 %) or nearly full test machine trips no CPU,
// memory or disk check.
func systemChecksOff(env map[string]string) map[string]string {
	for _, v := range []string{"HEALTH_CPU", "HEALTH_MEMORY", "HEALTH_DISK"} {
		env[v+"_WARN"], env[v+"_FAIL"] = "101", "101"
	}
	return env
}

func mustWorker(t *testing.T, d *deps) process {
	t.Helper()
	w, err := d.worker()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestScheduledHealthCheckEndToEnd: the scheduler enqueues health:check on a
// one-second schedule, the worker runs it against the real Redis and
// MariaDB, and its report is readable through the Inspector.
func TestScheduledHealthCheckEndToEnd(t *testing.T) {
	r := testenv.Redis(t)
	srv, dbName := testenv.MySQLDatabase(t)
	d := testDeps(t, systemChecksOff(quietSchedules(map[string]string{
		"REDIS_URL":       r.URL(),
		"DATABASE_URL":    srv.URL(dbName),
		"HEALTH_SCHEDULE": "@every 1s",
		// No backup of the scheduler's own: it would turn backups:age from
		// warn to pass.
		"BACKUP_DIR": t.TempDir(),
	})))
	sched, err := d.scheduler()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, p := range []process{sched, mustWorker(t, d)} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Run(ctx); err != nil {
				t.Errorf("process: %v", err)
			}
		}()
	}
	defer func() {
		cancel()
		wg.Wait()
	}()

	insp := asynq.NewInspectorFromRedisClient(r.Client(t))
	var done []*asynq.TaskInfo
	testenv.Eventually(t, 60*time.Second, "a completed health:check", func() bool {
		done, _ = insp.ListCompletedTasks(tasks.QueueDefault)
		return len(done) > 0
	})
	ti := done[0]
	if ti.Type != tasks.TypeHealthCheck || !strings.HasPrefix(ti.ID, tasks.TypeHealthCheck+"@") {
		t.Errorf("completed task %s of type %s, want a scheduled health:check", ti.ID, ti.Type)
	}
	var rep struct {
		Status string
		Checks map[string]struct{ Status string }
	}
	if err := json.Unmarshal(ti.Result, &rep); err != nil {
		t.Fatalf("result is not a health report: %v: %q", err, ti.Result)
	}
	// Every check ran; with the whole system up, the only one not to pass
	// is backups:age (no backup yet: warn).
	for _, key := range []string{"database:responseTime", "queue:responseTime", "queues:workers", "scheduler:leader"} {
		if rep.Checks[key].Status != "pass" {
			t.Errorf("%s is %q", key, rep.Checks[key].Status)
		}
	}
	if rep.Status == "fail" || rep.Checks["backups:age"].Status != "warn" {
		t.Errorf("health report = %s", ti.Result)
	}
}

// TestBadPayloadIsArchivedNotRetried: a payload that does not decode fails
// once, permanently.
func TestBadPayloadIsArchivedNotRetried(t *testing.T) {
	r := testenv.Redis(t)
	srv, dbName := testenv.MySQLDatabase(t)
	d := testDeps(t, map[string]string{"REDIS_URL": r.URL(), "DATABASE_URL": srv.URL(dbName)})
	logs := &testenv.SyncBuffer{}
	d.log = slog.New(slog.NewJSONHandler(logs, nil))
	client := asynq.NewClientFromRedisClient(d.rdb)
	info, err := client.Enqueue(asynq.NewTask(tasks.TypeHealthCheck, []byte(`{"bogus":`)), asynq.Queue(tasks.QueueDefault), asynq.MaxRetry(5))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w := mustWorker(t, d)
	go func() { defer close(done); _ = w.Run(ctx) }()
	defer func() { cancel(); <-done }()

	insp := asynq.NewInspectorFromRedisClient(r.Client(t))
	var ti *asynq.TaskInfo
	testenv.Eventually(t, 30*time.Second, "bad payload archived", func() bool {
		ti, err = insp.GetTaskInfo(tasks.QueueDefault, info.ID)
		return err == nil && ti.State == asynq.TaskStateArchived
	})
	if ti.Retried != 0 || !strings.Contains(ti.LastErr, "decode health:check payload") {
		t.Errorf("archived after %d retries with %q; want 0 retries and a decode error", ti.Retried, ti.LastErr)
	}
	// The error handler's line says what failed and that it was final.
	want := `"task":"health:check","task_id":"` + info.ID + `","attempt":1,"max_attempts":6,"final":true`
	testenv.Eventually(t, 10*time.Second, "the final failure logged", func() bool { return strings.Contains(logs.String(), want) })
}

// binary builds cantina-ops once per test run.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestMain removes the binary built for the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cantina-ops-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "cantina-ops")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v", buildErr)
	}
	return binPath
}

// binCmd runs the binary in an empty working dir (no .env) with only env.
func binCmd(t *testing.T, env map[string]string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LOG_FORMAT=json"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// silentDB accepts TCP connections and never answers, so a database check
// against it runs until its timeout: a task that takes a while, with no
// test-only code in the binary.
func silentDB(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// TestSIGTERMAllKeepsTheRunningTask sends SIGTERM to `cantina-ops all` while
// a task runs: the process exits cleanly and the task is finished (shutdown
// timeout longer than the task) or pending again (shorter).
func TestSIGTERMAllKeepsTheRunningTask(t *testing.T) {
	const password = "s3cret-Pw-XYZ"
	tests := []struct {
		name            string
		taskTime        string // the database check's timeout: how long the task runs
		shutdownTimeout string
		want            asynq.TaskState
	}{
		{"task finishes within the shutdown timeout", "2s", "20s", asynq.TaskStateCompleted},
		{"task outlives the shutdown timeout", "60s", "1s", asynq.TaskStatePending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testenv.Redis(t)
			env := quietSchedules(map[string]string{
				"REDIS_URL":               r.URL(),
				"DATABASE_URL":            "mysql://cantina:" + password + "@" + silentDB(t) + "/cantina",
				"PORT":                    freePort(t),
				"WORKER_SHUTDOWN_TIMEOUT": tt.shutdownTimeout,
				"HEALTH_TIMEOUT":          tt.taskTime,
				"CONSOLE_USER":            "op",
				"CONSOLE_PASSWORD":        "console-" + password,
			})
			cmd := binCmd(t, env, "all")
			var logs bytes.Buffer
			cmd.Stdout, cmd.Stderr = &logs, &logs
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() { _ = cmd.Process.Kill() })

			client := asynq.NewClientFromRedisClient(r.Client(t))
			task, _ := tasks.New(tasks.HealthCheck{}, tasks.Limits{})
			info, err := client.Enqueue(task, asynq.MaxRetry(0))
			if err != nil {
				t.Fatal(err)
			}
			insp := asynq.NewInspectorFromRedisClient(r.Client(t))
			testenv.Eventually(t, 30*time.Second, "task active", func() bool {
				ti, err := insp.GetTaskInfo(info.Queue, info.ID)
				return err == nil && ti.State == asynq.TaskStateActive
			})
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			// A hang guard, not a timing assertion: the worker's shutdown
			// timeout plus room for the web and scheduler to stop.
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
				}
			case <-time.After(45 * time.Second):
				t.Fatalf("still running 45 s after SIGTERM\n%s", logs.String())
			}
			ti, err := insp.GetTaskInfo(info.Queue, info.ID)
			if err != nil {
				t.Fatalf("task lost: %v", err)
			}
			if ti.State != tt.want {
				t.Errorf("task state after shutdown = %s, want %s\n%s", ti.State, tt.want, logs.String())
			}
			if strings.Contains(logs.String(), password) {
				t.Errorf("a password appears in the logs:\n%s", logs.String())
			}
			if !strings.Contains(logs.String(), "worker stopped") || !strings.Contains(logs.String(), "web stopped") || !strings.Contains(logs.String(), "scheduler stopped") {
				t.Errorf("not every process logged its stop:\n%s", logs.String())
			}
		})
	}
}

func TestConfigCheck(t *testing.T) {
	const password = "pa55-w0rd-Q"
	good := map[string]string{
		"DATABASE_URL":        "mysql://pos:" + password + "@db.example:3306/cantina",
		"REDIS_URL":           "redis://:" + password + "@redis.example:6379/2",
		"EMAIL_HOST_PASSWORD": password,
	}
	var out bytes.Buffer
	cmd := binCmd(t, good, "config", "check")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("config check on a good config: %v\n%s", err, out.String())
	}
	for _, want := range []string{"db.example:3306", "redis.example:6379", "[REDACTED]", "configuration OK"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("config check output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), password) {
		t.Errorf("config check prints a password:\n%s", out.String())
	}

	bad := map[string]string{
		"DATABASE_URL":    "mysql://pos:" + password + "@db.example:notaport/cantina",
		"REDIS_URL":       "http://redis.example",
		"SCHEDULE_TZ":     "Mars/Olympus",
		"BACKUP_SCHEDULE": "every night",
		"PORT":            "80808",
	}
	out.Reset()
	cmd = binCmd(t, bad, "config", "check")
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Fatalf("config check on a bad config: %v, want exit status 1\n%s", err, out.String())
	}
	for _, v := range []string{"DATABASE_URL", "REDIS_URL", "SCHEDULE_TZ", "BACKUP_SCHEDULE", "PORT"} {
		if !strings.Contains(out.String(), v+":") {
			t.Errorf("config check does not name %s:\n%s", v, out.String())
		}
	}
	if strings.Contains(out.String(), password) {
		t.Errorf("config errors print a password:\n%s", out.String())
	}

	// The processes refuse to start on the same config, listing the same problems.
	out.Reset()
	cmd = binCmd(t, bad, "worker")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err == nil || !strings.Contains(out.String(), "SCHEDULE_TZ:") || !strings.Contains(out.String(), "PORT:") {
		t.Errorf("worker started on a bad config (err %v):\n%s", err, out.String())
	}
}

func TestDotEnvAndRealEnvironment(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("DATABASE_URL=mysql://u:pass@from-dotenv:3306/db\nPORT=9999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := binCmd(t, map[string]string{"PORT": "7777"}, "config", "check")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("config check: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "from-dotenv:3306") {
		t.Errorf(".env value not used:\n%s", out)
	}
	if !strings.Contains(string(out), "7777") || strings.Contains(string(out), "9999") {
		t.Errorf("the real environment must win over .env:\n%s", out)
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"--help"}, 0, "Commands:"},
		{[]string{"version"}, 0, "cantina-ops"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"worker", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"worker", "--help"}, 0, "Usage: cantina-ops worker"},
		{[]string{"config"}, 2, "Usage: cantina-ops config check"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			a := &app{stdout: &stdout, stderr: &stderr}
			code := exitCode(&stderr, dispatch(context.Background(), a, tt.args))
			if code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
			if all := stdout.String() + stderr.String(); !strings.Contains(all, tt.out) {
				t.Errorf("output lacks %q:\n%s", tt.out, all)
			}
		})
	}
}
