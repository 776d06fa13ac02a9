package notify

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/config"
)

// scriptedSMTP is a tiny SMTP server whose replies a test chooses, so that
// every failure go-mail can report is produced by go-mail itself. It exists
// because a real server cannot be told to answer 421 or 535 on demand; the
// real-server tests (mailpit_test.go) cover what Mailpit can do.
type scriptedSMTP struct {
	// greeting is the first line; "" means the server never speaks.
	greeting string
	// ext are the EHLO extension lines.
	ext []string
	// replies maps a command verb (MAIL, RCPT, AUTH, …) to its reply;
	// "DROP" closes the connection instead. Default: 250.
	replies map[string]string
	// dataEnd is the reply after the message data; default 250.
	dataEnd string
}

func (s scriptedSMTP) start(t *testing.T) (host string, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); s.serve(c) }()
		}
	}()
	a := ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

func (s scriptedSMTP) serve(c net.Conn) {
	defer c.Close()
	if s.greeting == "" {
		_, _ = bufio.NewReader(c).ReadString('\n') // silent until the client gives up
		return
	}
	r := bufio.NewReader(c)
	say := func(line string) { fmt.Fprintf(c, "%s\r\n", line) }
	say(s.greeting)
	if !strings.HasPrefix(s.greeting, "220") {
		return
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		reply, scripted := s.replies[verb]
		if reply == "DROP" {
			return
		}
		switch verb {
		case "EHLO":
			if scripted {
				say(reply)
				continue
			}
			lines := append([]string{"fake"}, s.ext...)
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				say("250" + sep + l)
			}
		case "AUTH":
			// CRAM-MD5: a challenge, then the scripted verdict.
			say("334 " + base64.StdEncoding.EncodeToString([]byte("<1.2@fake>")))
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
			if !scripted {
				reply = "235 2.7.0 Authentication successful"
			}
			say(reply)
		case "DATA":
			say("354 go ahead")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			if s.dataEnd == "" {
				say("250 2.0.0 Ok: queued as FAKE1")
			} else {
				say(s.dataEnd)
			}
		case "QUIT":
			say("221 2.0.0 bye")
			return
		default:
			if !scripted {
				reply = "250 2.0.0 Ok"
			}
			say(reply)
		}
	}
}

// testMessage is a rendered message for the classification tests.
func testMessage(t *testing.T) *Message {
	t.Helper()
	m, err := NewRenderer(testConfig(t)).Render(KindTest, "es", "admin@example.com", sample(KindTest), "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSendErrorClassification drives go-mail against scripted servers: 5xx
// replies and settings that cannot work are permanent, 4xx replies and
// network trouble are temporary, and the server's reply is in the error.
func TestSendErrorClassification(t *testing.T) {
	ok := scriptedSMTP{greeting: "220 fake ESMTP", ext: []string{"8BITMIME", "ENHANCEDSTATUSCODES"}}
	with := func(f func(*scriptedSMTP)) scriptedSMTP {
		s := ok
		s.replies = map[string]string{}
		f(&s)
		return s
	}
	auth := func(s *scriptedSMTP) { s.ext = append(s.ext, "AUTH CRAM-MD5") }
	tests := []struct {
		name      string
		server    scriptedSMTP
		cfg       func(*config.Email)
		permanent bool
		want      string // in the error: the server's reply, as go-mail quotes it
	}{
		{"recipient rejected", with(func(s *scriptedSMTP) { s.replies["RCPT"] = "550 5.1.1 <admin@example.com>: user unknown" }), nil, true, "550 \"5.1.1 <admin@example.com>: user unknown"},
		{"recipient greylisted", with(func(s *scriptedSMTP) { s.replies["RCPT"] = "450 4.2.0 greylisted, try later" }), nil, false, "450 \"4.2.0 greylisted"},
		{"mailbox full", with(func(s *scriptedSMTP) { s.replies["RCPT"] = "452 4.2.2 mailbox full" }), nil, false, "452"},
		{"sender refused", with(func(s *scriptedSMTP) { s.replies["MAIL"] = "553 5.7.1 sender not allowed" }), nil, true, "553 \"5.7.1 sender not allowed"},
		{"sender deferred", with(func(s *scriptedSMTP) { s.replies["MAIL"] = "451 4.3.0 try again" }), nil, false, "451"},
		{"message refused", with(func(s *scriptedSMTP) { s.dataEnd = "554 5.6.0 message refused" }), nil, true, "554 \"5.6.0 message refused"},
		{"message deferred", with(func(s *scriptedSMTP) { s.dataEnd = "451 4.3.0 local error" }), nil, false, "451 \"4.3.0 local error"},
		{"busy greeting", scriptedSMTP{greeting: "421 4.3.2 too busy"}, nil, false, "421"},
		{"refused greeting", scriptedSMTP{greeting: "554 5.7.1 no service for you"}, nil, true, "554"},
		{"bad credentials", with(func(s *scriptedSMTP) { auth(s); s.replies["AUTH"] = "535 5.7.8 authentication failed" }),
			func(e *config.Email) { e.User = "cantina@example.com" }, true, "535 \"5.7.8 authentication failed"},
		{"auth deferred", with(func(s *scriptedSMTP) { auth(s); s.replies["AUTH"] = "454 4.7.0 temporary authentication failure" }),
			func(e *config.Email) { e.User = "cantina@example.com" }, false, "454"},
		{"only cleartext auth on a plain connection", with(func(s *scriptedSMTP) { s.ext = append(s.ext, "AUTH PLAIN LOGIN") }),
			func(e *config.Email) { e.User = "cantina@example.com" }, true, "auth"},
		{"no auth offered", ok, func(e *config.Email) { e.User = "cantina@example.com" }, true, "does not support SMTP AUTH"},
		{"STARTTLS required but not offered", ok, func(e *config.Email) { e.UseTLS = true }, true, "does not support STARTTLS"},
		{"implicit TLS to a plain server", ok, func(e *config.Email) { e.UseSSL = true }, true, "tls"},
		{"connection dropped", with(func(s *scriptedSMTP) { s.replies["RCPT"] = "DROP" }), nil, false, "RCPT"},
		{"server never answers", scriptedSMTP{}, nil, false, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, port := tt.server.start(t)
			e := config.Email{Host: host, Port: port, From: "cantina@example.com", Password: smtpPassword}
			if tt.cfg != nil {
				tt.cfg(&e)
			}
			s := NewSMTP(e)
			// Short, so "never answers" ends soon: a bound, not a measurement.
			s.Timeout = time.Second
			_, err := s.Send(context.Background(), testMessage(t))
			if err == nil {
				t.Fatal("send succeeded")
			}
			if got := errors.Is(err, ErrPermanent); got != tt.permanent {
				t.Errorf("permanent = %v, want %v: %v", got, tt.permanent, err)
			}
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tt.want)) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			if strings.Contains(err.Error(), smtpPassword) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestSendConnectionRefusedIsTemporary(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	_, err = NewSMTP(config.Email{Host: "127.0.0.1", Port: port}).Send(context.Background(), testMessage(t))
	if err == nil || errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %v, want a temporary connection refused", err)
	}
}

func TestSendSucceedsWithAuth(t *testing.T) {
	host, port := scriptedSMTP{greeting: "220 fake ESMTP", ext: []string{"8BITMIME", "AUTH CRAM-MD5"}}.start(t)
	reply, err := NewSMTP(config.Email{Host: host, Port: port, User: "cantina@example.com", Password: smtpPassword}).
		Send(context.Background(), testMessage(t))
	if err != nil || !strings.Contains(reply, "queued as FAKE1") {
		t.Errorf("reply %q, error %v", reply, err)
	}
}

// TestClassify covers errors as go-mail and the standard library wrap them.
func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		permanent bool
	}{
		{"auth 535 while dialing", fmt.Errorf("dial failed: SMTP AUTH failed: %w", &textproto.Error{Code: 535, Msg: "5.7.8 bad credentials"}), true},
		{"greeting 421", fmt.Errorf("dial failed: %w", &textproto.Error{Code: 421, Msg: "busy"}), false},
		{"deadline", fmt.Errorf("dial failed: %w", context.DeadlineExceeded), false},
		{"canceled", context.Canceled, false},
		{"network", fmt.Errorf("dial failed: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), false},
		{"plain server on TLS port", fmt.Errorf("dial failed: %w", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), true},
		{"unknown CA", fmt.Errorf("dial failed: %w", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), true},
		{"wrong host name", fmt.Errorf("dial failed: %w", x509.HostnameError{Host: "smtp.example.com", Certificate: &x509.Certificate{}}), true},
		{"unknown", errors.New("something odd"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classify(tt.err)
			if got := errors.Is(err, ErrPermanent); got != tt.permanent {
				t.Errorf("classify(%v) permanent = %v, want %v", tt.err, got, tt.permanent)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("classify lost the cause: %v", err)
			}
		})
	}
	if classify(nil) != nil {
		t.Error("classify(nil) != nil")
	}
}

func TestPlanFor(t *testing.T) {
	tests := []struct {
		email config.Email
		want  Plan
		text  string
	}{
		{config.Email{Host: "smtp.example.com", Port: 587, UseTLS: true, User: "u@example.com"},
			Plan{"smtp.example.com", 587, STARTTLS, "u@example.com"}, "smtp.example.com:587, STARTTLS required, authenticating as u@example.com"},
		{config.Email{Host: "smtp.example.com", Port: 465, UseSSL: true, User: "apikey"},
			Plan{"smtp.example.com", 465, ImplicitTLS, "apikey"}, "smtp.example.com:465, implicit TLS, authenticating as apikey"},
		{config.Email{Host: "localhost", Port: 25},
			Plan{"localhost", 25, Plain, ""}, "localhost:25, no encryption, no authentication"},
	}
	for _, tt := range tests {
		got := PlanFor(tt.email)
		if got != tt.want || got.String() != tt.text {
			t.Errorf("PlanFor(%+v) = %+v %q, want %+v %q", tt.email, got, got, tt.want, tt.text)
		}
	}
}
