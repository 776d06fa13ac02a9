package console

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/units"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// BackupLister lists every destination's backups; *backup.Manager's
// ListAll is one.
type BackupLister interface {
	ListAll(ctx context.Context) (backup.Listing, error)
}

// Enqueuer queues a task and returns its id.
type Enqueuer func(ctx context.Context, a tasks.Args) (id string, err error)

// The backups page (GET Root/backups, every account) lists each
// destination's backups, newest first, with size, age, state and
// manifest; operators also get "back up now" and "verify now", which queue
// a backup:run (trigger "console") or a backup:verify of the latest good
// backup, audited, and come back to the page naming the queued task.
func (h *Handler) backupPages() {
	h.Page("GET "+Root+"/home", RoleAny, http.HandlerFunc(h.homePage))
	h.Page("GET "+Root+"/backups", RoleAny, http.HandlerFunc(h.backupsPage))
	h.Page("POST "+Root+"/backups/run", config.RoleOperator, h.trigger(func(time.Time) tasks.Args { return nil }))
	h.Page("POST "+Root+"/backups/verify", config.RoleOperator, h.trigger(func(time.Time) tasks.Args { return tasks.BackupVerify{} }))
}

// destinationBackups are one destination's rows of the backups page.
type destinationBackups struct {
	Name, URL string
	Backups   []backupRow
	Error     string
}

type backupRow struct {
	Name, Size, Age, State, Problem, Manifest string
	Good                                      bool
}

var backupsTemplate = template.Must(template.New("backups").Parse(`
{{if .Queued}}<p class="notice" role="status">{{.T.queued}} <code>{{.Queued}}</code> ({{.QueuedType}})</p>{{end}}
{{if .Operator}}<form method="post" action="{{.Root}}/backups/run" class="inline"><button type="submit" id="backup-now">{{.T.backupNow}}</button></form>
<form method="post" action="{{.Root}}/backups/verify" class="inline"><button type="submit" id="verify-now">{{.T.verifyNow}}</button></form>{{end}}
{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
{{range .Destinations}}<h2 id="dest-{{.Name}}">{{.Name}} <small>{{.URL}}</small></h2>
{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
{{if .Backups}}<table>
<thead><tr><th>{{$.T.name}}</th><th>{{$.T.size}}</th><th>{{$.T.age}}</th><th>{{$.T.state}}</th><th>{{$.T.manifest}}</th></tr></thead>
<tbody>{{range .Backups}}<tr data-backup="{{.Name}}" data-state="{{.State}}">
<td><code>{{.Name}}</code></td><td>{{.Size}}</td><td>{{.Age}}</td>
<td class="{{if .Good}}ok{{else}}error{{end}}">{{.State}}{{if .Problem}}: {{.Problem}}{{end}}</td>
<td>{{if .Manifest}}<details><summary>{{$.T.manifest}}</summary><pre>{{.Manifest}}</pre></details>{{end}}</td>
</tr>{{end}}</tbody></table>
{{else if not .Error}}<p>{{$.T.noBackups}}</p>{{end}}
{{end}}`))

func (h *Handler) backupsPage(w http.ResponseWriter, r *http.Request) {
	u, _ := UserFrom(r.Context())
	lang := h.lang(r)
	d := struct {
		T                  map[string]string
		Root               string
		Operator           bool
		Queued, QueuedType string
		Error              string
		Destinations       []destinationBackups
	}{T: texts[lang], Root: Root, Operator: u.Role == config.RoleOperator,
		Queued: r.URL.Query().Get("queued"), QueuedType: r.URL.Query().Get("type")}
	if h.backups == nil {
		d.Error = d.T["noBackupConfig"]
	} else {
		d.Destinations = h.listBackups(r.Context(), d.T)
	}
	var buf strings.Builder
	if err := backupsTemplate.Execute(&buf, d); err != nil {
		h.log.Warn("render backups page", "err", err)
	}
	h.Render(w, r, http.StatusOK, d.T["backups"], template.HTML(buf.String())) // #nosec: html/template output
}

// listBackups lists each configured destination, in BACKUP_STORAGE's
// order; a destination that cannot be listed shows why, and the others
// still show.
func (h *Handler) listBackups(ctx context.Context, t map[string]string) []destinationBackups {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	l, err := h.backups.ListAll(ctx)
	now := h.now()
	var out []destinationBackups
	index := map[string]int{}
	for _, dst := range h.cfg.BackupStorage {
		index[dst.Name] = len(out)
		out = append(out, destinationBackups{Name: dst.Name, URL: dst.String()})
	}
	var le *backup.ListError
	for e := range allErrors(err) {
		if errors.As(e, &le) {
			if i, ok := index[le.Destination.Name]; ok {
				// Our words only: a storage error may name hosts and paths.
				out[i].Error = t["listFailed"]
				h.log.Warn("backups page: list a destination", "destination", le.Destination.Name, "err", le.Err)
				continue
			}
		}
		h.log.Warn("backups page: list", "err", e)
	}
	for _, b := range l.Backups {
		i, ok := index[b.Destination]
		if !ok {
			continue
		}
		row := backupRow{Name: b.Name, Size: units.Bytes(b.Size), Age: b.Age(now).Round(time.Minute).String(),
			State: string(b.Status), Problem: b.Problem, Good: b.Good()}
		if b.Manifest != nil {
			row.Manifest = manifestText(b.Manifest)
		}
		out[i].Backups = append(out[i].Backups, row)
	}
	return out
}

// allErrors yields err's leaves (errors.Join).
func allErrors(err error) func(func(error) bool) {
	return func(yield func(error) bool) {
		if err == nil {
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				if !yield(e) {
					return
				}
			}
			return
		}
		yield(err)
	}
}

// trigger queues the task args gives (a backup:run when nil: its request
// time is now), audits it, and sends the operator back to the page.
func (h *Handler) trigger(args func(time.Time) tasks.Args) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := UserFrom(r.Context())
		now := h.now().UTC()
		a := args(now)
		if a == nil {
			a = tasks.BackupRun{Trigger: backup.TriggerConsole, RequestedAt: now}
		}
		if h.enqueue == nil {
			writeError(w, http.StatusServiceUnavailable, "this process cannot queue tasks")
			return
		}
		id, err := h.enqueue(r.Context(), a)
		if err != nil {
			h.log.Warn("console: queue a task", "type", a.TaskType(), "err", err)
			h.render(w, r, http.StatusServiceUnavailable, "message", pageData{Message: texts[h.lang(r)]["queueFailed"]})
			return
		}
		h.Audit(r.Context(), Event{Action: ActionBackup, User: u.Name, IP: h.ClientIP(r), Method: r.Method, Path: r.URL.Path,
			TaskID: id, Detail: a.TaskType()})
		http.Redirect(w, r, Root+"/backups?"+url.Values{"queued": {id}, "type": {a.TaskType()}}.Encode(), http.StatusSeeOther)
	})
}

// homePage links the console's pages and the health report.
func (h *Handler) homePage(w http.ResponseWriter, r *http.Request) {
	u, _ := UserFrom(r.Context())
	t := texts[h.lang(r)]
	links := []struct{ Href, Text, Note string }{
		{Root + "/", t["queues"], t["queuesNote"]},
		{Root + "/backups", t["backups"], t["backupsNote"]},
		{"/health/", t["health"], t["healthNote"]},
	}
	if u.Role == config.RoleOperator {
		links = append(links, struct{ Href, Text, Note string }{Root + "/audit", t["audit"], t["auditNote"]})
	}
	var buf strings.Builder
	if err := homeTemplate.Execute(&buf, links); err != nil {
		h.log.Warn("render home page", "err", err)
	}
	h.Render(w, r, http.StatusOK, t["title"], template.HTML(buf.String())) // #nosec: html/template output
}

var homeTemplate = template.Must(template.New("home").Parse(`<ul class="home">
{{range .}}<li><a href="{{.Href}}">{{.Text}}</a> — {{.Note}}</li>
{{end}}</ul>`))

// manifestText is a manifest as the page shows it: indented JSON (it
// holds no secret: sizes, checksums, tables, public keys).
func manifestText(m *backup.Manifest) string {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}
