// Package logging builds the process's slog.Logger (level, JSON or text) with
// a last line of defence against leaked secrets: every configured secret is
// scrubbed from messages and attribute values before a line is written, by
// the project's one redactor, config.Secrets (which also says why a database
// name equal to a password stays readable). The logger writes to the
// process's log stream and, with LOG_FILE, to a size-rotated, compressed log
// file too (file.go): the same records, scrubbed once before either is
// written. It also adapts slog to asynq.Logger.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"golang.org/x/term"

	"github.com/cantina-pos/cantina-ops/internal/config"
)

// Options configures New.
type Options struct {
	Level  slog.Level
	Format string // "json" or "text"
	// Secrets are the values that must never appear in a log line
	// (config.Config.Secrets); the zero value scrubs nothing.
	Secrets config.Secrets
	// File, when set, receives every line written to w as well, in
	// FileFormat ("json" or "text"; "" means json: a file is not a
	// terminal). A failed write to one does not stop the other.
	File       io.Writer
	FileFormat string
}

// New returns a logger writing to w (and to o.File when set).
func New(w io.Writer, o Options) *slog.Logger {
	ho := &slog.HandlerOptions{Level: o.Level}
	h := formatHandler(w, o.Format, ho)
	if o.File != nil {
		h = slog.NewMultiHandler(h, formatHandler(o.File, o.FileFormat, ho))
	}
	// Scrubbing wraps the fan-out: every destination gets the scrubbed record.
	if !o.Secrets.Empty() {
		h = &scrubHandler{next: h, secrets: o.Secrets}
	}
	return slog.New(h)
}

// formatHandler writes text lines for "text" and JSON lines otherwise.
func formatHandler(w io.Writer, format string, ho *slog.HandlerOptions) slog.Handler {
	if format == "text" {
		return slog.NewTextHandler(w, ho)
	}
	return slog.NewJSONHandler(w, ho)
}

// Discard returns a logger that writes nothing, for tests and quiet commands.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// IsTerminal reports whether f is a terminal (not /dev/null, a pipe or a file).
func IsTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}

// scrubHandler redacts secret values in the message and in every string
// (or stringified) attribute value.
type scrubHandler struct {
	next    slog.Handler
	secrets config.Secrets
}

func (h *scrubHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *scrubHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.secrets.Redact(r.Message), r.PC)
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
	return &scrubHandler{next: h.next.WithAttrs(scrubbed), secrets: h.secrets}
}

func (h *scrubHandler) WithGroup(name string) slog.Handler {
	return &scrubHandler{next: h.next.WithGroup(name), secrets: h.secrets}
}

func (h *scrubHandler) scrub(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.secrets.Redact(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]any, len(g))
		for i, ga := range g {
			out[i] = h.scrub(ga)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, h.secrets.Redact(err.Error()))
		}
		return slog.String(a.Key, h.secrets.Redact(fmt.Sprint(v.Any())))
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
