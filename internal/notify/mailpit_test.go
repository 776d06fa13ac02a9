package notify

import (
	"context"
	"errors"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/notify/notifytest"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// mailpitSMTP returns an SMTP sender for the test Mailpit and its API.
func mailpitSMTP(t *testing.T) (*SMTP, notifytest.Mailpit) {
	t.Helper()
	host, port, api := testenv.SMTP(t)
	return NewSMTP(config.Email{Host: host, Port: port, From: "cantina@example.com", Password: smtpPassword}), notifytest.Mailpit{API: api}
}

// arrived waits for the one message to addr and returns it.
func arrived(t *testing.T, mp notifytest.Mailpit, addr string) notifytest.Summary {
	t.Helper()
	var got []notifytest.Summary
	testenv.Eventually(t, 30*time.Second, "a message to "+addr, func() bool {
		got = mp.To(t, addr)
		return len(got) > 0
	})
	if len(got) != 1 {
		t.Fatalf("%d messages to %s, want 1", len(got), addr)
	}
	return got[0]
}

// TestEveryTemplateArrivesIntact sends every kind in both languages through
// the real Mailpit and reads it back: both parts exactly as rendered
// (accents, ñ, € and emoji intact), the subject decoded, and the headers
// mail filters rely on.
func TestEveryTemplateArrivesIntact(t *testing.T) {
	s, mp := mailpitSMTP(t)
	r := NewRenderer(testConfig(t))
	for _, lang := range []string{"es", "en"} {
		for _, kind := range Kinds() {
			t.Run(lang+"/"+string(kind), func(t *testing.T) {
				t.Parallel()
				to := notifytest.Recipient(t, "tpl-"+lang+"-"+string(kind))
				m, err := r.Render(kind, lang, to, sample(kind), "seed:"+to)
				if err != nil {
					t.Fatal(err)
				}
				reply, err := s.Send(context.Background(), m)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(reply, "Ok") {
					t.Errorf("server reply %q", reply)
				}
				sum := arrived(t, mp, to)
				got := mp.Message(t, sum.ID)
				if got.Subject != subjects[lang][kind] {
					t.Errorf("subject %q, want %q", got.Subject, subjects[lang][kind])
				}
				if crlf(got.Text) != m.Text {
					t.Errorf("text part differs from what was rendered:\n got %q\nwant %q", got.Text, m.Text)
				}
				if strings.TrimSpace(crlf(got.HTML)) != strings.TrimSpace(m.HTML) {
					t.Errorf("HTML part differs from what was rendered:\n got %q\nwant %q", got.HTML, m.HTML)
				}
				for _, part := range []string{got.Text, got.HTML} {
					if !strings.Contains(part, marker) || !strings.Contains(part, footers[lang]) {
						t.Errorf("part lacks %q or the %s footer:\n%s", marker, lang, part)
					}
				}
				if got.From.Address != "cantina@example.com" || len(got.To) != 1 || got.To[0].Address != to {
					t.Errorf("from %+v to %+v", got.From, got.To)
				}

				h := mp.Headers(t, sum.ID)
				first := func(name string) string {
					if v := h[name]; len(v) > 0 {
						return v[0]
					}
					return ""
				}
				if _, err := mail.ParseDate(first("Date")); err != nil {
					t.Errorf("Date %q: %v", first("Date"), err)
				}
				for name, want := range map[string]string{
					"Message-Id":      "<" + m.MessageID + ">",
					"X-Cantina-Event": string(kind),
					"List-Id":         "cantina-ops <cantina-ops.ops.example.org>",
					"Auto-Submitted":  "auto-generated",
					"Mime-Version":    "1.0",
				} {
					if got := first(name); got != want {
						t.Errorf("header %s = %q, want %q", name, got, want)
					}
				}
				if ct := first("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative;") {
					t.Errorf("Content-Type %q, want multipart/alternative", ct)
				}
				if !strings.Contains(first("Subject"), "=?UTF-8?") {
					t.Errorf("Subject header %q is not MIME-encoded UTF-8", first("Subject"))
				}
				raw := mp.Raw(t, sum.ID)
				if !strings.Contains(raw, "Content-Type: text/plain; charset=UTF-8") || !strings.Contains(raw, "Content-Type: text/html; charset=UTF-8") {
					t.Errorf("parts are not both UTF-8 text/plain and text/html:\n%s", raw)
				}
			})
		}
	}
}

func crlf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// TestRealServerFailures: what the real Mailpit refuses is classified as
// the scripted servers showed.
func TestRealServerFailures(t *testing.T) {
	s, mp := mailpitSMTP(t)
	m := testMessage(t)

	// The test Mailpit answers 550 to recipients outside its allow-list.
	notifytest.RequireRejection(t, s.email.Host, s.email.Port)
	m.To = notifytest.Rejected
	_, err := s.Send(context.Background(), m)
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "550") || !strings.Contains(err.Error(), "mailbox unavailable") {
		t.Errorf("rejected recipient: %v, want a permanent 550 with the server's reply", err)
	}

	// EMAIL_USE_TLS requires STARTTLS, which Mailpit does not offer here:
	// refuse rather than send in the clear.
	tlsCfg := s.email
	tlsCfg.UseTLS = true
	m.To = notifytest.Recipient(t, "starttls")
	if _, err := NewSMTP(tlsCfg).Send(context.Background(), m); !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("STARTTLS required: %v, want a permanent error naming STARTTLS", err)
	}
	if got := mp.To(t, m.To); len(got) != 0 {
		t.Errorf("a message went out without TLS: %+v", got)
	}

	// Mailpit cut off: temporary.
	p := notifytest.NewProxy(t, net.JoinHostPort(s.email.Host, strconv.Itoa(s.email.Port)))
	p.Cut()
	cut := s.email
	cut.Host, cut.Port = "127.0.0.1", p.Port()
	if _, err := NewSMTP(cut).Send(context.Background(), m); err == nil || errors.Is(err, ErrPermanent) {
		t.Errorf("unreachable server: %v, want a temporary error", err)
	}
}
