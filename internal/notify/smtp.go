package notify

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wneessen/go-mail"
	maillog "github.com/wneessen/go-mail/log"

	"github.com/cantina-pos/cantina-ops/internal/config"
)

// DefaultSMTPTimeout bounds connecting and each SMTP command.
const DefaultSMTPTimeout = 30 * time.Second

// SMTP sends messages with go-mail, one connection per message: alerts are
// rare, and a fresh connection never trips over a server's idle timeout.
type SMTP struct {
	email config.Email
	// Timeout bounds the connection and each command (go-mail applies it to
	// the dial and then as a deadline per command); the context bounds the
	// whole send.
	Timeout time.Duration
	// TLSConfig overrides the TLS settings (nil: system roots, server name
	// EMAIL_HOST, TLS 1.2 or later).
	TLSConfig *tls.Config
	// Transcript, when set, receives the SMTP conversation, one line per
	// command or reply, authentication data redacted by go-mail.
	Transcript io.Writer
}

// NewSMTP returns a sender for the configured server.
func NewSMTP(e config.Email) *SMTP {
	return &SMTP{email: e, Timeout: DefaultSMTPTimeout}
}

// Security is how the connection to the SMTP server is protected.
type Security string

// The three modes of EMAIL_USE_TLS / EMAIL_USE_SSL.
const (
	// STARTTLS upgrades a plain connection and refuses to go on when the
	// server does not offer it (mandatory, not opportunistic: a network
	// attacker must not be able to strip TLS and read the password).
	STARTTLS Security = "starttls"
	// ImplicitTLS speaks TLS from the first byte (usually port 465).
	ImplicitTLS Security = "implicit-tls"
	// Plain is unencrypted, for a local relay.
	Plain Security = "plain"
)

// Plan is how SMTP connects, derived from the configuration alone.
type Plan struct {
	Host     string
	Port     int
	Security Security
	// AuthUser is the user to authenticate as; "" means no AUTH.
	AuthUser string
}

// PlanFor derives the connection plan from the configuration.
func PlanFor(e config.Email) Plan {
	p := Plan{Host: e.Host, Port: e.Port, Security: Plain, AuthUser: e.User}
	switch {
	case e.UseSSL:
		p.Security = ImplicitTLS
	case e.UseTLS:
		p.Security = STARTTLS
	}
	return p
}

// String describes the plan for people, without the password.
func (p Plan) String() string {
	s := p.Host + ":" + strconv.Itoa(p.Port) + ", "
	switch p.Security {
	case STARTTLS:
		s += "STARTTLS required"
	case ImplicitTLS:
		s += "implicit TLS"
	default:
		s += "no encryption"
	}
	if p.AuthUser != "" {
		s += ", authenticating as " + p.AuthUser
	} else {
		s += ", no authentication"
	}
	return s
}

// Plan returns the connection plan.
func (s *SMTP) Plan() Plan { return PlanFor(s.email) }

// options turns the plan into go-mail client options.
func (s *SMTP) options() []mail.Option {
	p := s.Plan()
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultSMTPTimeout
	}
	tlsConfig := s.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: p.Host, MinVersion: tls.VersionTLS12}
	}
	opts := []mail.Option{
		mail.WithPort(p.Port),
		mail.WithTimeout(timeout),
		mail.WithTLSConfig(tlsConfig),
	}
	switch p.Security {
	case ImplicitTLS:
		opts = append(opts, mail.WithSSL())
	case STARTTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if p.AuthUser != "" {
		// Auto-discovery picks the strongest mechanism the server offers;
		// PLAIN and LOGIN only on an encrypted connection, so a password
		// never crosses the network in the clear.
		opts = append(opts,
			mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(p.AuthUser),
			mail.WithPassword(s.email.Password.Reveal()))
	}
	if s.Transcript != nil {
		opts = append(opts, mail.WithDebugLog(), mail.WithLogger(&transcript{w: s.Transcript}))
	}
	return opts
}

// Send delivers m and returns the server's reply to the message data (e.g.
// "2.0.0 Ok: queued as 4F2A"). Errors are classified: those wrapping
// ErrPermanent will fail again however often they are retried.
func (s *SMTP) Send(ctx context.Context, m *Message) (string, error) {
	msg, err := s.build(m)
	if err != nil {
		return "", fmt.Errorf("build %s email for %s: %w: %w", m.Kind, m.To, err, ErrPermanent)
	}
	c, err := mail.NewClient(s.email.Host, s.options()...)
	if err != nil {
		return "", fmt.Errorf("configure SMTP client: %w: %w", err, ErrPermanent)
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if err != nil && !msg.IsDelivered() {
		return "", classify(fmt.Errorf("send %s email to %s via %s:%d: %w", m.Kind, m.To, s.email.Host, s.email.Port, err))
	}
	// Delivered: an error after the server accepted the data (RSET, QUIT)
	// must not make the task retry and send the email again.
	return msg.ServerResponse(), nil
}

// build turns a rendered message into a go-mail message: multipart/
// alternative text and HTML, UTF-8, quoted-printable, with the headers
// mail filters route on.
func (s *SMTP) build(m *Message) (*mail.Msg, error) {
	msg := mail.NewMsg(mail.WithCharset(mail.CharsetUTF8), mail.WithEncoding(mail.EncodingQP), mail.WithNoDefaultUserAgent())
	if err := msg.From(m.From); err != nil {
		return nil, fmt.Errorf("sender %q: %w", m.From, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetGenHeader(HeaderEvent, string(m.Kind))
	msg.SetGenHeader(HeaderListID, m.ListID)
	msg.SetGenHeader(mail.HeaderXMailer, "cantina-ops")
	// RFC 3834: no vacation replies to alerts.
	msg.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	return msg, nil
}

// Headers every notification carries besides the standard ones.
const (
	// HeaderEvent is the notification kind, e.g. "backup-failed".
	HeaderEvent mail.Header = "X-Cantina-Event"
	// HeaderListID is RFC 2919's List-Id: "cantina-ops <cantina-ops.HOST>".
	HeaderListID mail.Header = "List-Id"
)

// transcript writes go-mail's debug log as "C --> S: …" / "C <-- S: …"
// lines. go-mail replaces authentication data with a placeholder.
type transcript struct {
	mu sync.Mutex
	w  io.Writer
}

func (t *transcript) line(l maillog.Log) {
	dir := "C <-- S:"
	if l.Direction == maillog.DirClientToServer {
		dir = "C --> S:"
	}
	text := strings.TrimRight(fmt.Sprintf(l.Format, l.Messages...), "\r\n")
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range strings.Split(text, "\n") {
		fmt.Fprintln(t.w, dir, strings.TrimRight(s, "\r"))
	}
}

func (t *transcript) Debugf(l maillog.Log) { t.line(l) }
func (t *transcript) Infof(l maillog.Log)  { t.line(l) }
func (t *transcript) Warnf(l maillog.Log)  { t.line(l) }
func (t *transcript) Errorf(l maillog.Log) { t.line(l) }

var _ maillog.Logger = (*transcript)(nil)
