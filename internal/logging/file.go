package logging

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/cantina-pos/cantina-ops/internal/config"
)

// OpenFile checks that the log file f.Path can be written and returns its
// writer, which rotates it by size: when a line would take the live file
// past f.MaxSizeMB, the file is renamed NAME-<UTC time>.EXT and a new one
// started; rotated files are gzipped in the background (NAME-<time>.EXT.gz)
// and the oldest removed past f.MaxBackups files or f.MaxAgeDays days.
// New files are created with mode 0600. Close the writer on exit.
//
// Rotation is per process (lumberjack keeps no lock between processes):
// give each process its own LOG_FILE, or run `cantina-ops all`.
//
// Errors name LOG_FILE and say what to do: the directory must exist (it is
// not created, so a typo does not scatter logs) and be writable, since
// rotation renames and creates files in it.
func OpenFile(f config.LogFile) (io.WriteCloser, error) {
	dir := filepath.Dir(f.Path)
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("LOG_FILE: directory %s does not exist: create it, writable by the user cantina-ops runs as, or point LOG_FILE elsewhere: %w", dir, err)
	case err != nil:
		return nil, fmt.Errorf("LOG_FILE: check directory %s: %w", dir, err)
	case !info.IsDir():
		return nil, fmt.Errorf("LOG_FILE: %s is not a directory: point LOG_FILE at a file in a directory", dir)
	}
	if info, err := os.Stat(f.Path); err == nil && info.IsDir() {
		return nil, fmt.Errorf("LOG_FILE: %s is a directory: name a file in it, e.g. %s", f.Path, filepath.Join(f.Path, "cantina-ops.log"))
	}
	probe, err := os.CreateTemp(dir, "."+filepath.Base(f.Path)+".check-*")
	if err != nil {
		return nil, fmt.Errorf("LOG_FILE: directory %s is not writable (rotation creates and renames files there): give the user cantina-ops runs as write access to it: %w", dir, err)
	}
	_ = probe.Close()
	if err := os.Remove(probe.Name()); err != nil {
		return nil, fmt.Errorf("LOG_FILE: remove write check %s: %w", probe.Name(), err)
	}
	if live, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_APPEND, 0); err == nil {
		_ = live.Close()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("LOG_FILE: %s cannot be appended to: give the user cantina-ops runs as write access to it, or remove it: %w", f.Path, err)
	}
	return &lumberjack.Logger{
		Filename:   f.Path,
		MaxSize:    f.MaxSizeMB,
		MaxBackups: f.MaxBackups,
		MaxAge:     f.MaxAgeDays,
		Compress:   true,
	}, nil
}
