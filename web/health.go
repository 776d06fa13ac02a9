package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/health"
)

// readyCacheTTL is how long one readiness round answers /ready/: a flood of
// probes costs one database query per second, not one per probe.
const readyCacheTTL = time.Second

// healthRounds builds the rounds behind /ready/ (the queue Redis and the
// database, cached in this process) and /health/ (every check, cached for
// HEALTH_CACHE_TTL and shared with the other replicas through the queue
// Redis).
func (s *Server) healthRounds(d Deps) (ready, full *health.Rounds) {
	ready = health.NewRounds(health.Readiness(d.Redis, d.DB, readyTimeout).Run,
		health.RoundsOptions{TTL: readyCacheTTL, Version: d.Version, Logger: s.log})
	checker := d.Health
	if checker == nil {
		checker = health.Readiness(d.Redis, d.DB, s.cfg.HealthTimeout)
	}
	// A process waits for another's round at most as long as a round can
	// take (every check runs in parallel under its timeout), plus a margin.
	wait := max(checker.Timeout, s.cfg.HealthTimeout) + 2*time.Second
	full = health.NewRounds(checker.Run, health.RoundsOptions{
		TTL: s.cfg.Health.CacheTTL, Redis: d.Redis, Key: health.DefaultRoundKey + ":" + s.cfg.DB.Name,
		Wait: wait, Version: d.Version, Logger: s.log,
	})
	return ready, full
}

// ready is 200 when the queue Redis and the database answer, else 503; the
// body is the health document of those two checks.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	serveRound(w, r, s.readiness, "no-store")
}

// health is the full report: 200 on pass and warn, 503 on fail. Clients
// may cache it as long as we do.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	serveRound(w, r, s.rounds, "max-age="+strconv.Itoa(int(s.rounds.TTL()/time.Second)))
}

func serveRound(w http.ResponseWriter, r *http.Request, rounds *health.Rounds, cacheControl string) {
	round, err := rounds.Get(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "the health checks did not finish before the request ended")
		return
	}
	h := w.Header()
	h.Set("Content-Type", health.MediaType)
	h.Set("Cache-Control", cacheControl)
	h.Set("Content-Length", strconv.Itoa(len(round.Document)))
	w.WriteHeader(health.HTTPStatus(round.Report.Status))
	_, _ = w.Write(round.Document)
}

// lastRound is the shared round of /health/ for /metrics: a scrape gets the
// cached round, or runs one (at most once per HEALTH_CACHE_TTL across
// replicas, like /health/).
func (s *Server) lastRound() (health.Report, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.HealthTimeout+5*time.Second)
	defer cancel()
	r, err := s.rounds.Get(ctx)
	if err != nil {
		return health.Report{}, false
	}
	return r.Report, true
}
