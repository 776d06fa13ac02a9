package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/notify/notifytest"
	"github.com/cantina-pos/cantina-ops/internal/password"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
	"github.com/cantina-pos/cantina-ops/web/console"
)

// chromiumPath is Debian's chromium (apt-get install -y chromium).
const chromiumPath = "/usr/bin/chromium"

// needChromium skips the test when Debian's chromium is missing, and
// fails it instead in CI (CI=true) or under make test
// (CANTINA_REQUIRE_SERVICES=1, which installs it): CI cannot pass by
// skipping.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err == nil {
		return
	}
	msg := "browser test needs " + chromiumPath + " (apt-get install -y chromium)"
	if os.Getenv("CI") == "true" || os.Getenv("CANTINA_REQUIRE_SERVICES") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// TestBrowserConsole is the on-call story in a real browser (headless
// Debian chromium driven by chromedp): a backup:run fails for good because
// the database is down; the database comes back; a viewer logs in through
// the form, sees the archived task but no way to run or delete it (and the
// API refuses a same-origin POST from the page with 403; the session cookie
// is HttpOnly, SameSite=Lax); the operator logs in through the form from
// the same deep link, a page of another origin makes their browser post
// asynqmon's run and gets 403, then the operator presses Run in asynqmon,
// and the backup completes, shows as good on the backups page, and the
// run is in the audit page and log. Screenshots of each step go to
// CANTINA_TEST_ARTIFACTS (default artifacts/browser at the repository's
// root); a CSP violation or a JavaScript exception in any page fails the
// test.
func TestBrowserConsole(t *testing.T) {
	needChromium(t)
	r := testenv.Redis(t)
	srv, dbName := testenv.POSDatabase(t)
	dbProxy := notifytest.NewProxy(t, net.JoinHostPort(srv.Host, strconv.Itoa(srv.Port)))
	proxied := srv
	proxied.Host, proxied.Port = "127.0.0.1", dbProxy.Port()

	const opName, viewerName = "ana", "teo"
	opPW, viewerPW := "op-"+strconv.FormatInt(time.Now().UnixNano(), 36), "viewer-"+strconv.FormatInt(time.Now().UnixNano(), 36)
	users := make([]string, 0, 2)
	for _, u := range []struct{ name, role, pw string }{{opName, "operator", opPW}, {viewerName, "viewer", viewerPW}} {
		hash, err := password.New(u.pw)
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u.name+":"+u.role+":"+hash)
	}
	backupDir := t.TempDir()
	port := freePort(t)
	base := "http://127.0.0.1:" + port
	env := map[string]string{
		"REDIS_URL":     r.URL(),
		"DATABASE_URL":  proxied.URL(dbName),
		"BACKUP_DIR":    backupDir,
		"CONSOLE_USERS": strings.Join(users, ","),
		"PORT":          port,
		"PUBLIC_URL":    base,
		// Nothing periodic runs: the test enqueues what it wants.
		"HEALTH_SCHEDULE": "0 0 1 1 *",
	}
	webLogs := startBinary(t, env, "web")
	workerLogs := startBinary(t, env, "worker")
	waitAlive(t, base)
	art := artifactsDir(t)
	t.Cleanup(func() {
		if t.Failed() {
			_ = os.WriteFile(filepath.Join(art, "web.log"), []byte(webLogs.String()), 0o644)
			_ = os.WriteFile(filepath.Join(art, "worker.log"), []byte(workerLogs.String()), 0o644)
		}
		t.Logf("screenshots and logs in %s", art)
	})
	logs := func() string { return "\nweb:\n" + webLogs.String() + "\nworker:\n" + workerLogs.String() }

	// The database goes down; a backup fails for good (no retries, so that
	// it is archived at once) with the error in asynqmon; the database
	// comes back.
	dbProxy.Cut()
	rdb := r.Client(t)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	task, err := tasks.New(tasks.BackupRun{Trigger: backup.TriggerSchedule, RequestedAt: time.Now().UTC()},
		tasks.Limits{BackupTimeout: time.Minute}, asynq.MaxRetry(0))
	if err != nil {
		t.Fatal(err)
	}
	info, err := asynq.NewClientFromRedisClient(rdb).Enqueue(task)
	if err != nil {
		t.Fatal(err)
	}
	var ti *asynq.TaskInfo
	testenv.Eventually(t, 30*time.Second, "the backup:run archived with the database down", func() bool {
		ti, err = insp.GetTaskInfo(info.Queue, info.ID)
		return err == nil && ti.State == asynq.TaskStateArchived
	})
	if ti.LastErr == "" || strings.Contains(ti.LastErr, srv.Password) {
		t.Fatalf("archived task's error %q: want the failure, without the password", ti.LastErr)
	}
	t.Logf("archived with: %s", ti.LastErr)
	dbProxy.Restore(t)

	b := newBrowser(t, art)
	archived := base + console.Root + "/queues/" + info.Queue + "?status=archived"
	completed := base + console.Root + "/queues/" + info.Queue + "?status=completed"
	idPrefix, _, _ := strings.Cut(info.ID, "-") // asynqmon shows an id's first part

	// The viewer follows the link to the archived task, logs in through the
	// form and lands on the list: the task is there, its error too, and
	// nothing to run or delete it with.
	viewer := b.tab("viewer")
	viewer.do("open the archived list", chromedp.Navigate(archived))
	viewer.login(viewerName, viewerPW)
	viewer.waitRow(idPrefix)
	viewer.shot("archived-list")
	viewer.checkSessionCookie(base)
	if n := viewer.mutateControls(); n != 0 {
		t.Errorf("the viewer's archived list has %d controls to change tasks; want none", n)
	}
	// asynqmon's API refuses the viewer's changes, even sent from the
	// console's own page (same origin, session cookie): 403 is our layer's
	// answer (asynqmon's read-only mode answers 405).
	for _, c := range []struct{ method, path string }{
		{"POST", "/archived_tasks/" + info.ID + ":run"},
		{"DELETE", "/archived_tasks/" + info.ID},
		{"POST", "/archived_tasks:run_all"},
	} {
		url := console.Root + "/api/queues/" + info.Queue + c.path
		if got := viewer.fetch(c.method, url); got != 403 {
			t.Errorf("viewer's same-origin %s %s answered %d, want 403", c.method, url, got)
		}
	}
	if ti, err := insp.GetTaskInfo(info.Queue, info.ID); err != nil || ti.State != asynq.TaskStateArchived {
		t.Fatalf("after the viewer's attempts the task is %v (%v), want still archived", ti, err)
	}
	viewer.do("open the backups page", chromedp.Navigate(base+console.Root+"/backups"),
		chromedp.WaitVisible(chromedp.ID("dest-file")))
	viewer.shot("backups")
	if n := viewer.count("#backup-now, #verify-now"); n != 0 {
		t.Errorf("the viewer's backups page has %d back up/verify buttons; want none", n)
	}

	// The operator follows the same link and logs in.
	op := b.tab("operator")
	op.do("open the archived list", chromedp.Navigate(archived))
	op.login(opName, opPW)
	op.waitRow(idPrefix)
	if n := op.mutateControls(); n == 0 {
		t.Errorf("the operator's archived list has no controls to change tasks")
	}
	op.shot("archived-list")

	// A page of another origin (same site: another port, so the session
	// cookie goes along despite SameSite=Lax) makes the operator's browser
	// post asynqmon's run: the console refuses it.
	runURL := base + console.Root + "/api/queues/" + info.Queue + "/archived_tasks/" + info.ID + ":run"
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Premio</title><form method="post" action="%s"><button id="prize">Claim your prize</button></form>`, html.EscapeString(runURL))
	}))
	t.Cleanup(evil.Close)
	op.do("visit another site", chromedp.Navigate(evil.URL), chromedp.WaitVisible(chromedp.ID("prize")))
	resp, err := chromedp.RunResponse(op.step(), chromedp.Click(chromedp.ID("prize")))
	if err != nil {
		t.Fatalf("operator: press the other site's button: %v", err)
	}
	op.shot("cross-origin-refused")
	if resp.Status != http.StatusForbidden || resp.URL != runURL {
		t.Errorf("the other site's post to %s answered %d, want 403", resp.URL, resp.Status)
	}
	if ti, err := insp.GetTaskInfo(info.Queue, info.ID); err != nil || ti.State != asynq.TaskStateArchived {
		t.Fatalf("after the cross-origin post the task is %v (%v), want still archived", ti, err)
	}
	// Logged before the answer, but read through the process's pipe.
	testenv.Eventually(t, 10*time.Second, "the refused cross-origin request from "+evil.URL+" in the web log", func() bool {
		return strings.Contains(webLogs.String(), `"origin":"`+evil.URL+`"`)
	})

	// Back on the console, the operator presses the task's Run button
	// (asynqmon shows it once the pointer is on the row's actions cell).
	op.do("open the archived list again", chromedp.Navigate(archived))
	op.waitRow(idPrefix)
	op.do("show the row's actions", chromedp.Click(chromedp.CSS("tbody tr td:last-child button")))
	op.do("wait for the Run button", chromedp.WaitVisible(chromedp.CSS(`tbody tr button[title="Run"]`)))
	op.shot("row-actions")
	op.do("press Run", chromedp.Click(chromedp.CSS(`tbody tr button[title="Run"]`)))
	op.poll("the task leaves the archived list", `!document.body.innerText.includes(`+strconv.Quote(idPrefix)+`)`)
	op.shot("after-run")

	testenv.Eventually(t, 60*time.Second, "the re-run backup:run completed", func() bool {
		ti, err = insp.GetTaskInfo(info.Queue, info.ID)
		return err == nil && ti.State == asynq.TaskStateCompleted
	})
	var man backup.Manifest
	if err := json.Unmarshal(ti.Result, &man); err != nil || man.Name == "" {
		t.Fatalf("completed task's result %q is not a manifest: %v%s", ti.Result, err, logs())
	}
	if _, err := os.Stat(filepath.Join(backupDir, man.Name)); err != nil {
		t.Fatalf("backup file: %v", err)
	}
	op.do("open the completed list", chromedp.Navigate(completed))
	op.waitRow(idPrefix)
	op.shot("completed-list")

	// The backups page lists the new backup under the file destination,
	// good.
	op.do("open the backups page", chromedp.Navigate(base+console.Root+"/backups"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-backup=`+strconv.Quote(man.Name)+`]`)))
	op.shot("backups")
	row := `document.querySelector('tr[data-backup=` + strconv.Quote(man.Name) + `]')`
	var where struct{ State, Destination string }
	where, err = chromedp.Run(op.step(), chromedp.Evaluate[struct{ State, Destination string }](
		`({State: `+row+`.dataset.state, Destination: `+row+`.closest('table').previousElementSibling.id})`))
	if err != nil {
		t.Fatalf("read the backup's row: %v", err)
	}
	if where.State != string(backup.StatusGood) || where.Destination != "dest-file" {
		t.Errorf("backups page: %s is %q under #%s, want %q under #dest-file", man.Name, where.State, where.Destination, backup.StatusGood)
	}
	if n := op.count("#backup-now, #verify-now"); n != 2 {
		t.Errorf("the operator's backups page has %d of the back up/verify buttons, want 2", n)
	}
	// The audit page lists the run.
	op.do("open the audit page", chromedp.Navigate(base+console.Root+"/audit"))
	op.poll("the run in the audit page", `document.body.innerText.includes(`+strconv.Quote(info.ID)+`)`)
	op.shot("audit")

	// The viewer sees the completed task, still with nothing to change it.
	viewer.do("open the completed list", chromedp.Navigate(completed))
	viewer.waitRow(idPrefix)
	viewer.shot("completed-list")
	if n := viewer.mutateControls(); n != 0 {
		t.Errorf("the viewer's completed list has %d controls to change tasks; want none", n)
	}

	for _, tab := range []*browserTab{viewer, op} {
		tab.checkConsole()
	}
	testenv.Eventually(t, 10*time.Second, "the audit line of "+opName+"'s run of "+info.ID+" in the web log", func() bool {
		for line := range strings.Lines(webLogs.String()) {
			if strings.Contains(line, `"audit":true`) && strings.Contains(line, `"user":"`+opName+`"`) &&
				strings.Contains(line, info.ID+`:run`) && strings.Contains(line, `"status":204`) { // asynqmon answers a run with No Content
				return true
			}
		}
		return false
	})
}

// artifactsDir is where the test's screenshots go: CANTINA_TEST_ARTIFACTS,
// else artifacts/browser at the repository's root; a directory per test,
// emptied first.
func artifactsDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("CANTINA_TEST_ARTIFACTS")
	if root == "" {
		root = filepath.Join("..", "..", "artifacts", "browser")
	}
	dir, err := filepath.Abs(filepath.Join(root, t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is one headless chromium for a test; each tab has its own
// browser context (cookies), as two people on two devices.
type browser struct {
	t   *testing.T
	ctx context.Context
	art string
	n   int // screenshots taken, to number them
}

// stepTimeout bounds one browser step: a hang guard, not a timing
// assertion.
const stepTimeout = 20 * time.Second

func newBrowser(t *testing.T, art string) *browser {
	t.Helper()
	profile, err := os.MkdirTemp("", "cantina-chromium")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1600, 1000), // asynqmon's task table shows its actions column whole
		// No internet in tests: every name but the console's fails at
		// once (asynqmon's page links Google Fonts).
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		_ = os.RemoveAll(profile) // best effort: chromium's helpers may still write
	})
	// Start the browser now, without a deadline (a deadline on the first
	// run would be the browser's).
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`0`)); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return &browser{t: t, ctx: ctx, art: art}
}

// browserTab is a tab in a browser context of its own, its console
// messages collected.
type browserTab struct {
	b    *browser
	t    *testing.T
	name string
	ctx  context.Context

	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
	marks    chan string // console.debug texts starting with consoleMark
}

// consoleMark starts the text checkConsole logs to know it has read every
// message before it.
const consoleMark = "cantina-e2e-mark "

// cspListener reports CSP violations to the console, whether or not the
// browser logs them itself.
const cspListener = `document.addEventListener('securitypolicyviolation', e =>
	console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' in ' + e.sourceFile + ':' + e.lineNumber));`

func (b *browser) tab(name string) *browserTab {
	t := b.t
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	tab := &browserTab{b: b, t: t, name: name, ctx: ctx, marks: make(chan string, 1)}
	messages := chromedp.Console(ctx) // opens the tab; no deadline here
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleDebug && strings.HasPrefix(m.Text, consoleMark) {
				tab.marks <- m.Text
				continue
			}
			tab.mu.Lock()
			tab.messages = append(tab.messages, m)
			tab.mu.Unlock()
		}
	}()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspListener}); err != nil {
		t.Fatalf("%s tab: %v", name, err)
	}
	return tab
}

// step is a context for one step of the tab.
func (tab *browserTab) step() context.Context {
	ctx, cancel := context.WithTimeout(tab.ctx, stepTimeout)
	tab.t.Cleanup(cancel)
	return ctx
}

// do runs a step's actions, failing the test (with a screenshot) on an
// error.
func (tab *browserTab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	if err := chromedp.Do(tab.step(), actions...); err != nil {
		tab.shot("failed")
		tab.t.Fatalf("%s: %s: %v", tab.name, what, err)
	}
}

// poll waits until the expression is true in the page.
func (tab *browserTab) poll(what, expr string) {
	tab.t.Helper()
	if _, err := chromedp.Run(tab.step(), chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(stepTimeout))); err != nil {
		tab.shot("failed")
		tab.t.Fatalf("%s: %s: %v", tab.name, what, err)
	}
}

// login fills the login form the console sent the browser to, and submits
// it: the browser goes on to the page it asked for.
func (tab *browserTab) login(user, pw string) {
	tab.t.Helper()
	tab.do("the login form", chromedp.WaitVisible(chromedp.ID("username")))
	tab.do("type the credentials",
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), pw))
	tab.shot("login")
	tab.do("submit the login form", chromedp.Click(chromedp.CSS(`form.login button[type="submit"]`)),
		chromedp.WaitNotPresent(chromedp.ID("password")))
}

// waitRow waits until asynqmon's task table shows the task whose id
// starts with idPrefix.
func (tab *browserTab) waitRow(idPrefix string) {
	tab.t.Helper()
	tab.poll("the task's row", `[...document.querySelectorAll('tbody tr')].some(tr => tr.innerText.includes(`+strconv.Quote(idPrefix)+`))`)
}

// checkSessionCookie checks the session cookie as the browser keeps it:
// HttpOnly (the page's scripts cannot read it), SameSite=Lax, scoped to
// the console, not Secure over http.
func (tab *browserTab) checkSessionCookie(base string) {
	t := tab.t
	t.Helper()
	res, err := chromedp.Call(tab.step(), network.GetCookies, network.GetCookiesParams{URLs: []string{base + console.Root + "/"}})
	if err != nil {
		t.Fatalf("%s: read the cookies: %v", tab.name, err)
	}
	var c *network.Cookie
	for _, k := range res.Cookies {
		if k.Name == console.CookieName {
			c = k
		}
	}
	if c == nil || !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != console.Root || c.Secure {
		t.Errorf("%s: session cookie %+v; want HttpOnly, SameSite=Lax, Path=%s, not Secure", tab.name, c, console.Root)
	}
	seen, err := chromedp.Run(tab.step(), chromedp.Evaluate[string](`document.cookie`))
	if err != nil || strings.Contains(seen, console.CookieName) {
		t.Errorf("%s: the page's scripts see the cookies %q (%v)", tab.name, seen, err)
	}
}

// count is the number of elements matching a CSS selector.
func (tab *browserTab) count(sel string) int {
	tab.t.Helper()
	n, err := chromedp.Run(tab.step(), chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(sel)+`).length`))
	if err != nil {
		tab.t.Fatalf("%s: count %s: %v", tab.name, sel, err)
	}
	return n
}

// mutateControls counts what, on an asynqmon task list, changes tasks:
// the rows' check boxes (for batch actions) and action buttons, the
// table's actions, and the "…" that shows a row's actions.
func (tab *browserTab) mutateControls() int {
	tab.t.Helper()
	n, err := chromedp.Run(tab.step(), chromedp.Evaluate[int](`
		document.querySelectorAll('table input[type=checkbox], tbody tr button[title=Run], tbody tr button[title=Delete], tbody tr button[title=Archive], tbody tr button[title=Cancel]').length
		+ [...document.querySelectorAll('th')].filter(th => th.innerText.trim() === 'Actions').length
		+ [...document.querySelectorAll('button')].filter(b => /^(Run All|Delete All|Archive All)$/i.test(b.innerText.trim())).length`))
	if err != nil {
		tab.t.Fatalf("%s: count the controls: %v", tab.name, err)
	}
	return n
}

// fetch sends a request from the page's own JavaScript (same origin, its
// cookies) and returns the status.
func (tab *browserTab) fetch(method, url string) int {
	tab.t.Helper()
	status, err := chromedp.Run(tab.step(), chromedp.Evaluate[int](
		`fetch(`+strconv.Quote(url)+`, {method: `+strconv.Quote(method)+`, headers: {'Content-Type': 'application/json'}, body: '{}'}).then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		tab.t.Fatalf("%s: fetch %s %s: %v", tab.name, method, url, err)
	}
	return status
}

// shot saves a full-page screenshot, numbered in the test's order.
func (tab *browserTab) shot(name string) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tab.t.Errorf("%s: screenshot %s: %v", tab.name, name, err)
		return
	}
	tab.b.n++
	file := filepath.Join(tab.b.art, fmt.Sprintf("%02d-%s-%s.png", tab.b.n, tab.name, name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		tab.t.Errorf("save screenshot: %v", err)
	}
}

// checkConsole fails the test on any CSP violation or JavaScript
// exception the tab's pages reported, and logs the other messages (such as
// the Google Fonts requests failing without internet) and keeps them in
// the artifacts.
func (tab *browserTab) checkConsole() {
	t := tab.t
	t.Helper()
	// Everything logged before the mark has been read once the mark is.
	mark := consoleMark + tab.name
	if _, err := chromedp.Run(tab.step(), chromedp.Evaluate[chromedp.Void](`console.debug(`+strconv.Quote(mark)+`)`)); err != nil {
		t.Fatalf("%s: %v", tab.name, err)
	}
	select {
	case <-tab.marks:
	case <-time.After(stepTimeout):
		t.Fatalf("%s: the console's messages stopped coming", tab.name)
	}
	tab.mu.Lock()
	defer tab.mu.Unlock()
	var all strings.Builder
	for _, m := range tab.messages {
		line := fmt.Sprintf("%s %s [%s] %s", m.Type, m.Source, m.URL, m.Text)
		fmt.Fprintln(&all, line)
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") || strings.HasPrefix(m.Text, "CSP violation") {
			t.Errorf("%s tab: %s", tab.name, line)
		} else {
			t.Logf("%s tab console: %s", tab.name, line)
		}
	}
	_ = os.WriteFile(filepath.Join(tab.b.art, tab.name+"-console.txt"), []byte(all.String()), 0o644)
}
