package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/tasks"
)

func TestRenderEveryKindInBothLanguages(t *testing.T) {
	r := NewRenderer(testConfig(t))
	for _, lang := range []string{"es", "en"} {
		for _, kind := range Kinds() {
			t.Run(lang+"/"+string(kind), func(t *testing.T) {
				m, err := r.Render(kind, lang, "admin@example.com", sample(kind), "seed-"+string(kind))
				if err != nil {
					t.Fatal(err)
				}
				if m.Subject != subjects[lang][kind] {
					t.Errorf("subject %q, want %q", m.Subject, subjects[lang][kind])
				}
				for _, part := range []struct{ name, body string }{{"text", m.Text}, {"html", m.HTML}} {
					for _, want := range append([]string{marker, footers[lang], "admin@example.com", "https://ops.example.org/monitoring/"}, bodyPhrases[kind]...) {
						if !strings.Contains(part.body, want) {
							t.Errorf("%s part lacks %q:\n%s", part.name, want, part.body)
						}
					}
					if strings.Contains(part.body, "<no value>") {
						t.Errorf("%s part has an unset field:\n%s", part.name, part.body)
					}
				}
				if strings.Contains(m.Text, "<p>") || strings.Contains(m.Text, "<b>") {
					t.Errorf("text part has HTML:\n%s", m.Text)
				}
				if !strings.HasPrefix(m.HTML, "<!DOCTYPE html>") || !strings.Contains(m.HTML, `<html lang="`+lang+`">`) {
					t.Errorf("html part is not a %s HTML document:\n%s", lang, m.HTML)
				}
				if m.Kind != kind || m.From != "cantina@example.com" || m.To != "admin@example.com" ||
					m.ListID != "cantina-ops <cantina-ops.ops.example.org>" || m.MessageID != messageID("seed-"+string(kind), "cantina@example.com") {
					t.Errorf("envelope %+v", m)
				}
			})
		}
	}
}

func TestRenderUsesConfiguredLanguageAndTimeZone(t *testing.T) {
	cfg := testConfig(t)
	cfg.NotifyLang = "en"
	m, err := NewRenderer(cfg).Render(KindTest, "", "admin@example.com", sample(KindTest), "")
	if err != nil {
		t.Fatal(err)
	}
	// 02:00:05 UTC is 03:00 in Madrid in November.
	if m.Subject != subjects["en"][KindTest] || !strings.Contains(m.Text, "26 Nov 2026 03:00 CET") {
		t.Errorf("subject %q, text:\n%s", m.Subject, m.Text)
	}
}

func TestRenderEscapesHTMLButNotText(t *testing.T) {
	d := sample(KindBackupFailed)
	d.Backup.Error = `<script>alert("x")</script> & <b>bold</b>`
	m, err := NewRenderer(testConfig(t)).Render(KindBackupFailed, "en", "admin@example.com", d, "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "&lt;script&gt;") {
		t.Errorf("HTML does not escape the error:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, d.Backup.Error) {
		t.Errorf("text mangles the error:\n%s", m.Text)
	}
}

func TestRenderIndentsMultiLineErrors(t *testing.T) {
	d := sample(KindBackupFailed)
	d.Backup.Error = "first line\nsecond line"
	m, err := NewRenderer(testConfig(t)).Render(KindBackupFailed, "en", "admin@example.com", d, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "  first line\n  second line\n") {
		t.Errorf("multi-line error not indented:\n%s", m.Text)
	}
}

func TestRenderWithoutTaskLinksTheConsole(t *testing.T) {
	d := sample(KindBackupFailed)
	d.Backup.Attempt = Attempt{}
	m, err := NewRenderer(testConfig(t)).Render(KindBackupFailed, "es", "admin@example.com", d, "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Text, "intentos") || strings.Contains(m.Text, "/tasks/") || !strings.Contains(m.Text, "«Archived»") {
		t.Errorf("text without a task:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, `href="https://ops.example.org/monitoring/"`) {
		t.Errorf("HTML does not link the console:\n%s", m.HTML)
	}
}

// TestRenderScrubsSecrets: an error that quotes a DSN or the SMTP password
// (in any encoding) never reaches a message, even when the data was queued
// by something that did not scrub it.
func TestRenderScrubsSecrets(t *testing.T) {
	d := sample(KindBackupFailed)
	d.Backup.Error = "connect mysql://cantina:" + dbPassword + "@db.internal:3306/cantina failed; smtp said " + smtpPassword +
		"; escaped " + strings.ReplaceAll(dbPassword, "-", "%2D")
	d.Backup.Hint = "user cantina:" + dbPassword + "@tcp(db.internal:3306)/cantina"
	for _, lang := range []string{"es", "en"} {
		m, err := NewRenderer(testConfig(t)).Render(KindBackupFailed, lang, "admin@example.com", d, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range []string{m.Subject, m.Text, m.HTML} {
			for _, secret := range []string{dbPassword, smtpPassword, "cantina:" + dbPassword} {
				if strings.Contains(part, secret) {
					t.Errorf("%s: a secret (%s) reached the message:\n%s", lang, secret, part)
				}
			}
		}
		if !strings.Contains(m.Text, "mysql://cantina:[REDACTED]@db.internal:3306/cantina") {
			t.Errorf("redaction lost the rest of the error:\n%s", m.Text)
		}
	}
	if !strings.Contains(d.Backup.Error, dbPassword) {
		t.Error("rendering changed the caller's data")
	}
}

// TestRenderKeepsNamesEqualToThePassword: with the database password equal
// to the database name, the email still names the database (subject, backup
// file name, body) and hides the password in the DSN of the error.
func TestRenderKeepsNamesEqualToThePassword(t *testing.T) {
	cfg := testConfig(t)
	cfg.DB.Password = "cantina"
	d := sample(KindBackupFailed)
	d.Backup.Error = "dial mysql://cantina:cantina@db.internal:3306/cantina: refused"
	d.Backup.Hint = "open cantina:cantina@tcp(db.internal:3306)/cantina"
	m, err := NewRenderer(cfg).Render(KindBackupFailed, "en", "admin@example.com", d, "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ part, got, want string }{
		{"subject", m.Subject, "Backup failed: cantina"},
		{"file name", m.Text, "cantina-20261126T020000Z.sql.gz"},
		{"URL", m.Text, "mysql://cantina:[REDACTED]@db.internal:3306/cantina: refused"},
		{"DSN", m.Text, "open cantina:[REDACTED]@tcp(db.internal:3306)/cantina"},
		{"HTML URL", m.HTML, "mysql://cantina:[REDACTED]@db.internal:3306/cantina: refused"},
	}
	for _, tt := range tests {
		t.Run(tt.part, func(t *testing.T) {
			if !strings.Contains(tt.got, tt.want) {
				t.Errorf("lacks %q:\n%s", tt.want, tt.got)
			}
		})
	}
	for _, leak := range []string{":cantina@", "cantina%3Acantina"} {
		if strings.Contains(m.Text+m.HTML, leak) {
			t.Errorf("the password used as a password reached the message (%q)", leak)
		}
	}
}

func TestRenderTask(t *testing.T) {
	event, err := json.Marshal(sample(KindHealthFailed))
	if err != nil {
		t.Fatal(err)
	}
	r := NewRenderer(testConfig(t))
	m, err := r.RenderTask(tasks.EmailSend{Kind: string(KindHealthFailed), To: "admin@example.com", Lang: "en", Event: event}, "task-1")
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != subjects["en"][KindHealthFailed] || m.MessageID != messageID("task-1", "cantina@example.com") {
		t.Errorf("subject %q message id %q", m.Subject, m.MessageID)
	}
}

func TestRenderRejects(t *testing.T) {
	r := NewRenderer(testConfig(t))
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"unknown kind", func() error {
			_, err := r.Render("backup-exploded", "es", "a@example.com", sample(KindTest), "")
			return err
		}, "unknown notification kind"},
		{"missing section", func() error { _, err := r.Render(KindBackupFailed, "es", "a@example.com", Data{}, ""); return err }, "without its backup data"},
		{"unknown language", func() error { _, err := r.Render(KindTest, "fr", "a@example.com", sample(KindTest), ""); return err }, `language "fr"`},
		{"bad event JSON", func() error {
			_, err := r.RenderTask(tasks.EmailSend{Kind: string(KindTest), To: "a@example.com", Event: []byte(`[1,2]`)}, "id")
			return err
		}, "decode test event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestMessageID(t *testing.T) {
	a, b := messageID("email:test:x:a@example.com", "cantina@example.com"), messageID("email:test:x:a@example.com", "cantina@example.com")
	if a != b || !strings.HasSuffix(a, ".cantina-ops@example.com") {
		t.Errorf("seeded message IDs %q, %q: want equal, at the sender's domain", a, b)
	}
	if messageID("other", "cantina@example.com") == a {
		t.Error("different seeds give the same message ID")
	}
	if first, second := messageID("", "x@example.com"), messageID("", "x@example.com"); first == second {
		t.Error("unseeded message IDs repeat")
	}
	if got := messageID("s", ""); !strings.HasSuffix(got, "@cantina-ops.invalid") {
		t.Errorf("no sender: %q", got)
	}
}

func TestFormat(t *testing.T) {
	es, en := locales["es"], locales["en"]
	tests := []struct{ got, want string }{
		{es.num(1234567), "1.234.567"},
		{en.num(int64(1234567)), "1,234,567"},
		{es.num(-1000), "-1.000"},
		{es.num(999), "999"},
		{es.size(999), "999 B"},
		{es.size(1536), "1,5 KiB"},
		{en.size(12_345_678), "11.8 MiB"},
		{en.size(3_200_000_000), "3.0 GiB"},
		{dur(850 * time.Millisecond), "850 ms"},
		{dur(42 * time.Second), "42 s"},
		{dur(185 * time.Second), "3 min 5 s"},
		{dur(72 * time.Minute), "1 h 12 min"},
		{dur(6 * time.Hour), "6 h"},
		{indent(4, "a\nb\n"), "a\n    b"},
		{tidyText("\n\nA  \n\n\n\nB\n\n"), "A\n\nB\n"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
