package backup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// ErrBackupRunning means another backup (or restore) of the same database
// holds its lock: from the worker, the CLI, or another server.
var ErrBackupRunning = errors.New("another backup or restore of this database is running; wait for it to finish (see the console's active tasks) and try again")

// LockName is the MySQL named lock that guards dumps and restores of
// database: one at a time per database and server, whoever runs them. The
// server caps lock names at 64 characters; longer ones are hashed.
func LockName(database string) string {
	n := "cantina-ops:backup:" + database
	if len(n) <= 64 {
		return n
	}
	h := sha256.Sum256([]byte(database))
	return "cantina-ops:backup:" + hex.EncodeToString(h[:])[:40]
}

// Running reports whether a backup or restore of m.Database holds its lock
// right now, on any host (for an API that answers "already running"
// before enqueuing). Run itself does not need it: it refuses on its own.
func (m *Manager) Running(ctx context.Context) (bool, error) {
	if m.DB == nil {
		return false, errors.New("backup manager: no DB")
	}
	var holder sql.NullInt64
	if err := m.DB.QueryRowContext(ctx, "SELECT IS_USED_LOCK(?)", LockName(m.Database)).Scan(&holder); err != nil {
		return false, fmt.Errorf("check the backup lock: %w", err)
	}
	return holder.Valid, nil
}

// dbLock is a held named lock; Release gives it back and discards the
// connection that holds it.
type dbLock struct {
	conn *sql.Conn
	name string
	stop chan struct{} // closed by Release
	done chan struct{} // closed when the keep-alive has stopped
}

// Lock connections: the server drops one idle for lockIdleTimeout, which
// frees its lock; a held lock pings every lockKeepAlive. A client that
// vanishes without closing its connection (a host that lost power or its
// network) so blocks the next backup or restore for an hour at most, not
// for a day, while a process paused for less than an hour (a suspended
// VM) keeps its lock. A ping that gets no answer within lockKeepAlive
// closes the connection, and the lock is lost: the server was stalled for
// a minute.
var (
	lockIdleTimeout = time.Hour
	lockKeepAlive   = time.Minute
)

// acquireLock takes the named lock of database on a dedicated connection of
// db, without waiting: a busy lock is ErrBackupRunning. The lock lives as
// long as the connection; should the process die, the server frees it.
func acquireLock(ctx context.Context, db *sql.DB, database string) (*dbLock, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to the database for the backup lock: %w", err)
	}
	name := LockName(database)
	_, _ = conn.ExecContext(ctx, fmt.Sprintf("SET SESSION wait_timeout = %d", int(lockIdleTimeout/time.Second)))
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", name).Scan(&got); err != nil {
		discardConn(conn)
		return nil, fmt.Errorf("take the backup lock %q: %w", name, err)
	}
	switch {
	case !got.Valid:
		discardConn(conn)
		return nil, fmt.Errorf("take the backup lock %q: the server returned NULL", name)
	case got.Int64 != 1:
		discardConn(conn)
		return nil, fmt.Errorf("%s: %w", database, ErrBackupRunning)
	}
	l := &dbLock{conn: conn, name: name, stop: make(chan struct{}), done: make(chan struct{})}
	go l.keepAlive(lockKeepAlive)
	return l, nil
}

// keepAlive pings the lock's connection every period until Release.
func (l *dbLock) keepAlive(period time.Duration) {
	defer close(l.done)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), period)
			_, _ = l.conn.ExecContext(ctx, "DO 1")
			cancel()
		}
	}
}

// Release frees the lock, even when the caller's context is done.
func (l *dbLock) Release() {
	close(l.stop)
	<-l.done
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = l.conn.ExecContext(ctx, "DO RELEASE_LOCK(?)", l.name)
	discardConn(l.conn)
}

// discardConn closes c without returning it to its pool, so that session
// settings (a changed database, foreign_key_checks, a lock) never leak to
// the pool's other users.
func discardConn(c *sql.Conn) {
	_ = c.Raw(func(any) error { return driver.ErrBadConn })
	_ = c.Close()
}
