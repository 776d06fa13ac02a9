// Package logging builds the process's slog.Logger (level, JSON or text) with
// a last line of defence against leaked secrets: every configured secret is
// scrubbed from messages and attribute values before a line is written. It
// also adapts slog to asynq.Logger.
package logging

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"

	"golang.org/x/term"
)

// Options configures New.
type Options struct {
	Level  slog.Level
	Format string // "json" or "text"
	// Secrets are values that must never appear in a log line.
	Secrets []string
}

// New returns a logger writing to w.
func New(w io.Writer, o Options) *slog.Logger {
	ho := &slog.HandlerOptions{Level: o.Level}
	var h slog.Handler
	if o.Format == "text" {
		h = slog.NewTextHandler(w, ho)
	} else {
		h = slog.NewJSONHandler(w, ho)
	}
	if r := Redactor(o.Secrets); r != nil {
		h = &scrubHandler{next: h, replacer: r}
	}
	return slog.New(h)
}

// Discard returns a logger that writes nothing, for tests and quiet commands.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// IsTerminal reports whether f is a terminal (not /dev/null, a pipe or a file).
func IsTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}

// minSecretLen is the shortest secret scrubbed: shorter values would blank
// out ordinary words.
const minSecretLen = 3

// Redactor returns a replacer that turns every secret into "[REDACTED]",
// also in the percent-encoded forms a URL in a library's message carries
// and the HTML-escaped form a rendered page carries, or nil when there is
// nothing to scrub. Both the logger and notification emails use it.
func Redactor(secrets []string) *strings.Replacer {
	var forms []string
	for _, s := range secrets {
		if len(s) < minSecretLen {
			continue
		}
		forms = append(forms, s, url.QueryEscape(s), url.PathEscape(s), html.EscapeString(s))
	}
	if len(forms) == 0 {
		return nil
	}
	// strings.Replacer takes the first listed match at a position, so a
	// secret that is a prefix of another must come after it, or the longer
	// one would be only partly replaced.
	slices.SortFunc(forms, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	forms = slices.Compact(forms)
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, "[REDACTED]")
	}
	return strings.NewReplacer(pairs...)
}

// scrubHandler replaces secret values in the message and in every string
// (or stringified) attribute value.
type scrubHandler struct {
	next     slog.Handler
	replacer *strings.Replacer
}

func (h *scrubHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *scrubHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.replacer.Replace(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.scrub(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *scrubHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	scrubbed := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		scrubbed[i] = h.scrub(a)
	}
	return &scrubHandler{next: h.next.WithAttrs(scrubbed), replacer: h.replacer}
}

func (h *scrubHandler) WithGroup(name string) slog.Handler {
	return &scrubHandler{next: h.next.WithGroup(name), replacer: h.replacer}
}

func (h *scrubHandler) scrub(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.replacer.Replace(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]any, len(g))
		for i, ga := range g {
			out[i] = h.scrub(ga)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, h.replacer.Replace(err.Error()))
		}
		return slog.String(a.Key, h.replacer.Replace(fmt.Sprint(v.Any())))
	default:
		return slog.Attr{Key: a.Key, Value: v}
	}
}

// AsynqLogger adapts a slog.Logger to asynq.Logger.
type AsynqLogger struct{ L *slog.Logger }

func (a AsynqLogger) Debug(args ...any) { a.L.Debug(fmt.Sprint(args...)) }
func (a AsynqLogger) Info(args ...any)  { a.L.Info(fmt.Sprint(args...)) }
func (a AsynqLogger) Warn(args ...any)  { a.L.Warn(fmt.Sprint(args...)) }
func (a AsynqLogger) Error(args ...any) { a.L.Error(fmt.Sprint(args...)) }

// Fatal logs at error level and exits, as asynq.Logger requires.
func (a AsynqLogger) Fatal(args ...any) {
	a.L.Error(fmt.Sprint(args...))
	os.Exit(1)
}
