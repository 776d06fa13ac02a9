package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/demo"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// TestWorkerKilledMidBackup: a worker SIGKILLed in the middle of a dump
// leaves a temporary file and an orphaned task. asynq's recoverer gives the
// task back (as a retry) once its lease expires; a new worker makes one
// complete backup, and the leftover temporary file is never listed as one.
func TestWorkerKilledMidBackup(t *testing.T) {
	r := testenv.Redis(t)
	srv, dbName := testenv.MySQLDatabase(t)
	if _, err := demo.Seed(context.Background(), srv.Open(t, dbName), demo.Options{Size: 60 << 20, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := map[string]string{
		"REDIS_URL":          r.URL(),
		"DATABASE_URL":       srv.URL(dbName),
		"BACKUP_DIR":         dir,
		"WORKER_CONCURRENCY": "1",
	}
	startWorker := func() (*exec.Cmd, *bytes.Buffer) {
		cmd := binCmd(t, env, "worker")
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd, &logs
	}
	storage := backup.NewDirStorage(dir)
	list := func() backup.Listing {
		t.Helper()
		m := &backup.Manager{Storage: storage, Database: dbName}
		l, err := m.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return l
	}

	first, _ := startWorker()
	client := asynq.NewClientFromRedisClient(r.Client(t))
	task, err := tasks.New(tasks.BackupRun{Trigger: backup.TriggerAPI, RequestedAt: time.Now().UTC()}, tasks.Limits{BackupTimeout: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	info, err := client.Enqueue(task)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, "the dump writing its temporary file", func() bool {
		for _, o := range list().Temps {
			if o.Size > 0 {
				return true
			}
		}
		return false
	})
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	l := list()
	if len(l.Backups) != 0 || len(l.Temps) != 1 {
		t.Fatalf("after the kill: %d backups, %d temporary files; want 0 and 1 (did the dump finish before the kill?)", len(l.Backups), len(l.Temps))
	}
	leftover := l.Temps[0].Name

	insp := asynq.NewInspectorFromRedisClient(r.Client(t))
	_, logs := startWorker()
	// The recoverer runs every minute and finds the task once its 30 s
	// lease has expired; then the retry's backoff is skipped, as an
	// operator would from the console.
	testenv.Eventually(t, 4*time.Minute, "the orphaned task recovered as a retry", func() bool {
		ti, err := insp.GetTaskInfo(info.Queue, info.ID)
		return err == nil && (ti.State == asynq.TaskStateRetry || ti.State == asynq.TaskStateCompleted)
	})
	if ti, _ := insp.GetTaskInfo(info.Queue, info.ID); ti.State == asynq.TaskStateRetry {
		if err := insp.RunTask(info.Queue, info.ID); err != nil {
			t.Fatal(err)
		}
	}
	var ti *asynq.TaskInfo
	testenv.Eventually(t, 4*time.Minute, "the backup task completed", func() bool {
		ti, err = insp.GetTaskInfo(info.Queue, info.ID)
		return err == nil && ti.State == asynq.TaskStateCompleted
	})
	if ti.Retried < 1 {
		t.Errorf("retried %d times; the recovered attempt should count as a retry", ti.Retried)
	}
	l = list()
	if len(l.Backups) != 1 || !l.Backups[0].Good() {
		t.Fatalf("after recovery: backups %+v, want exactly one good\n%s", l.Backups, logs.String())
	}
	var man backup.Manifest
	if err := json.Unmarshal(ti.Result, &man); err != nil || man.Name != l.Backups[0].Name {
		t.Errorf("task result names %q, listing has %q", man.Name, l.Backups[0].Name)
	}
	for _, o := range l.Temps {
		if o.Name != leftover {
			t.Errorf("unexpected temporary file %s", o.Name)
		}
	}

	// The administrator's tools agree: one backup, and it restores.
	out, err := binCmd(t, env, "backup", "list").CombinedOutput()
	if err != nil || strings.Count(string(out), ".sql.gz ") != 1 || !strings.Contains(string(out), "temporary") {
		t.Errorf("backup list (%v):\n%s", err, out)
	}
	out, err = binCmd(t, env, "backup", "verify", "--latest", "--restore-test").CombinedOutput()
	if err != nil || !strings.Contains(string(out), ": OK") || !strings.Contains(string(out), "measured restore time (RTO): ") {
		t.Errorf("backup verify --latest --restore-test (%v):\n%s", err, out)
	}
	// The drill's time is in the manifest, and the list shows it.
	out, err = binCmd(t, env, "backup", "list").CombinedOutput()
	if err != nil || !regexp.MustCompile(`(?m)\.sql\.gz .* [0-9.]+m?s\s*$`).Match(out) || !strings.Contains(string(out), "last restore drill: "+l.Backups[0].Name+" loaded in ") {
		t.Errorf("backup list after the drill (%v):\n%s", err, out)
	}
	if _, err := os.Stat(dir + "/" + leftover); err != nil {
		t.Errorf("the leftover is gone before its grace period: %v", err)
	}
}

// TestBackupCommandWithoutRedis: `backup run` is the administrator's last
// resort, so it works with the queue Redis down; restore and verify too.
func TestBackupCommandWithoutRedis(t *testing.T) {
	srv, dbName := testenv.MySQLDatabase(t)
	db := srv.Open(t, dbName)
	for _, q := range []string{"CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))", "INSERT INTO t VALUES (1, 'ñ'), (2, NULL)"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	env := map[string]string{
		"REDIS_URL":    "redis://" + silentDB(t) + "/0", // accepts, never answers
		"DATABASE_URL": srv.URL(dbName),
		"BACKUP_DIR":   dir,
	}
	out, err := binCmd(t, env, "backup", "run").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "2 rows") {
		t.Fatalf("backup run with Redis down (%v):\n%s", err, out)
	}
	out, err = binCmd(t, env, "backup", "list", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var l backup.Listing
	if err := json.Unmarshal(out, &l); err != nil || len(l.Backups) != 1 || !l.Backups[0].Good() {
		t.Fatalf("backup list --json (%v):\n%s", err, out)
	}
	_, copyName := testenv.MySQLDatabase(t)
	out, err = binCmd(t, env, "backup", "restore", l.Backups[0].Name, "--database", copyName).CombinedOutput()
	if err != nil {
		t.Fatalf("backup restore (%v):\n%s", err, out)
	}
	var v string
	if err := srv.Open(t, copyName).QueryRow("SELECT v FROM t WHERE id = 1").Scan(&v); err != nil || v != "ñ" {
		t.Errorf("restored row: %q, %v", v, err)
	}
	// Restoring over a database with tables asks; without a terminal to
	// answer on, nothing changes.
	cmd := binCmd(t, env, "backup", "restore", l.Backups[0].Name, "--database", copyName)
	out, err = cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || !strings.Contains(string(out), "nothing was changed") {
		t.Errorf("restore over a non-empty database without --yes (%v):\n%s", err, out)
	}
	if out, err := binCmd(t, env, "backup", "restore", "../../etc/passwd").CombinedOutput(); err == nil || !strings.Contains(string(out), "invalid backup name") {
		t.Errorf("restore of a path outside BACKUP_DIR (%v):\n%s", err, out)
	}
}
