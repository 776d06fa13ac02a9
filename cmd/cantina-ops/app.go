package main

import (
	"io"
	"log/slog"
	"os"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/logging"
)

// app carries what every subcommand shares: its output streams and the way
// it reads configuration.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// isTerminal reports whether w is a terminal (progress and prompts go
// only to people, not to logs or pipes).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && logging.IsTerminal(f)
}

// load reads the configuration from the environment and ./.env, and builds
// the logger. Every configuration problem is in the returned error.
func (a *app) load() (*config.Config, *slog.Logger, error) {
	lookup, err := config.Environment(".env")
	if err != nil {
		return nil, nil, err
	}
	cfg, err := config.Load(lookup)
	if err != nil {
		return nil, nil, &configError{err}
	}
	return cfg, a.logger(cfg), nil
}

func (a *app) logger(cfg *config.Config) *slog.Logger {
	format := cfg.LogFormat
	if format == "" {
		format = "json"
		if isTerminal(a.stderr) {
			format = "text"
		}
	}
	return logging.New(a.stderr, logging.Options{Level: cfg.LogLevel, Format: format, Secrets: cfg.Secrets()})
}

// configError prints every configuration problem on its own line.
type configError struct{ err error }

func (e *configError) Error() string {
	return "invalid configuration:\n  " + indent(e.err.Error()) + "\nFix the variables above (environment or .env) and start again."
}

func (e *configError) Unwrap() error { return e.err }

func indent(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		out = append(out, s[i])
		if s[i] == '\n' {
			out = append(out, ' ', ' ')
		}
	}
	return string(out)
}
