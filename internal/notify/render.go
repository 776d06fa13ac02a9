package notify

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	htemplate "html/template"
	"net/url"
	"regexp"
	"strings"
	"sync"
	ttemplate "text/template"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// templateFS holds one file per language and kind,
// templates/<lang>/<kind>.tmpl, each defining "subject", "text" and
// "html"; templates/<lang>/common.tmpl with the footers; and
// templates/layout.html, the HTML frame around every "html".
//
//go:embed templates
var templateFS embed.FS

// Message is a rendered notification for one recipient.
type Message struct {
	Kind    Kind
	From    string
	To      string
	Subject string
	Text    string
	HTML    string
	// MessageID is the Message-ID without angle brackets.
	MessageID string
	// ListID is the List-Id header: "cantina-ops <cantina-ops.HOST>", HOST
	// from PUBLIC_URL, so mail filters can route the alerts of one server.
	ListID string
}

// Renderer turns event data into messages, in the configured language by
// default, with times in SCHEDULE_TZ and links to PUBLIC_URL.
type Renderer struct {
	lang      string
	publicURL string
	loc       *time.Location
	from      string
	listHost  string
	secrets   config.Secrets

	once sync.Once
	sets map[string]map[Kind]*templateSet
	err  error
}

type templateSet struct {
	text *ttemplate.Template
	html *htemplate.Template
}

// NewRenderer returns a Renderer for cfg. Templates are parsed on first use.
func NewRenderer(cfg *config.Config) *Renderer {
	host := "localhost"
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	loc := cfg.ScheduleTZ
	if loc == nil {
		loc = time.UTC
	}
	return &Renderer{
		lang:      cfg.NotifyLang,
		publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		loc:       loc,
		from:      cfg.Email.From,
		listHost:  host,
		secrets:   cfg.Secrets(),
	}
}

// RenderTask renders an email:send payload. taskID seeds the Message-ID, so
// a re-sent task carries the same one and mail clients can fold duplicates.
// The event is decoded leniently (unknown fields are ignored) so that a
// worker one version behind still sends what it can.
func (r *Renderer) RenderTask(p tasks.EmailSend, taskID string) (*Message, error) {
	var d Data
	if err := json.Unmarshal(p.Event, &d); err != nil {
		return nil, fmt.Errorf("decode %s event: %w", p.Kind, err)
	}
	return r.Render(Kind(p.Kind), p.Lang, p.To, d, taskID)
}

// Render renders kind for recipient to in lang ("" for the configured
// one). seed makes the Message-ID deterministic; "" gives a random one.
func (r *Renderer) Render(kind Kind, lang, to string, d Data, seed string) (*Message, error) {
	r.once.Do(func() { r.sets, r.err = r.parse() })
	if r.err != nil {
		return nil, r.err
	}
	if lang == "" {
		lang = r.lang
	}
	byKind, ok := r.sets[lang]
	if !ok {
		return nil, fmt.Errorf("render %s: no templates for language %q (use es or en)", kind, lang)
	}
	set, ok := byKind[kind]
	if !ok {
		return nil, fmt.Errorf("render: unknown notification kind %q", kind)
	}
	d.scrub(r.secrets)
	if err := d.check(kind); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	v := &view{Data: d, Kind: kind, Lang: lang, To: to, ConsoleURL: r.publicURL + "/monitoring/"}
	v.TaskURL = r.taskURL(d)

	var subj, text, html bytes.Buffer
	if err := set.text.ExecuteTemplate(&subj, "subject", v); err != nil {
		return nil, fmt.Errorf("render %s subject (%s): %w", kind, lang, err)
	}
	v.Subject = strings.Join(strings.Fields(subj.String()), " ")
	if err := set.text.ExecuteTemplate(&text, "text", v); err != nil {
		return nil, fmt.Errorf("render %s text (%s): %w", kind, lang, err)
	}
	if err := set.html.ExecuteTemplate(&html, "layout", v); err != nil {
		return nil, fmt.Errorf("render %s html (%s): %w", kind, lang, err)
	}
	return &Message{
		Kind:      kind,
		From:      r.from,
		To:        to,
		Subject:   v.Subject,
		Text:      tidyText(text.String()),
		HTML:      html.String(),
		MessageID: messageID(seed, r.from),
		ListID:    "cantina-ops <cantina-ops." + r.listHost + ">",
	}, nil
}

// view is what templates see.
type view struct {
	Data
	Kind Kind
	Lang string
	To   string
	// Subject is the rendered subject (for the HTML title).
	Subject string
	// ConsoleURL is the console's home; TaskURL the task's page in it,
	// when the event came from a task.
	ConsoleURL string
	TaskURL    string
}

// taskURL links to the event's task in the console (asynqmon's route
// /queues/:qname/tasks/:taskId), or "" when there is none.
func (r *Renderer) taskURL(d Data) string {
	var a Attempt
	switch {
	case d.Backup != nil:
		a = d.Backup.Attempt
	case d.Verify != nil:
		a = d.Verify.Attempt
	}
	if a.TaskID == "" || a.Queue == "" {
		return ""
	}
	return r.publicURL + "/monitoring/queues/" + url.PathEscape(a.Queue) + "/tasks/" + url.PathEscape(a.TaskID)
}

// parse parses every language's templates.
func (r *Renderer) parse() (map[string]map[Kind]*templateSet, error) {
	sets := map[string]map[Kind]*templateSet{}
	for lang, loc := range locales {
		funcs := map[string]any{
			"num":    loc.num,
			"size":   loc.size,
			"dur":    dur,
			"status": loc.statusName,
			"stage":  loc.stageName,
			"when":   func(t time.Time) string { return t.In(r.loc).Format(loc.dateLayout) },
			"join":   strings.Join,
			"indent": indent,
		}
		sets[lang] = map[Kind]*templateSet{}
		for _, kind := range Kinds() {
			files := []string{"templates/" + lang + "/common.tmpl", "templates/" + lang + "/" + string(kind) + ".tmpl"}
			tt, err := ttemplate.New(string(kind)).Funcs(funcs).ParseFS(templateFS, files...)
			if err != nil {
				return nil, fmt.Errorf("parse %s templates (%s): %w", kind, lang, err)
			}
			ht, err := htemplate.New(string(kind)).Funcs(funcs).ParseFS(templateFS, append([]string{"templates/layout.html"}, files...)...)
			if err != nil {
				return nil, fmt.Errorf("parse %s HTML templates (%s): %w", kind, lang, err)
			}
			for _, name := range []string{"subject", "text"} {
				if tt.Lookup(name) == nil {
					return nil, fmt.Errorf("template %s/%s.tmpl does not define %q", lang, kind, name)
				}
			}
			if ht.Lookup("html") == nil {
				return nil, fmt.Errorf("template %s/%s.tmpl does not define \"html\"", lang, kind)
			}
			sets[lang][kind] = &templateSet{text: tt, html: ht}
		}
	}
	return sets, nil
}

// indent indents every line of s but the first by n spaces, for
// multi-line errors under an indented label.
func indent(n int, s string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+strings.Repeat(" ", n))
}

var blankRuns = regexp.MustCompile(`\n{3,}`)

// tidyText trims the template's edges and collapses runs of blank lines,
// so templates can be laid out for reading.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	s = blankRuns.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")
	return strings.TrimSpace(s) + "\n"
}

// messageID returns "<hash>.cantina-ops@<domain of from>": derived from
// seed when given, random otherwise.
func messageID(seed, from string) string {
	domain := "cantina-ops.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = from[i+1:]
	}
	var sum []byte
	if seed != "" {
		h := sha256.Sum256([]byte(seed))
		sum = h[:16]
	} else {
		sum = make([]byte, 16)
		_, _ = rand.Read(sum)
	}
	return hex.EncodeToString(sum) + ".cantina-ops@" + domain
}
