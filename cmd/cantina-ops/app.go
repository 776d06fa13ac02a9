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

	// closers are the log files load opened; close closes them when the
	// command returns.
	closers []io.Closer
}

// isTerminal reports whether w is a terminal (progress and prompts go
// only to people, not to logs or pipes).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && logging.IsTerminal(f)
}

// load reads the configuration from the environment and ./.env, and builds
// the logger. Every configuration problem is in the returned error; a
// LOG_FILE that cannot be written is one.
func (a *app) load() (*config.Config, *slog.Logger, error) {
	lookup, err := config.Environment(".env")
	if err != nil {
		return nil, nil, err
	}
	cfg, err := config.Load(lookup)
	if err != nil {
		return nil, nil, &configError{err}
	}
	log, err := a.logger(cfg)
	if err != nil {
		return nil, nil, &configError{err}
	}
	return cfg, log, nil
}

// logger writes to stderr (text on a terminal, JSON otherwise, unless
// LOG_FORMAT says) and, with LOG_FILE, the same lines to the file, in
// LOG_FORMAT or JSON: a file is not a terminal. a.close closes the file.
func (a *app) logger(cfg *config.Config) (*slog.Logger, error) {
	o := logging.Options{Level: cfg.LogLevel, Format: cfg.LogFormat, FileFormat: cfg.LogFormat, Secrets: cfg.Secrets()}
	if o.Format == "" {
		o.Format = "json"
		if isTerminal(a.stderr) {
			o.Format = "text"
		}
	}
	if cfg.LogFile.Path != "" {
		f, err := logging.OpenFile(cfg.LogFile)
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, f)
		o.File = f
	}
	return logging.New(a.stderr, o), nil
}

// close closes the log files the command's loads opened.
func (a *app) close() {
	for _, c := range a.closers {
		_ = c.Close()
	}
	a.closers = nil
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
