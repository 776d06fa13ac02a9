// Command cachebench is the POS cache benchmark of issue 10, driven by
// bench/cache.sh (which starts Redis and `cantina-ops all`):
//
//	cachebench delete   seeds 2 M keys (1 M "productos:…" that match, 1 M
//	                    others) before every run and times each method
//	                    deleting the 1 M matching ones, rounds in
//	                    alternating order, checking afterwards that
//	                    exactly the 1 M are gone and the others remain;
//	cachebench latency  an open-loop load of POST /api/v1/cache/invalidate
//	                    {"keys": [k], "wait": true} at a fixed rate, the
//	                    latency measured from each request's scheduled time
//	                    to its 200 (the keys gone).
//
// Methods of delete: "ours-api" (POST a pattern, poll GET
// /api/v1/tasks/{id} until completed), "ours-direct" (cache.Invalidate
// in this process), "django" (django-redis delete_pattern, itersize
// 10 000, through bench/cachebench/django_delete.py) and "redis-cli"
// (redis-cli --scan --pattern P | xargs redis-cli unlink). The API token
// comes from the environment (API_TOKEN), never argv.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/cache"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: cachebench delete|latency [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "delete":
		err = runDelete(os.Args[2:])
	case "latency":
		err = runLatency(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (delete or latency)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cachebench:", err)
		os.Exit(1)
	}
}

// common are the flags of both commands.
type common struct {
	redisAddr string
	db        int
	ks        cache.Keyspace
	n         int
	web       string
	token     string
}

func (c *common) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.redisAddr, "redis", "127.0.0.1:6379", "the cache Redis, host:port")
	fs.IntVar(&c.db, "db", 1, "the cache Redis database (CACHE_REDIS_URL's)")
	fs.StringVar(&c.ks.Prefix, "prefix", "pos", "CACHE_KEY_PREFIX")
	fs.IntVar(&c.ks.Version, "version", 1, "CACHE_VERSION")
	fs.IntVar(&c.n, "n", 1_000_000, "matching keys (and as many others)")
	fs.StringVar(&c.web, "web", "http://127.0.0.1:8080", "cantina-ops web")
}

func (c *common) client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: c.redisAddr, DB: c.db, PoolSize: 64, ReadTimeout: 30 * time.Second})
}

// otherKinds are the logical prefixes of the keys that must survive,
// near misses of "productos:*" among them.
var otherKinds = []string{"dashboard:ventas:", "sesiones:", "categorias:", "productos-destacados:", "productos_resumen:", "producto:"}

// seed empties the database and writes n "productos:<i>" keys and n
// others, each a pickle-sized value with a TTL as django-redis sets them,
// in pipelines of 10 000 from 4 connections.
func seed(ctx context.Context, rdb *redis.Client, ks cache.Keyspace, n int) error {
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	const batch, workers = 10_000, 4
	var next atomic.Int64
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for {
				start := int(next.Add(batch)) - batch
				if start >= 2*n {
					errs <- nil
					return
				}
				pipe := rdb.Pipeline()
				for i := start; i < min(start+batch, 2*n); i++ {
					key, val := seedEntry(ks, i, n)
					pipe.Set(ctx, key, val, time.Duration(300+i%3300)*time.Second)
				}
				if _, err := pipe.Exec(ctx); err != nil {
					errs <- fmt.Errorf("seed: %w", err)
					return
				}
			}
		}()
	}
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// seedEntry is key i of the seed: i < n match "productos:*".
func seedEntry(ks cache.Keyspace, i, n int) (string, []byte) {
	var logical string
	if i < n {
		logical = "productos:" + strconv.Itoa(i)
	} else {
		logical = otherKinds[i%len(otherKinds)] + strconv.Itoa(i)
	}
	// A pickled dict's size: protocol header, then the fields.
	val := fmt.Appendf([]byte("\x80\x05\x95"), `{"id": %d, "nombre": "Producto %d", "precio": "%d.%02d", "stock": %d, "categoria": %d}`,
		i, i, i%90+1, i%100, i%500, i%40)
	return ks.Key(logical), val
}

// check verifies that exactly the n matching keys are gone: DBSIZE is n
// and a SCAN of the database finds none matching.
func check(ctx context.Context, rdb *redis.Client, ks cache.Keyspace, n int) error {
	size, err := rdb.DBSize(ctx).Result()
	if err != nil {
		return fmt.Errorf("check: dbsize: %w", err)
	}
	pattern, err := ks.Pattern("productos:*")
	if err != nil {
		return err
	}
	var left int
	iter := rdb.Scan(ctx, 0, pattern, 10_000).Iterator()
	for iter.Next(ctx) {
		left++
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("check: scan: %w", err)
	}
	if size != int64(n) || left != 0 {
		return fmt.Errorf("check: %d keys in the database (want the %d others) and %d matching left (want 0)", size, n, left)
	}
	return nil
}

// ---------------------------------------------------------------- delete

type deleteRun struct {
	common
	rounds   int
	methods  []string
	python   string
	script   string
	redisCLI string
	out      string
	poll     time.Duration
}

func runDelete(args []string) error {
	var d deleteRun
	fs := flag.NewFlagSet("delete", flag.ContinueOnError)
	d.flags(fs)
	fs.IntVar(&d.rounds, "rounds", 3, "rounds; each runs every method once, the order alternating")
	methods := fs.String("methods", "ours-api,ours-direct,django,redis-cli", "methods, comma-separated")
	fs.StringVar(&d.python, "python", "/usr/bin/python3", "the Python with Debian's Django and django-redis")
	fs.StringVar(&d.script, "django-script", "bench/cachebench/django_delete.py", "the django-redis baseline")
	fs.StringVar(&d.redisCLI, "redis-cli", "redis-cli", "redis-cli")
	fs.StringVar(&d.out, "out", "delete.tsv", "results, one row per run")
	fs.DurationVar(&d.poll, "poll", 5*time.Millisecond, "how often ours-api polls the task")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d.token = os.Getenv("API_TOKEN")
	d.methods = strings.Split(*methods, ",")
	ctx := context.Background()
	rdb := d.client()
	defer rdb.Close()
	f, err := os.Create(d.out)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintln(f, "method\tround\twall_s\tinner_s\tdeleted\tseed_s")
	for round := 1; round <= d.rounds; round++ {
		order := slices.Clone(d.methods)
		if round%2 == 0 {
			slices.Reverse(order)
		}
		for _, m := range order {
			t0 := time.Now()
			if err := seed(ctx, rdb, d.ks, d.n); err != nil {
				return err
			}
			seedS := time.Since(t0).Seconds()
			fmt.Fprintf(os.Stderr, "bench: %s, round %d (seeded %d keys in %.1f s, load %s)\n", m, round, 2*d.n, seedS, loadavg())
			wall, inner, deleted, err := d.method(ctx, rdb, m)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", m, round, err)
			}
			if err := check(ctx, rdb, d.ks, d.n); err != nil {
				return fmt.Errorf("%s, round %d: %w", m, round, err)
			}
			if deleted != int64(d.n) && deleted >= 0 {
				return fmt.Errorf("%s, round %d: deleted %d keys, want %d", m, round, deleted, d.n)
			}
			fmt.Fprintf(os.Stderr, "bench:   %.3f s wall (inner %.3f s), %d deleted; checked: the %d others remain, no match left\n", wall, inner, deleted, d.n)
			fmt.Fprintf(f, "%s\t%d\t%.4f\t%.4f\t%d\t%.2f\n", m, round, wall, inner, deleted, seedS)
		}
	}
	return nil
}

// method runs one deletion and returns its wall time, the time of its
// deletion proper (inner: the worker's duration_ms for ours-api,
// delete_pattern alone for django; wall otherwise) and the count it
// reports (-1: the method reports none).
func (d *deleteRun) method(ctx context.Context, rdb *redis.Client, m string) (wall, inner float64, deleted int64, err error) {
	switch m {
	case "ours-api":
		return d.oursAPI(ctx)
	case "ours-direct":
		t0 := time.Now()
		res, err := cache.Invalidate(ctx, rdb, d.ks, cache.Request{Patterns: []string{"productos:*"}}, cache.Options{})
		w := time.Since(t0).Seconds()
		return w, w, res.Deleted, err
	case "django":
		cmd := exec.CommandContext(ctx, d.python, d.script)
		cmd.Env = append(os.Environ(), "CACHE_URL="+fmt.Sprintf("redis://%s/%d", d.redisAddr, d.db),
			"KEY_PREFIX="+d.ks.Prefix, "CACHE_VERSION="+strconv.Itoa(d.ks.Version))
		t0 := time.Now()
		out, err := cmd.Output()
		w := time.Since(t0).Seconds()
		if err != nil {
			return 0, 0, 0, fmt.Errorf("django-redis: %w: %s", err, exitText(err))
		}
		var n int64
		var in float64
		if _, err := fmt.Sscan(string(out), &n, &in); err != nil {
			return 0, 0, 0, fmt.Errorf("django-redis printed %q: %w", out, err)
		}
		return w, in, n, nil
	case "redis-cli":
		host, port, _ := strings.Cut(d.redisAddr, ":")
		pattern, err := d.ks.Pattern("productos:*")
		if err != nil {
			return 0, 0, 0, err
		}
		// The pipe as an operator types it; pattern and address reach
		// the shell through its environment.
		cmd := exec.CommandContext(ctx, "sh", "-c",
			`"$CLI" -h "$H" -p "$P" -n "$DB" --scan --pattern "$PAT" | xargs "$CLI" -h "$H" -p "$P" -n "$DB" unlink >/dev/null`)
		cmd.Env = append(os.Environ(), "CLI="+d.redisCLI, "H="+host, "P="+port, "DB="+strconv.Itoa(d.db), "PAT="+pattern)
		cmd.Stderr = os.Stderr
		t0 := time.Now()
		err = cmd.Run()
		w := time.Since(t0).Seconds()
		return w, w, -1, err
	}
	return 0, 0, 0, fmt.Errorf("unknown method %q", m)
}

// apiAnswer is the part of the API's answers the benchmark reads.
type apiAnswer struct {
	TaskID string `json:"task_id"`
	State  string `json:"state"`
	Error  string `json:"error"`
	Result *struct {
		Deleted    int64   `json:"deleted"`
		DurationMS float64 `json:"duration_ms"`
	} `json:"result"`
}

var httpClient = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 0, IdleConnTimeout: time.Minute},
}

// call sends a request to the API and decodes its answer.
func call(ctx context.Context, method, url, token string, body []byte) (int, apiAnswer, error) {
	var ans apiAnswer
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, ans, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, ans, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, ans, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, ans, fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, bytes.TrimSpace(b))
	}
	return resp.StatusCode, ans, json.Unmarshal(b, &ans)
}

// oursAPI posts the pattern and polls the task until it completed.
func (d *deleteRun) oursAPI(ctx context.Context) (wall, inner float64, deleted int64, err error) {
	t0 := time.Now()
	_, ans, err := call(ctx, http.MethodPost, d.web+"/api/v1/cache/invalidate", d.token, []byte(`{"patterns": ["productos:*"]}`))
	if err != nil {
		return 0, 0, 0, err
	}
	for ans.State != "completed" {
		if ans.State == "archived" {
			return 0, 0, 0, fmt.Errorf("task %s failed: %s", ans.TaskID, ans.Error)
		}
		time.Sleep(d.poll)
		if _, ans, err = call(ctx, http.MethodGet, d.web+"/api/v1/tasks/"+ans.TaskID, d.token, nil); err != nil {
			return 0, 0, 0, err
		}
	}
	wall = time.Since(t0).Seconds()
	if ans.Result == nil {
		return 0, 0, 0, errors.New("completed task without a result")
	}
	return wall, ans.Result.DurationMS / 1000, ans.Result.Deleted, nil
}

func exitText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// ---------------------------------------------------------------- latency

func runLatency(args []string) error {
	var c common
	fs := flag.NewFlagSet("latency", flag.ContinueOnError)
	c.flags(fs)
	rate := fs.Int("rate", 200, "requests per second")
	duration := fs.Duration("duration", 30*time.Second, "length of the measured load")
	warmup := fs.Duration("warmup", 2*time.Second, "load before the measured part, not counted")
	out := fs.String("out", "latency.tsv", "one row per request")
	statsOut := fs.String("stats", "commandstats.tsv", "Redis commands run during the measured load")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.token = os.Getenv("API_TOKEN")
	ctx := context.Background()
	rdb := c.client()
	defer rdb.Close()
	warm := int(warmup.Seconds() * float64(*rate))
	total := warm + int(duration.Seconds()*float64(*rate))
	if total > c.n {
		return fmt.Errorf("%d requests need %d keys; raise -n", total, total)
	}
	if err := seed(ctx, rdb, c.ks, c.n); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: latency: seeded %d keys; %d requests at %d/s (%d warm-up), load %s\n", 2*c.n, total, *rate, warm, loadavg())

	type sample struct {
		lat     time.Duration
		code    int
		deleted int64
		present int64 // EXISTS of the key after the 200; -1 not checked
		err     string
	}
	samples := make([]sample, total)
	var before map[string][2]int64
	var err error
	measureAt := time.Now()
	interval := time.Second / time.Duration(*rate)
	var wg sync.WaitGroup
	start := time.Now().Add(100 * time.Millisecond)
	for i := range total {
		at := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(at))
		if i == warm {
			if before, err = commandStats(ctx, rdb); err != nil {
				return err
			}
			measureAt = time.Now()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := sample{present: -1}
			body := fmt.Appendf(nil, `{"keys": ["productos:%d"], "wait": true}`, i)
			code, ans, err := call(ctx, http.MethodPost, c.web+"/api/v1/cache/invalidate", c.token, body)
			s.lat, s.code = time.Since(at), code
			if err != nil {
				s.err = err.Error()
			}
			if ans.Result != nil {
				s.deleted = ans.Result.Deleted
			}
			if code == http.StatusOK && i%10 == 0 {
				s.present, _ = rdb.Exists(ctx, c.ks.Key("productos:"+strconv.Itoa(i))).Result()
			}
			samples[i] = s
		}()
	}
	wg.Wait()
	after, err := commandStats(ctx, rdb)
	if err != nil {
		return err
	}
	if err := writeStats(*statsOut, before, after, time.Since(measureAt)); err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintln(f, "i\twarmup\tlatency_ms\tcode\tdeleted\tpresent_after\terror")
	for i, s := range samples {
		fmt.Fprintf(f, "%d\t%t\t%.3f\t%d\t%d\t%d\t%s\n", i, i < warm, float64(s.lat.Microseconds())/1000, s.code, s.deleted, s.present, s.err)
	}
	return nil
}

// commandStats reads Redis's INFO commandstats: calls and microseconds of
// each command since start-up.
func commandStats(ctx context.Context, rdb *redis.Client) (map[string][2]int64, error) {
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, fmt.Errorf("info commandstats: %w", err)
	}
	out := map[string][2]int64{}
	for line := range strings.Lines(info) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		name, found := strings.CutPrefix(name, "cmdstat_")
		if !ok || !found {
			continue
		}
		var v [2]int64
		for field := range strings.SplitSeq(rest, ",") {
			k, val, _ := strings.Cut(field, "=")
			switch k {
			case "calls":
				v[0], _ = strconv.ParseInt(val, 10, 64)
			case "usec":
				v[1], _ = strconv.ParseInt(val, 10, 64)
			}
		}
		out[name] = v
	}
	return out, nil
}

// writeStats writes the commands run between two readings, most called
// first: calls, calls per second, and Redis's time in them.
func writeStats(path string, before, after map[string][2]int64, d time.Duration) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	type row struct {
		name        string
		calls, usec int64
	}
	var rows []row
	for name, a := range after {
		b := before[name]
		if a[0] > b[0] {
			rows = append(rows, row{name, a[0] - b[0], a[1] - b[1]})
		}
	}
	slices.SortFunc(rows, func(x, y row) int { return int(y.calls - x.calls) })
	fmt.Fprintf(f, "command\tcalls\tcalls_per_s\tredis_ms\n")
	for _, r := range rows {
		fmt.Fprintf(f, "%s\t%d\t%.0f\t%.0f\n", r.name, r.calls, float64(r.calls)/d.Seconds(), float64(r.usec)/1000)
	}
	return f.Close()
}
