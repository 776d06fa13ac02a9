package health

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// databaseResponseTime connects and runs SELECT 1, in milliseconds: on
// Deps.Connect a new connection each time; on DB without it.
func (d Deps) databaseResponseTime(ctx context.Context) Result {
	db := d.Connect
	if db == nil {
		db = d.DB
	}
	if db == nil {
		return notConfigured("the database")
	}
	start := time.Now()
	conn, err := db.Conn(ctx)
	if err != nil {
		return d.failed(KeyDatabaseResponseTime, "cannot connect to the database", err)
	}
	defer conn.Close()
	var one int
	if err := conn.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return d.failed(KeyDatabaseResponseTime, "the database did not answer SELECT 1", err)
	}
	return responded(time.Since(start), "connected and answered SELECT 1")
}

// databaseConnections compares the server's Threads_connected with its
// max_connections, in %.
func (d Deps) databaseConnections(ctx context.Context) Result {
	if d.DB == nil {
		return notConfigured("the database")
	}
	conn, err := d.DB.Conn(ctx)
	if err != nil {
		return d.failed(KeyDatabaseConnections, "cannot connect to the database", err)
	}
	defer conn.Close()
	var maxConns int64
	if err := conn.QueryRowContext(ctx, "SELECT @@GLOBAL.max_connections").Scan(&maxConns); err != nil {
		return d.failed(KeyDatabaseConnections, "cannot read max_connections", err)
	}
	var name, value string
	if err := conn.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Threads_connected'").Scan(&name, &value); err != nil {
		return d.failed(KeyDatabaseConnections, "cannot read Threads_connected", err)
	}
	used, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return d.failed(KeyDatabaseConnections, "cannot read Threads_connected", err)
	}
	pct := percent(float64(used), float64(maxConns))
	res := Result{Status: percentStatus(pct, DBConnectionsWarn, DBConnectionsFail), ObservedValue: pct, ObservedUnit: "%",
		Threshold: percentThreshold(DBConnectionsWarn, DBConnectionsFail),
		Output:    fmt.Sprintf("%d of %d connections in use", used, maxConns)}
	if res.Status != Pass {
		res.Output += ": raise max_connections, or find who holds them (SHOW PROCESSLIST)"
	}
	return res
}
