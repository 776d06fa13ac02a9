package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/cache"
	"github.com/cantina-pos/cantina-ops/internal/cache/cacheclient"
)

// cliWaitLimit is how long `cache invalidate --wait` waits for its task.
const cliWaitLimit = time.Minute

// repeated is a flag that may be given many times.
type repeated []string

func (r *repeated) String() string { return strings.Join(*r, ",") }

func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// runCacheInvalidate queues a cache:invalidate task through the same
// client as the API (validation, coalescing) and, with --wait, prints its
// result.
func runCacheInvalidate(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "cache invalidate", cacheUsage["invalidate"])
	var r cache.Request
	fs.Var((*repeated)(&r.Keys), "key", "a logical cache key (Django's, before KEY_PREFIX and VERSION); repeatable")
	fs.Var((*repeated)(&r.Patterns), "pattern", "a glob pattern of logical keys, e.g. 'productos:*'; repeatable")
	fs.Var((*repeated)(&r.Tags), "tag", "a tag registered by the Django module's tag(); repeatable")
	fs.BoolVar(&r.Raw, "raw", false, "take keys and patterns verbatim, as real Redis keys")
	wait := fs.Bool("wait", false, "wait (up to "+cliWaitLimit.String()+") for the task and print what it deleted")
	asJSON := fs.Bool("json", false, "print the task's state and result as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d, err := openDeps(a)
	if err != nil {
		return err
	}
	defer d.close()
	c := cacheclient.New(d.cfg, d.rdb)
	id, coalesced, err := c.Enqueue(ctx, r)
	var re *cache.RequestError
	if errors.As(err, &re) {
		return fmt.Errorf("%w: %s", errUsage, strings.Join(re.Problems, "\n  "))
	}
	if err != nil {
		return fmt.Errorf("%w (is the queue Redis, REDIS_URL, up?)", err)
	}
	st := cacheclient.Status{TaskID: id, State: "pending"}
	if *wait {
		if st, err = c.Wait(ctx, id, cliWaitLimit); err != nil {
			return err
		}
	}
	if *asJSON {
		return writeJSON(a.stdout, struct {
			cacheclient.Status
			Coalesced bool `json:"coalesced"`
		}{st, coalesced})
	}
	verb := "queued"
	if coalesced {
		verb = "joined the pending"
	}
	fmt.Fprintf(a.stdout, "%s cache invalidation task %s\n", verb, id)
	if !*wait {
		return nil
	}
	var res cache.Result
	switch {
	case st.State == "completed" && json.Unmarshal(st.Result, &res) == nil:
		for _, s := range res.Selectors {
			fmt.Fprintf(a.stdout, "%-7s %s: %d deleted\n", s.Kind, s.Selector, s.Deleted)
		}
		fmt.Fprintf(a.stdout, "%d deleted in %.1f ms\n", res.Deleted, res.DurationMS)
		return nil
	case st.State == "archived":
		return fmt.Errorf("cache invalidation task %s failed: %s (see the console, %s/monitoring/)", id, st.Error, d.cfg.PublicURL)
	}
	fmt.Fprintf(a.stdout, "still %s after %s: is a worker running? follow it in the console (%s/monitoring/)\n", st.State, cliWaitLimit, d.cfg.PublicURL)
	return errSilent
}
