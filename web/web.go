// Package web is the HTTP process: liveness and readiness probes for the
// load balancer, the API for the POS (api.go), and the operator console
// (package console: asynqmon behind a login). Every error is a JSON body
// with a 4xx/5xx status, never an HTML page, but on the console's pages.
package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/cache/cacheclient"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/health"
	"github.com/cantina-pos/cantina-ops/internal/ratelimit"
	"github.com/cantina-pos/cantina-ops/tasks"
	"github.com/cantina-pos/cantina-ops/web/console"
)

// ConsolePath is where the console (asynqmon behind a login) is mounted.
const ConsolePath = console.Root

// readyTimeout bounds each readiness check: a load balancer's probe must
// get an answer well within its own timeout.
const readyTimeout = 2 * time.Second

// Deps are the connections the web process uses.
type Deps struct {
	Redis  redis.UniversalClient
	DB     *sql.DB
	Logger *slog.Logger
	// Health are the checks behind /health/; nil serves the readiness
	// checks there.
	Health *health.Checker
	// Version goes into the health documents.
	Version string

	Metrics MetricsSources // what /metrics reports beyond the queues

	// Backups lists every backup destination for the console's backups
	// page; nil: the page says backups are not configured here.
	Backups console.BackupLister

	// Limits is the Redis the rate limits keep their state in: the POS's
	// cache Redis (CACHE_REDIS_URL), which its Django decorator reaches
	// too. Nil uses Redis.
	Limits redis.UniversalClient

	// Now is the console sessions' clock; nil: time.Now.
	Now func() time.Time
}

// Server is the web process.
type Server struct {
	cfg       *config.Config
	log       *slog.Logger
	readiness *health.Rounds      // /ready/, cached briefly in this process
	rounds    *health.Rounds      // /health/, shared with the other replicas
	console   *console.Handler    // nil when no console account is set
	audit     *console.Auditor    // the audit trail (console, API calls)
	cache     *cacheclient.Client // enqueues cache invalidations (api.go)
	tokens    apiTokens           // API_TOKENS
	limits    *limits             // RATE_LIMIT_* (ratelimit.go)
	gateway   *gateway            // nil without POS_UPSTREAM_URL
	handler   http.Handler
}

// New builds the routes. Without CONSOLE_USERS or CONSOLE_USER/
// CONSOLE_PASSWORD the console is not served at all, and a warning says so. With POS_UPSTREAM_URL every
// path that is not ours goes to the POS (gateway.go); without it, 404.
func New(cfg *config.Config, d Deps) *Server {
	s := &Server{
		cfg:    cfg,
		log:    d.Logger.With("process", "web"),
		tokens: newAPITokens(cfg.APITokens),
	}
	s.audit = console.NewAuditor(d.Redis, s.log, nil)
	if d.Limits == nil {
		d.Limits = d.Redis
	}
	s.limits = &limits{
		cfg:   cfg.RateLimit,
		guard: &ratelimit.Guard{Limiter: ratelimit.NewLimiter(d.Limits), FailOpen: cfg.RateLimit.FailOpen, Logger: s.log},
		token: s.tokens.name,
	}
	s.readiness, s.rounds = s.healthRounds(d)
	mux := http.NewServeMux()
	mux.Handle(alivePattern, method(http.MethodGet, http.HandlerFunc(s.alive)))
	mux.Handle(readyPattern, method(http.MethodGet, http.HandlerFunc(s.ready)))
	mux.Handle("/health/{$}", method(http.MethodGet, http.HandlerFunc(s.health)))
	if d.Metrics.Health == nil {
		d.Metrics.Health = s.lastRound
	}
	mux.Handle("/metrics", method(http.MethodGet, s.metrics(d)))
	s.api(mux, cacheclient.New(cfg, d.Redis))
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not found")
	})
	// The API's and the console's paths are ours, whatever is under them.
	mux.Handle(APIPrefix+"/", notFound)
	if len(cfg.Console.Users) > 0 {
		var err error
		s.console, err = console.New(console.Options{
			Config: cfg, Redis: d.Redis, Guard: s.limits.guard, Auditor: s.audit, Logger: s.log, Now: d.Now,
			Backups: d.Backups, Enqueue: enqueuer(cfg, d.Redis),
		})
		if err != nil {
			s.log.Error("console not served", "err", err)
			mux.Handle(ConsolePath+"/", notFound)
		} else {
			mux.Handle(ConsolePath+"/", s.console)
			mux.Handle(ConsolePath, s.console)
		}
	} else {
		s.log.Warn("console not served: set CONSOLE_USERS (or CONSOLE_USER and CONSOLE_PASSWORD) to enable " + ConsolePath + "/")
		mux.Handle(ConsolePath+"/", notFound)
	}
	mux.Handle(otherPattern, notFound)
	if cfg.POSUpstream != nil {
		s.gateway = newGateway(cfg.POSUpstream, s.limits, s.log.With("upstream", cfg.POSUpstream.Redacted()))
		s.log.Info("gateway to the POS", "upstream", cfg.POSUpstream.Redacted())
	}
	s.handler = s.logRequests(s.route(mux))
	return s
}

// enqueuer queues the console's tasks on the queue Redis.
func enqueuer(cfg *config.Config, rdb redis.UniversalClient) console.Enqueuer {
	client := asynq.NewClientFromRedisClient(rdb)
	return func(ctx context.Context, a tasks.Args) (string, error) {
		t, err := tasks.New(a, tasks.LimitsOf(cfg))
		if err != nil {
			return "", err
		}
		info, err := client.EnqueueContext(ctx, t)
		if err != nil {
			return "", fmt.Errorf("queue %s: %w", a.TaskType(), err)
		}
		return info.ID, nil
	}
}

// The patterns route treats apart: the probes (never limited) and the
// catch-all (the POS's, through the gateway).
const (
	alivePattern = "/alive/{$}"
	readyPattern = "/ready/{$}"
	otherPattern = "/"
)

// route sends each request where it belongs: the probes straight to mux,
// the POS's paths to the gateway (when there is one), and every other
// route of ours to mux behind the rate limits. Our security headers go on
// our answers, not on the POS's.
func (s *Server) route(mux *http.ServeMux) http.Handler {
	ours := securityHeaders(mux)
	limited := securityHeaders(s.limits.limitOurs(mux))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		switch {
		case pattern == alivePattern || pattern == readyPattern:
			ours.ServeHTTP(w, r)
		case pattern == otherPattern && s.gateway != nil:
			s.gateway.ServeHTTP(w, r)
		default:
			limited.ServeHTTP(w, r)
		}
	})
}

// Handler returns the root handler, for tests.
func (s *Server) Handler() http.Handler { return s.handler }

// Run serves on PORT until ctx is done, then shuts down gracefully: it stops
// accepting, lets in-flight requests finish (up to 10 s) and returns.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(s.cfg.Port))
	if err != nil {
		return fmt.Errorf("listen on port %d: %w", s.cfg.Port, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on a given listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("web listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		s.close()
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	s.close()
	if err != nil {
		return fmt.Errorf("shut down http server: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http: %w", err)
	}
	s.log.Info("web stopped")
	return nil
}

func (s *Server) close() {
	if s.console != nil {
		_ = s.console.Close()
	}
}

// alive answers as long as the process serves HTTP; it checks nothing else.
func (s *Server) alive(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": string(health.Pass)})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	writeJSONBody(w, code, v)
}

func writeJSONBody(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes {"error": msg} with the status code.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
