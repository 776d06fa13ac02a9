package backup

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// TestLockOutlivesIdleTimeout: the server drops a lock connection idle for
// lockIdleTimeout (freeing the lock), so a held lock pings it.
func TestLockOutlivesIdleTimeout(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	db := srv.Open(t, name)
	idle, every := lockIdleTimeout, lockKeepAlive
	lockIdleTimeout, lockKeepAlive = 2*time.Second, 300*time.Millisecond
	t.Cleanup(func() { lockIdleTimeout, lockKeepAlive = idle, every })

	ctx := context.Background()
	l, err := acquireLock(ctx, db, name)
	if err != nil {
		t.Fatal(err)
	}
	// Three idle timeouts without a statement of the lock's own.
	time.Sleep(3 * lockIdleTimeout)
	if _, err := acquireLock(ctx, db, name); !errors.Is(err, ErrBackupRunning) {
		t.Fatalf("second lock after %s: %v, want ErrBackupRunning (the first was lost)", 3*lockIdleTimeout, err)
	}
	l.Release()
	l2, err := acquireLock(ctx, db, name)
	if err != nil {
		t.Fatalf("lock after Release: %v", err)
	}
	l2.Release()
}
