// Package notifytest helps notification tests: it reads what reached the
// test Mailpit through its HTTP API, hands out unique recipients (tests of
// every package share one Mailpit, in parallel), and provides a TCP proxy a
// test can cut and restore to make a server unreachable on purpose.
package notifytest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// Mailpit is a client of Mailpit's HTTP API (/api/v1).
type Mailpit struct{ API string }

// Address is a Mailpit address.
type Address struct {
	Name    string
	Address string
}

// Summary is a message in a search result.
type Summary struct {
	ID        string
	MessageID string
	Subject   string
	From      Address
	To        []Address
}

// Message is a whole message: Subject decoded, Text and HTML the two parts.
type Message struct {
	ID        string
	MessageID string
	Subject   string
	From      Address
	To        []Address
	Text      string
	HTML      string
}

// Rejected is an address the test Mailpit refuses with 550: it is started
// with --smtp-allowed-recipients '@(example\.(com|org|net)|cantina\.test)$'.
const Rejected = "nobody@rejected.test"

// RequireRejection fails the test, saying how to fix it, unless the SMTP
// server at host:port refuses Rejected with a 5xx reply.
func RequireRejection(tb testing.TB, host string, port int) {
	tb.Helper()
	c, err := smtp.Dial(net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		tb.Fatalf("mailpit smtp: %v", err)
	}
	defer c.Close()
	if err := c.Mail("probe@example.com"); err != nil {
		tb.Fatalf("mailpit smtp MAIL: %v", err)
	}
	err = c.Rcpt(Rejected)
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code < 500 {
		tb.Fatalf("the test Mailpit accepts %s (%v): start it with "+
			`--smtp-allowed-recipients '@(example\.(com|org|net)|cantina\.test)$' (scripts/services.sh)`, Rejected, err)
	}
	_ = c.Reset()
}

// Recipient returns an address no other test uses, at example.com (which
// the test Mailpit accepts).
func Recipient(tb testing.TB, label string) string {
	tb.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return label + "-" + hex.EncodeToString(b) + "@example.com"
}

// To lists the messages addressed to exactly addr, newest first.
func (m Mailpit) To(tb testing.TB, addr string) []Summary {
	tb.Helper()
	var res struct{ Messages []Summary }
	m.get(tb, "/api/v1/search?limit=200&query="+url.QueryEscape(`to:"`+addr+`"`), &res)
	var out []Summary
	for _, s := range res.Messages {
		for _, to := range s.To {
			if to.Address == addr {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// Message fetches a message by its Mailpit ID.
func (m Mailpit) Message(tb testing.TB, id string) Message {
	tb.Helper()
	var msg Message
	m.get(tb, "/api/v1/message/"+url.PathEscape(id), &msg)
	return msg
}

// Headers fetches a message's headers, as sent (encoded words not decoded),
// keys in canonical MIME form ("Message-Id", "X-Cantina-Event").
func (m Mailpit) Headers(tb testing.TB, id string) map[string][]string {
	tb.Helper()
	h := map[string][]string{}
	m.get(tb, "/api/v1/message/"+url.PathEscape(id)+"/headers", &h)
	return h
}

// Raw fetches a message's source.
func (m Mailpit) Raw(tb testing.TB, id string) string {
	tb.Helper()
	return string(m.fetch(tb, "/api/v1/message/"+url.PathEscape(id)+"/raw"))
}

func (m Mailpit) get(tb testing.TB, path string, v any) {
	tb.Helper()
	if err := json.Unmarshal(m.fetch(tb, path), v); err != nil {
		tb.Fatalf("mailpit %s: %v", path, err)
	}
}

func (m Mailpit) fetch(tb testing.TB, path string) []byte {
	tb.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(m.API + path)
	if err != nil {
		tb.Fatalf("mailpit %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("mailpit %s: status %d, %v: %s", path, resp.StatusCode, err, b)
	}
	return b
}

// Proxy forwards TCP connections to a target. Cut refuses new connections
// and drops open ones, as a server that went down; Restore listens again on
// the same address.
type Proxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	hung  bool
}

// NewProxy starts a proxy to target on a free local port; it is stopped at
// cleanup.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	p := &Proxy{target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	tb.Cleanup(p.Cut)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

// Port is the proxy's port.
func (p *Proxy) Port() int {
	_, port, _ := testenv.SplitHostPort(p.addr)
	return port
}

// Cut closes the listener and every open connection.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	p.dropLocked()
}

// dropLocked closes every open connection; p.mu is held.
func (p *Proxy) dropLocked() {
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// Hang drops every open connection and makes new ones hang: accepted,
// never answered, as a server that stopped responding. Resume ends it.
func (p *Proxy) Hang() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hung = true
	p.dropLocked()
}

// Resume drops the connections held by Hang; new ones are forwarded again.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hung = false
	p.dropLocked()
}

// Restore listens again on the proxy's address.
func (p *Proxy) Restore(tb testing.TB) {
	tb.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		tb.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *Proxy) pipe(c net.Conn) {
	p.mu.Lock()
	if p.hung { // hold c open, unanswered, until Resume or Cut
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		_ = c.Close()
		return
	}
	if !p.track(c, up) {
		return
	}
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src) // an error (reset, cut) ends the pipe like EOF
		_ = dst.Close()
		_ = src.Close()
		done <- struct{}{}
	}
	go cp(up, c)
	go cp(c, up)
	<-done
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// track registers a connection pair, or closes it when the proxy was cut
// meanwhile.
func (p *Proxy) track(c, up net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		_ = c.Close()
		_ = up.Close()
		return false
	}
	p.conns[c] = struct{}{}
	p.conns[up] = struct{}{}
	return true
}
