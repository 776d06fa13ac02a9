// Package conn opens the connections every process shares: the queue Redis
// and the POS database, with pool sizes and timeouts fit for a small server.
package conn

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/config"
)

// Redis opens a client for r. Close it when done.
func Redis(r config.Redis) *redis.Client {
	o := r.Options()
	o.DialTimeout = 5 * time.Second
	o.ReadTimeout = 10 * time.Second
	o.WriteTimeout = 10 * time.Second
	return redis.NewClient(o)
}

// CacheRedis is a client of the POS's cache Redis: r's server alone, or
// with cluster, the Redis Cluster that server belongs to (its other nodes
// found through it; commands routed by key slot).
func CacheRedis(r config.Redis, cluster bool) redis.UniversalClient {
	if !cluster {
		return Redis(r)
	}
	o := r.Options()
	return redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: []string{o.Addr}, Username: o.Username, Password: o.Password, TLSConfig: o.TLSConfig,
		DialTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
	})
}

// AsynqRedis is an asynq.RedisConnOpt that makes a new client for r each time
// it is asked, for components (asynqmon) that own and close their client.
type AsynqRedis struct{ R config.Redis }

// MakeRedisClient implements asynq.RedisConnOpt.
func (a AsynqRedis) MakeRedisClient() any { return Redis(a.R) }

var _ asynq.RedisConnOpt = AsynqRedis{}

// DB opens a pool on the configured database. It does not connect yet.
func DB(d config.DB) (*sql.DB, error) {
	c, err := mysql.NewConnector(d.MySQL())
	if err != nil {
		return nil, fmt.Errorf("configure database %s: %w", d.String(), err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(2)
	db.SetConnMaxLifetime(30 * time.Minute)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}
