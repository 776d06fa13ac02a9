// Package mysqldump is the BACKUP_ENGINE=mysqldump dump engine: it runs the
// mysqldump (or mariadb-dump) binary with the flags for one consistent,
// complete dump, streams its output to the caller, and fails the dump when
// the program fails or its output lacks the completion trailer, which a
// pipeline's exit status would hide.
package mysqldump

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/config"
)

// Name is the engine's name, as BACKUP_ENGINE selects it.
const Name = "mysqldump"

var (
	// ErrNoBinary: neither mariadb-dump nor mysqldump is installed.
	ErrNoBinary = errors.New("BACKUP_ENGINE=mysqldump needs the mysqldump binary; use BACKUP_ENGINE=native")
	// ErrFailed: the dump program exited with an error.
	ErrFailed = errors.New("mysqldump failed")
	// ErrIncomplete: the program exited 0 but its output does not end
	// with the completion trailer, so the dump cannot be trusted.
	ErrIncomplete = errors.New("mysqldump output is incomplete: it does not end with \"" + backup.TrailerPrefix + "\"")
)

// Options adjust the engine.
type Options struct {
	// Binary is the dump program, a name looked up on PATH or a path.
	// Empty: mariadb-dump, else mysqldump (mysqldump is a deprecated
	// alias of mariadb-dump on MariaDB 11).
	Binary string
	// TempDir is where each run's private directory with its option
	// file (the password, mode 0600) is made and removed. Empty: the
	// system's temporary directory.
	TempDir string
	// Now returns the current time (the snapshot time); nil: time.Now.
	Now func() time.Time
}

// Engine dumps one database with the mysqldump binary.
type Engine struct {
	db      config.DB
	path    string
	tool    tool
	tempDir string
	now     func() time.Time
}

var _ backup.Engine = (*Engine)(nil)

// versionTimeout bounds `mysqldump --version` in New.
const versionTimeout = 30 * time.Second

// waitDelay bounds the wait for the program's output after it was killed
// (a child it left behind may hold the pipe open).
const waitDelay = 10 * time.Second

// stderrSize bytes of the program's standard error (the end) are kept for
// the error message.
const stderrSize = 8 << 10

// New finds the dump program and checks that it runs and that db can be
// expressed as its options.
func New(db config.DB, opts Options) (*Engine, error) {
	path, err := findBinary(opts.Binary)
	if err != nil {
		return nil, err
	}
	if db.Name == "" {
		return nil, errors.New("mysqldump engine: no database name configured")
	}
	if _, err := defaultsFile(db); err != nil {
		return nil, fmt.Errorf("mysqldump engine: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), versionTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--no-defaults", "--version")
	cmd.Env = childEnv(os.Environ(), os.TempDir())
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("run %s --version: %w", path, err)
	}
	t := parseTool(string(out))
	if _, err := tlsArgs(db.TLS, t); err != nil {
		return nil, err
	}
	e := &Engine{db: db, path: path, tool: t, tempDir: opts.TempDir, now: opts.Now}
	if e.now == nil {
		e.now = time.Now
	}
	return e, nil
}

func findBinary(name string) (string, error) {
	names := []string{"mariadb-dump", "mysqldump"}
	if name != "" {
		names = []string{name}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	if name != "" {
		return "", fmt.Errorf("%w (%s not found)", ErrNoBinary, name)
	}
	return "", ErrNoBinary
}

// Name implements backup.Engine.
func (e *Engine) Name() string { return Name }

// Dump runs the dump program and streams its output to w. The returned
// DumpInfo names each base table in dump order with its row count as
// counted in the INSERT statements that passed (under
// --single-transaction the dump is the snapshot, so the counts are the
// snapshot's); Rows is -1 for a table with an INSERT too large to count,
// Tables is nil if the output could not be read to its end, Checksum is
// never set. ServerVersion comes from the dump's header. progress, if not
// nil, is called from another goroutine (one call at a time, none after
// Dump returns) as tables and rows pass; TablesAll is 0 (unknown).
//
// The dump fails when w fails, ctx is done (the program is killed), the
// program exits non-zero (ErrFailed, with the end of its standard error),
// or its output does not end with the completion trailer (ErrIncomplete).
// The option file with the password is removed in every case.
func (e *Engine) Dump(ctx context.Context, w io.Writer, progress func(backup.Progress)) (backup.DumpInfo, error) {
	info := backup.DumpInfo{Engine: Name, ToolVersion: e.tool.version, Database: e.db.Name, SnapshotAt: e.now().UTC()}
	dir, err := os.MkdirTemp(e.tempDir, "cantina-mysqldump-")
	if err != nil {
		return info, fmt.Errorf("create a private directory for the mysqldump option file: %w", err)
	}
	defer os.RemoveAll(dir)
	content, err := defaultsFile(e.db)
	if err != nil {
		return info, fmt.Errorf("mysqldump option file: %w", err)
	}
	cnf := filepath.Join(dir, "my.cnf")
	if err := writeDefaults(cnf, content); err != nil {
		return info, fmt.Errorf("write the mysqldump option file: %w", err)
	}
	args, err := buildArgs(cnf, e.db, e.tool)
	if err != nil {
		return info, err
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(runCtx, e.path, args...)
	cmd.Env = childEnv(os.Environ(), dir)
	cmd.Dir = dir
	cmd.WaitDelay = waitDelay
	stderr := &ring{max: stderrSize}
	cmd.Stderr = stderr
	pr, pw := io.Pipe()
	out := &sink{w: w, analysis: pw, onError: cancel, tail: ring{max: 1 << 10}}
	cmd.Stdout = out

	an := newAnalyzer(progress)
	analyzed := make(chan struct{})
	go func() {
		defer close(analyzed)
		an.run(pr)
		_, _ = io.Copy(io.Discard, pr) // keep the sink flowing after an analysis error
	}()
	runErr := cmd.Run()
	_ = pw.Close()
	<-analyzed

	info.ServerVersion = serverVersion(out.head)
	info.Tables = an.result()
	msg := sanitize(stderr.Bytes(), e.db.Password.Reveal())
	switch {
	case out.err != nil:
		return info, fmt.Errorf("write dump: %w", out.err)
	case ctx.Err() != nil:
		return info, fmt.Errorf("mysqldump stopped: %w", ctx.Err())
	case runErr != nil:
		var exitErr *exec.ExitError
		if errors.As(runErr, &exitErr) {
			return info, fmt.Errorf("%w: %s (%s) after %d bytes: %s", ErrFailed, filepath.Base(e.path), exitErr, out.n, msg)
		}
		return info, fmt.Errorf("%w: run %s: %w", ErrFailed, filepath.Base(e.path), runErr)
	case !hasTrailer(out.tail.Bytes()):
		return info, fmt.Errorf("%w (%d bytes; exit status 0): %s", ErrIncomplete, out.n, msg)
	}
	return info, nil
}
