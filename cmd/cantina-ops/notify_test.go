package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/health"
	"github.com/cantina-pos/cantina-ops/internal/notify/notifytest"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
)

const (
	cmdDBPassword   = "Cmd-Db-Pa55-1"
	cmdSMTPPassword = "Cmd-Smtp-Pa55-2"
)

// mailVars is a configuration that sends to the test Mailpit, with
// passwords set that must never be printed.
func mailVars(t *testing.T, recipients string) map[string]string {
	t.Helper()
	host, port, _ := testenv.SMTP(t)
	return map[string]string{
		"DATABASE_URL":        "mysql://cantina:" + cmdDBPassword + "@127.0.0.1:" + freePort(t) + "/cantina",
		"EMAIL_HOST":          host,
		"EMAIL_PORT":          strconv.Itoa(port),
		"EMAIL_USE_TLS":       "false",
		"EMAIL_FROM":          "cantina@example.com",
		"EMAIL_HOST_PASSWORD": cmdSMTPPassword, // no user: no AUTH against Mailpit
		"NOTIFY_EMAILS":       recipients,
	}
}

// run runs the binary and returns its exit code, stdout and stderr.
func run(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := binCmd(t, env, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{cmdDBPassword, cmdSMTPPassword} {
		if strings.Contains(stdout.String()+stderr.String(), secret) {
			t.Errorf("%v prints a password:\n%s\n%s", args, stdout.String(), stderr.String())
		}
	}
	return code, stdout.String(), stderr.String()
}

func TestNotifyTestCommand(t *testing.T) {
	_, _, api := testenv.SMTP(t)
	mp := notifytest.Mailpit{API: api}

	t.Run("sends to every recipient", func(t *testing.T) {
		a, b := notifytest.Recipient(t, "cli-a"), notifytest.Recipient(t, "cli-b")
		code, out, errOut := run(t, mailVars(t, a+","+b), "notify", "test")
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		for _, want := range []string{"no encryption, no authentication", "sent   " + a, "sent   " + b, "250 2.0.0 Ok: queued as", "sent to 2 recipient(s)"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		for _, to := range []string{a, b} {
			// Sent synchronously: it is there when the command returns.
			msgs := mp.To(t, to)
			if len(msgs) != 1 || msgs[0].Subject != "[cantina-ops] 📧 Correo de prueba: cantina" {
				t.Fatalf("messages to %s: %+v", to, msgs)
			}
			if ev := mp.Headers(t, msgs[0].ID)["X-Cantina-Event"]; len(ev) != 1 || ev[0] != "test" {
				t.Errorf("X-Cantina-Event %q", ev)
			}
		}
	})

	t.Run("--to and --verbose show the conversation", func(t *testing.T) {
		to := notifytest.Recipient(t, "cli-verbose")
		vars := mailVars(t, "admin@example.com")
		vars["NOTIFY_LANG"] = "en"
		code, out, _ := run(t, vars, "notify", "test", "--to", to, "--verbose")
		if code != 0 || !strings.Contains(out, "C --> S: RCPT TO:<"+to+">") || !strings.Contains(out, "C <-- S: 250") {
			t.Errorf("exit %d, output:\n%s", code, out)
		}
		if msgs := mp.To(t, to); len(msgs) != 1 || msgs[0].Subject != "[cantina-ops] 📧 Test email: cantina" {
			t.Errorf("messages: %+v", msgs)
		}
	})

	t.Run("a rejected recipient fails the command with the server's reply", func(t *testing.T) {
		host, port, _ := testenv.SMTP(t)
		notifytest.RequireRejection(t, host, port)
		good := notifytest.Recipient(t, "cli-good")
		code, out, _ := run(t, mailVars(t, good+",nobody@rejected.test"), "notify", "test")
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		for _, want := range []string{"sent   " + good, "FAILED nobody@rejected.test (permanent failure)", "550", "mailbox unavailable", "1 of 2 test emails failed"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("unreachable server", func(t *testing.T) {
		vars := mailVars(t, notifytest.Recipient(t, "cli-down"))
		vars["EMAIL_PORT"] = freePort(t)
		code, out, _ := run(t, vars, "notify", "test")
		if code != 1 || !strings.Contains(out, "temporary failure") || !strings.Contains(out, "connection refused") {
			t.Errorf("exit %d, output:\n%s", code, out)
		}
	})

	t.Run("not configured", func(t *testing.T) {
		vars := mailVars(t, "admin@example.com")
		delete(vars, "EMAIL_HOST")
		code, _, errOut := run(t, vars, "notify", "test")
		if code != 1 || !strings.Contains(errOut, "EMAIL_HOST is not set") {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
	})

	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{{"notify"}, {"notify", "send"}, {"notify", "test", "--to", "not an address"}} {
			code, _, errOut := run(t, mailVars(t, "admin@example.com"), args...)
			if code != 2 || !strings.Contains(errOut, "notify test") {
				t.Errorf("%v: exit %d, stderr:\n%s", args, code, errOut)
			}
		}
	})
}

// TestHealthNotify: `health --notify` on a failing server queues one
// health-failed email (for the worker to send), and running it again
// queues nothing more; --json keeps stdout pure JSON.
func TestHealthNotify(t *testing.T) {
	r := testenv.Redis(t)
	vars := mailVars(t, "admin@example.com")
	vars["REDIS_URL"] = r.URL()
	vars["HEALTH_TIMEOUT"] = "2s"
	// The machine's own load (other tests run meanwhile) must not change
	// a check between the two runs.
	systemChecksOff(vars)

	code, out, errOut := run(t, vars, "health", "--notify")
	if code != 1 || !strings.Contains(out, "notify: health-failed email queued for the worker to send:") || !strings.Contains(out, "database:responseTime (firing)") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	insp := asynq.NewInspectorFromRedisClient(r.Client(t))
	pending, err := insp.ListPendingTasks(tasks.QueueCritical)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || !strings.HasPrefix(pending[0].ID, "email:health-failed:cantina:") || !strings.HasSuffix(pending[0].ID, ":0:admin@example.com") {
		t.Fatalf("pending email tasks: %+v", pending)
	}

	code, out, errOut = run(t, vars, "health", "--notify", "--json")
	var rep struct{ Status string }
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Status != "fail" {
		t.Errorf("--json stdout is not the report (%v):\n%s", err, out)
	}
	if code != 1 || !strings.Contains(errOut, "notify: nothing new (fail), nobody emailed") {
		t.Errorf("second run: exit %d, stderr:\n%s", code, errOut)
	}
	if pending, _ := insp.ListPendingTasks(tasks.QueueCritical); len(pending) != 1 {
		t.Errorf("%d email tasks after the second run, want 1", len(pending))
	}
	// Both rounds are kept, as the health task keeps its own.
	if rounds, err := (&health.History{Redis: r.Client(t), Database: "cantina"}).LastRounds(context.Background(), 5); err != nil || len(rounds) != 2 {
		t.Errorf("%d rounds kept, want 2 (%v)", len(rounds), err)
	}
}

func TestHealthNotifyRedisDown(t *testing.T) {
	vars := mailVars(t, "admin@example.com")
	vars["REDIS_URL"] = "redis://127.0.0.1:" + freePort(t) + "/0"
	vars["HEALTH_TIMEOUT"] = "1s"
	code, _, errOut := run(t, vars, "health", "--notify")
	if code != 1 || !strings.Contains(errOut, "health --notify: the round could not be kept; is the queue Redis (REDIS_URL) reachable?") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
}
