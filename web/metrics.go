package web

import (
	"net/http"
	"strings"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/health"
	"github.com/cantina-pos/cantina-ops/internal/metrics"
)

// MetricsSources are what /metrics reports beyond the queues (read from
// Deps.Redis); a nil field leaves its metrics out.
type MetricsSources struct {
	// Backups lists the backup storage of Database.
	Backups  metrics.BackupLister
	Database string
	// Health returns the last health report, false before the first.
	Health func() (health.Report, bool)
}

// metrics serves GET /metrics for Prometheus, behind METRICS_TOKEN when
// it is set.
func (s *Server) metrics(d Deps) http.Handler {
	reg := metrics.NewRegistry(metrics.Sources{
		Queues:   asynq.NewInspectorFromRedisClient(d.Redis),
		Redis:    d.Redis,
		Backups:  d.Metrics.Backups,
		Database: d.Metrics.Database,
		Health:   d.Metrics.Health,
	})
	h := metrics.Handler(reg, s.log)
	if !s.cfg.MetricsToken.IsSet() {
		return h
	}
	return bearer(s.cfg.MetricsToken, h)
}

// bearer guards next with "Authorization: Bearer <token>", compared in
// constant time (over SHA-256, so the length does not leak).
func bearer(token config.Secret, next http.Handler) http.Handler {
	want := secretDigest(token.Reveal())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !sameDigest(secretDigest(got), want) || !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cantina-ops metrics"`)
			writeError(w, http.StatusUnauthorized, "bearer token required: set it from METRICS_TOKEN (Prometheus: authorization.credentials)")
			return
		}
		next.ServeHTTP(w, r)
	})
}
