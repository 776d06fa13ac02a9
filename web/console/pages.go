package console

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// texts are the console's own words, per language.
var texts = map[string]map[string]string{
	"es": {
		"title":          "Consola de cantina-ops",
		"login":          "Iniciar sesión",
		"username":       "Usuario",
		"password":       "Contraseña",
		"submit":         "Entrar",
		"badLogin":       "Usuario o contraseña incorrectos.",
		"tooMany":        "Demasiados intentos. Espera %s s y vuelve a probar.",
		"noRedis":        "La consola no puede guardar la sesión ahora (Redis no responde). Prueba en unos segundos.",
		"busy":           "Demasiados inicios de sesión a la vez. Prueba en unos segundos.",
		"queues":         "Colas",
		"audit":          "Auditoría",
		"logout":         "Cerrar sesión",
		"signedInAs":     "Sesión de",
		"forbidden":      "Tu cuenta (%s) solo puede mirar: esta página es para operadores.",
		"when":           "Cuándo",
		"action":         "Acción",
		"who":            "Quién",
		"from":           "Desde",
		"request":        "Petición",
		"queue":          "Cola",
		"task":           "Tarea",
		"status":         "Estado",
		"detail":         "Detalle",
		"noEvents":       "Aún no hay eventos.",
		"lastN":          "Los últimos %d eventos, el más reciente primero.",
		"home":           "Inicio",
		"queuesNote":     "tareas en cola, en curso, fallidas y archivadas (asynqmon)",
		"backups":        "Copias",
		"backupsNote":    "cada copia de seguridad por destino: tamaño, antigüedad, verificación",
		"health":         "Salud",
		"healthNote":     "el informe de salud (JSON)",
		"auditNote":      "quién hizo qué y desde dónde",
		"backupNow":      "Hacer copia ahora",
		"verifyNow":      "Verificar ahora",
		"queued":         "Tarea en cola:",
		"queueFailed":    "No se pudo poner la tarea en cola (Redis no responde). Prueba en unos segundos.",
		"name":           "Nombre",
		"size":           "Tamaño",
		"age":            "Antigüedad",
		"state":          "Estado",
		"manifest":       "Manifiesto",
		"noBackups":      "Aún no hay copias en este destino.",
		"noBackupConfig": "Este proceso no tiene la base de datos configurada: no puede listar copias.",
		"listFailed":     "No se pudo listar este destino (el registro del proceso web dice por qué).",
	},
	"en": {
		"title":          "cantina-ops console",
		"login":          "Log in",
		"username":       "User name",
		"password":       "Password",
		"submit":         "Log in",
		"badLogin":       "Wrong user name or password.",
		"tooMany":        "Too many attempts. Wait %s s and try again.",
		"noRedis":        "The console cannot keep your session right now (Redis does not answer). Try again in a few seconds.",
		"busy":           "Too many logins at once. Try again in a few seconds.",
		"queues":         "Queues",
		"audit":          "Audit",
		"logout":         "Log out",
		"signedInAs":     "Signed in as",
		"forbidden":      "Your account (%s) may only look: this page is for operators.",
		"when":           "When",
		"action":         "Action",
		"who":            "Who",
		"from":           "From",
		"request":        "Request",
		"queue":          "Queue",
		"task":           "Task",
		"status":         "Status",
		"detail":         "Detail",
		"noEvents":       "No events yet.",
		"lastN":          "The last %d events, newest first.",
		"home":           "Home",
		"queuesNote":     "queued, running, failed and archived tasks (asynqmon)",
		"backups":        "Backups",
		"backupsNote":    "every backup per destination: size, age, verification",
		"health":         "Health",
		"healthNote":     "the health report (JSON)",
		"auditNote":      "who did what, from where",
		"backupNow":      "Back up now",
		"verifyNow":      "Verify now",
		"queued":         "Task queued:",
		"queueFailed":    "The task could not be queued (Redis does not answer). Try again in a few seconds.",
		"name":           "Name",
		"size":           "Size",
		"age":            "Age",
		"state":          "State",
		"manifest":       "Manifest",
		"noBackups":      "No backups in this destination yet.",
		"noBackupConfig": "This process has no database configured: it cannot list backups.",
		"listFailed":     "This destination could not be listed (the web process's log says why).",
	},
}

// lang is the language of r's pages: NOTIFY_LANG when set, else the
// browser's preferred of es and en (Accept-Language), else es.
func (h *Handler) lang(r *http.Request) string {
	if _, ok := texts[h.cfg.Console.Lang]; ok {
		return h.cfg.Console.Lang
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

// acceptLanguage picks es or en from an Accept-Language value by quality
// (the first listed wins a tie); es when it names neither.
func acceptLanguage(v string) string {
	best, bestQ := "es", 0.0
	for _, part := range strings.Split(v, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if _, ok := texts[primary]; !ok {
			continue
		}
		q := 1.0
		if qs, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(qs, 64); err == nil {
				q = f
			}
		}
		if q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}

// pageData is what every page template gets.
type pageData struct {
	Lang string
	T    map[string]string
	Root string
	User *User // nil on the login page
	// Login page.
	Username, Next, Error string
	// Audit page.
	Events  []Event
	Keep    int
	TZ      *time.Location
	Message string
	// A page of Render.
	Title   string
	Content template.HTML
}

var funcs = template.FuncMap{
	"when": func(t time.Time, loc *time.Location) string {
		return t.In(loc).Format("2006-01-02 15:04:05 MST")
	},
}

var pages = template.Must(template.New("").Funcs(funcs).Parse(`
{{define "head"}}<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="{{.Root}}/favicon.ico">
<title>{{.T.title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#f6f6f6}
header{background:#263238;color:#fff;padding:.6em 1em;display:flex;gap:1em;align-items:center;flex-wrap:wrap}
header a{color:#fff}header form{margin-left:auto}
main{padding:1em;max-width:72em;margin:auto}
form.login{background:#fff;max-width:22em;margin:3em auto;padding:1.5em;border-radius:6px;box-shadow:0 1px 4px #0002}
label{display:block;margin:.8em 0 .2em}input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.5em;font-size:1em}
button{margin-top:1em;padding:.5em 1.2em;font-size:1em}
.error{color:#b00020}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9em}
th,td{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top}
td.path{word-break:break-all}
form.inline{display:inline-block;margin-right:.5em}.notice{background:#e8f5e9;padding:.5em}
td.ok{color:#1b5e20}pre{white-space:pre-wrap;font-size:.85em;max-width:40em}
</style></head><body>
{{if .User}}<header><strong>cantina-ops</strong>
<a href="{{.Root}}/home">{{.T.home}}</a><a href="{{.Root}}/">{{.T.queues}}</a><a href="{{.Root}}/backups">{{.T.backups}}</a><a href="/health/">{{.T.health}}</a>{{if eq .User.Role "operator"}}<a href="{{.Root}}/audit">{{.T.audit}}</a>{{end}}
<form method="post" action="{{.Root}}/logout"><span>{{.T.signedInAs}} {{.User.Name}} ({{.User.Role}})</span>
<button type="submit">{{.T.logout}}</button></form></header>{{end}}
{{end}}

{{define "login"}}{{template "head" .}}
<form class="login" method="post" action="{{.Root}}/login">
<h1>{{.T.login}}</h1>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<label for="username">{{.T.username}}</label>
<input type="text" id="username" name="username" value="{{.Username}}" autocomplete="username" autocapitalize="none" required autofocus>
<label for="password">{{.T.password}}</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<input type="hidden" name="next" value="{{.Next}}">
<button type="submit">{{.T.submit}}</button>
</form></body></html>
{{end}}

{{define "message"}}{{template "head" .}}
<main><p class="error">{{.Message}}</p></main></body></html>
{{end}}

{{define "logout"}}{{template "head" .}}
<form class="login" method="post" action="{{.Root}}/logout">
<h1>{{.T.logout}}</h1>
<p>{{.T.signedInAs}} {{.User.Name}} ({{.User.Role}})</p>
<button type="submit">{{.T.logout}}</button>
</form></body></html>
{{end}}

{{define "page"}}{{template "head" .}}
<main><h1>{{.Title}}</h1>
{{.Content}}
</main></body></html>
{{end}}

{{define "audit"}}{{template "head" .}}
<main><h1>{{.T.audit}}</h1>
<p>{{printf .T.lastN .Keep}}</p>
{{if .Events}}<table>
<thead><tr><th>{{.T.when}}</th><th>{{.T.action}}</th><th>{{.T.who}}</th><th>{{.T.from}}</th><th>{{.T.request}}</th><th>{{.T.queue}}</th><th>{{.T.task}}</th><th>{{.T.status}}</th><th>{{.T.detail}}</th></tr></thead>
<tbody>{{range .Events}}<tr>
<td>{{when .Time $.TZ}}</td><td>{{.Action}}</td><td>{{.User}}{{if .Token}}token {{.Token}}{{end}}</td><td>{{.IP}}</td>
<td class="path">{{.Method}} {{.Path}}</td><td>{{.Queue}}</td><td>{{.TaskID}}</td><td>{{if .Status}}{{.Status}}{{end}}</td><td>{{.Detail}}</td>
</tr>{{end}}</tbody></table>
{{else}}<p>{{.T.noEvents}}</p>{{end}}
</main></body></html>
{{end}}
`))

// Render writes a page of the console (for pages mounted with Page): its
// head, styles and navigation (the account, log out), then title and
// content, which the caller has made safe HTML (html/template). No inline
// script: the CSP refuses them.
func (h *Handler) Render(w http.ResponseWriter, r *http.Request, code int, title string, content template.HTML) {
	h.render(w, r, code, "page", pageData{Title: title, Content: content})
}

// Lang is r's language for pages mounted with Page: "es" or "en".
func (h *Handler) Lang(r *http.Request) string { return h.lang(r) }

// render writes the named page with status code.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, code int, name string, d pageData) {
	d.Lang = h.lang(r)
	d.T = texts[d.Lang]
	d.Root = Root
	if u, ok := UserFrom(r.Context()); ok && d.User == nil {
		d.User = &u
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	if err := pages.ExecuteTemplate(w, name, d); err != nil {
		h.log.Warn("render console page", "page", name, "err", err)
	}
}
