package backup

import (
	"context"
	"errors"
	"io"
	"time"
)

// Storage keeps backup files: a local directory (DirStorage) or an S3
// bucket (S3Storage). It stores opaque named objects; what they mean (dumps,
// manifests, leftovers) is decided here, in package backup. Every name is
// a plain file name of ours (see ParseName); anything else is refused.
type Storage interface {
	// List returns every object of ours, including the temporary files
	// of unfinished uploads (Object.Temp), in no particular order. Objects
	// whose names are not ours are left out and never touched.
	List(ctx context.Context) ([]Object, error)
	// Create starts writing a dump or a manifest. Nothing appears under
	// name until Commit succeeds; Abort (or a crash) leaves at most a
	// temporary object that List reports with Temp set. It fails with
	// ErrExists when name is already stored.
	Create(ctx context.Context, name string) (Upload, error)
	// Open reads a stored dump or manifest; ErrNotFound when absent.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// Delete removes an object (a temporary one too); ErrNotFound when
	// absent.
	Delete(ctx context.Context, name string) error
	// Stat describes a stored object; ErrNotFound when absent.
	Stat(ctx context.Context, name string) (Object, error)
	// Replace stores a small object (a manifest) whole, replacing the one
	// of that name at once: readers see the old content or the new, never
	// a mix, and never no object.
	Replace(ctx context.Context, name string, data []byte) error
}

// Upload is an object being written.
type Upload interface {
	io.Writer
	// Commit makes the object durable and visible under its name, at
	// once and whole.
	Commit() error
	// Abort discards what was written. It is a no-op after Commit.
	Abort() error
}

// Object is one stored file.
type Object struct {
	Name    string    `json:"name"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
	// Temp marks the temporary object of an upload that has not been
	// committed: a running backup's, or one that was interrupted.
	Temp bool `json:"temp,omitempty"`
	// ETag is the object's entity tag where the storage has one (S3;
	// quotes stripped): it changes whenever the content does.
	ETag string `json:"etag,omitempty"`
	// Destination is set by Manager.ListAll.
	Destination string `json:"destination,omitempty"`
}

// Storage errors.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
)
