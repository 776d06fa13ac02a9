package config_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

func lookupOf(env map[string]string) config.Lookup {
	return func(key string) (string, bool) {
		v, ok := env[key]
		return v, ok
	}
}

// TestDatabaseURLConnects connects to the real MariaDB with every URL form
// Load accepts: the parameters must reach the driver as settings, not as
// session variables the server would reject.
func TestDatabaseURLConnects(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	base := srv.URL(name) // the account's password has @ : / % in it
	tests := []struct {
		name        string
		query       string
		wantCharset string
	}{
		{"plain", "", ""},
		{"charset and timeouts", "?charset=utf8mb4&collation=utf8mb4_unicode_ci&timeout=10s&readTimeout=30s&writeTimeout=30s", "utf8mb4"},
		{"ClearDB reconnect", "?reconnect=true", ""},
		{"ssl-mode DISABLED", "?ssl-mode=DISABLED", ""},
		{"ssl-mode PREFERRED", "?ssl-mode=PREFERRED", ""},
		{"connection attributes", "?connectionAttributes=program_name:cantina-ops&maxAllowedPacket=16777216", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(lookupOf(map[string]string{"DATABASE_URL": base + tt.query}))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			conn, err := mysql.NewConnector(cfg.DB.MySQL())
			if err != nil {
				t.Fatalf("NewConnector: %v", err)
			}
			db := sql.OpenDB(conn)
			t.Cleanup(func() { _ = db.Close() })
			ctx := context.Background()
			var gotDB, charset string
			if err := db.QueryRowContext(ctx, "SELECT DATABASE(), @@character_set_connection").Scan(&gotDB, &charset); err != nil {
				t.Fatalf("query through %s: %v", cfg.DB, err)
			}
			if gotDB != name {
				t.Errorf("connected to database %q, want %q", gotDB, name)
			}
			if tt.wantCharset != "" && charset != tt.wantCharset {
				t.Errorf("character_set_connection = %q, want %q", charset, tt.wantCharset)
			}
		})
	}
}

// TestRedisURLConnects checks that REDIS_URL's database number reaches the
// client: a key written through the config lands in the test's database.
func TestRedisURLConnects(t *testing.T) {
	r := testenv.Redis(t)
	cfg, err := config.Load(lookupOf(map[string]string{
		"DATABASE_URL": "mysql://u:pass@db/pos",
		"REDIS_URL":    r.URL(),
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	ctx := context.Background()
	c := redis.NewClient(cfg.Redis.Options())
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Set(ctx, "cantina-config-test", "ok", 0).Err(); err != nil {
		t.Fatalf("set through %s: %v", cfg.Redis, err)
	}
	got, err := r.Client(t).Get(ctx, "cantina-config-test").Result()
	if err != nil || got != "ok" {
		t.Errorf("key in db %d = %q, %v; want it written there", r.DB, got, err)
	}
	if cfg.CacheRedis.Options().DB != r.DB {
		t.Errorf("CACHE_REDIS_URL default db = %d, want %d", cfg.CacheRedis.Options().DB, r.DB)
	}
}
