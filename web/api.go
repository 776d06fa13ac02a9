package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/cache"
	"github.com/cantina-pos/cantina-ops/internal/cache/cacheclient"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/web/console"
)

// The HTTP API for the POS (documented in openapi.json, served at
// OpenAPIPath). Every call but the document's needs "Authorization:
// Bearer <token>" with a token of API_TOKENS; the token's name is the
// caller in the logs. Status codes, checked in this order: 403 when
// API_TOKENS is empty (the API is disabled), 401 without a valid token,
// 415 for a body that is not application/json, 413 for one over
// MaxAPIBody, 400 for bad JSON or an invalid request (with every
// problem). Nothing is enqueued on any error.
const (
	APIPrefix      = "/api/v1"
	OpenAPIPath    = APIPrefix + "/openapi.json"
	invalidatePath = APIPrefix + "/cache/invalidate"
	taskPath       = APIPrefix + "/tasks/{id}"
)

// MaxAPIBody bounds a request body of the API.
const MaxAPIBody = 64 << 10

// WaitLimit is how long a call with "wait": true waits for its task.
const WaitLimit = 2 * time.Second

//go:embed openapi.json
var openAPIDocument []byte

// api serves the API's routes on mux.
func (s *Server) api(mux *http.ServeMux, c *cacheclient.Client) {
	s.cache = c
	mux.Handle(OpenAPIPath, method(http.MethodGet, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(openAPIDocument)))
		_, _ = w.Write(openAPIDocument)
	})))
	auth := tokenAuth(s.tokens, s.auditCall)
	mux.Handle(invalidatePath, method(http.MethodPost, auth(http.HandlerFunc(s.invalidate))))
	mux.Handle(taskPath, method(http.MethodGet, auth(http.HandlerFunc(s.task))))
}

type callerKey struct{}

// caller is the name of the token the request came with.
func caller(ctx context.Context) string {
	name, _ := ctx.Value(callerKey{}).(string)
	return name
}

// apiTokens are API_TOKENS' names and digests.
type apiTokens []apiToken

type apiToken struct {
	name   string
	digest [sha256.Size]byte
}

func newAPITokens(tokens []config.APIToken) apiTokens {
	ks := make(apiTokens, len(tokens))
	for i, t := range tokens {
		ks[i] = apiToken{t.Name, secretDigest(t.Token.Reveal())}
	}
	return ks
}

// name is the name of r's bearer token, "" unless it is one of ks. Every
// configured token is compared, in constant time over SHA-256 digests,
// whichever matches.
func (ks apiTokens) name(r *http.Request) string {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || len(ks) == 0 {
		return ""
	}
	d := secretDigest(got)
	name := ""
	for _, k := range ks {
		if sameDigest(d, k.digest) {
			name = k.name
		}
	}
	return name
}

// tokenAuth guards the API: 403 while no token is configured, 401 unless
// the bearer token is one of them. called gets each call that passes,
// with its token's name.
func tokenAuth(ks apiTokens, called func(r *http.Request, name string)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if len(ks) == 0 {
				writeError(w, http.StatusForbidden, "the API is disabled: set API_TOKENS (name:token,…) to enable it")
				return
			}
			name := ks.name(r)
			if name == "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="cantina-ops api"`)
				writeError(w, http.StatusUnauthorized, "a valid bearer token is required: Authorization: Bearer <a token of API_TOKENS>")
				return
			}
			called(r, name)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, name)))
		})
	}
}

// auditCall records an API call in the audit trail.
func (s *Server) auditCall(r *http.Request, name string) {
	s.audit.Audit(r.Context(), console.Event{
		Action: console.ActionAPICall, Token: name, Method: r.Method, Path: r.URL.Path, IP: console.ClientIP(r, s.cfg.RateLimit.TrustedProxies),
	})
}

// invalidateBody is the body of POST /api/v1/cache/invalidate.
type invalidateBody struct {
	cache.Request
	Wait bool `json:"wait"`
}

// taskAnswer is what the invalidate and task routes answer.
type taskAnswer struct {
	cacheclient.Status
	Coalesced bool `json:"coalesced"`
}

// problemsBody is a 400 for an invalid request.
type problemsBody struct {
	Error    string   `json:"error"`
	Problems []string `json:"problems"`
}

func (s *Server) invalidate(w http.ResponseWriter, r *http.Request) {
	log := s.log.With("caller", caller(r.Context()))
	body, code, msg := readJSONBody(w, r)
	if code != 0 {
		writeError(w, code, msg)
		return
	}
	var req invalidateBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad JSON: "+err.Error())
		return
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "bad JSON: trailing data after the object")
		return
	}
	id, coalesced, err := s.cache.Enqueue(r.Context(), req.Request)
	var re *cache.RequestError
	switch {
	case errors.As(err, &re):
		writeJSON(w, http.StatusBadRequest, problemsBody{Error: "invalid request", Problems: re.Problems})
		return
	case err != nil:
		log.Error("cache invalidation not queued", "err", err)
		writeError(w, http.StatusServiceUnavailable, "could not queue the invalidation (the queue Redis is unreachable); try again")
		return
	}
	log.Info("cache invalidation queued", "task_id", id, "coalesced", coalesced,
		"keys", len(req.Keys), "patterns", len(req.Patterns), "tags", len(req.Tags), "raw", req.Raw)
	ans := taskAnswer{Status: cacheclient.Status{TaskID: id, State: "pending"}, Coalesced: coalesced}
	if req.Wait {
		st, err := s.cache.Wait(r.Context(), id, WaitLimit)
		if err != nil {
			log.Warn("cache invalidation queued, its state unreadable", "task_id", id, "err", err)
		} else if st.TaskID != "" {
			ans.Status = st
		}
		if st.State == "completed" {
			writeJSON(w, http.StatusOK, ans)
			return
		}
	}
	writeJSON(w, http.StatusAccepted, ans)
}

// readJSONBody reads an application/json body of at most MaxAPIBody; on a
// problem it returns the status and message to answer.
func readJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, int, string) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, http.StatusUnsupportedMediaType, "the body must be JSON, sent with Content-Type: application/json"
	}
	tooLarge := "the body is larger than " + strconv.Itoa(MaxAPIBody/1024) + " KiB; split the request"
	if r.ContentLength > MaxAPIBody {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxAPIBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	case err != nil:
		return nil, http.StatusBadRequest, "could not read the body"
	}
	return b, 0, ""
}

// task answers the state and result of a cache:invalidate task.
func (s *Server) task(w http.ResponseWriter, r *http.Request) {
	st, err := s.cache.Status(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, cacheclient.ErrNotFound):
		writeError(w, http.StatusNotFound, "no cache invalidation task has this id (finished tasks are kept for a day)")
	case err != nil:
		s.log.Error("task state unreadable", "caller", caller(r.Context()), "err", err)
		writeError(w, http.StatusServiceUnavailable, "could not read the task (the queue Redis is unreachable); try again")
	default:
		s.log.Log(r.Context(), slog.LevelDebug, "task state read", "caller", caller(r.Context()), "task_id", st.TaskID)
		writeJSON(w, http.StatusOK, taskAnswer{Status: st})
	}
}
