// Command gatewaybench is the stand-in POS and the open-loop client of the
// gateway benchmark of issue 11 (bench/gateway.sh):
//
//	gatewaybench serve  an HTTP server that answers every request with the
//	                    same page a POS might send, 1 KiB of HTML and a
//	                    Set-Cookie, doing no other work, so that what the
//	                    benchmark measures between "direct" and "through
//	                    the gateway" is the gateway alone;
//	gatewaybench load   GETs a URL at a fixed rate (open loop: a request
//	                    is sent at its scheduled time whether or not the
//	                    earlier ones were answered) and prints the latency
//	                    percentiles, measured from each request's
//	                    scheduled time to the end of its body, in the
//	                    format of report.lua's line (wrk is closed loop).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// page is the body of every answer: a till's page, 1 KiB.
var page = func() []byte {
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html lang=\"es\"><head><meta charset=\"utf-8\"><title>Cantina · Punto de venta</title></head>\n<body><h1>Ventas del día</h1><table>\n")
	for i := 1; b.Len() < 960; i++ {
		fmt.Fprintf(&b, "<tr><td>Producto %02d</td><td>%d,50 €</td></tr>\n", i, i)
	}
	b.WriteString("</table></body></html>\n")
	return []byte(b.String())
}()

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gatewaybench serve|load [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "load":
		err = load(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (serve or load)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gatewaybench:", err)
		os.Exit(1)
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8000", "address to listen on")
	_ = fs.Parse(args)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	length := strconv.Itoa(len(page))
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			h := w.Header()
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Content-Length", length)
			h.Set("Set-Cookie", "csrftoken=Yk3t8Q2pXw9LmN4vB7cR1sD6fG0hJ5kZ; Path=/; SameSite=Lax")
			_, _ = w.Write(page)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	url := fs.String("url", "", "URL to GET")
	rate := fs.Int("rate", 1000, "requests per second")
	duration := fs.Duration("duration", 15*time.Second, "how long to send")
	cookie := fs.String("cookie", "", "Cookie header to send, none when empty")
	_ = fs.Parse(args)
	if *url == "" || *rate < 1 || *duration <= 0 {
		return errors.New("load needs -url, -rate ≥ 1 and -duration > 0")
	}
	tr := &http.Transport{Proxy: nil, MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, IdleConnTimeout: time.Minute}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	n := int(float64(*rate) * duration.Seconds())
	lat := make([]time.Duration, n)
	var status, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		at := start.Add(time.Duration(i) * time.Second / time.Duration(*rate))
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodGet, *url, nil)
			if err != nil {
				failed.Add(1)
				return
			}
			if *cookie != "" {
				req.Header.Set("Cookie", *cookie)
			}
			resp, err := client.Do(req)
			if err != nil {
				failed.Add(1)
				lat[i] = time.Since(at)
				return
			}
			_, err = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			lat[i] = time.Since(at)
			if err != nil {
				failed.Add(1)
			}
			if resp.StatusCode >= 400 {
				status.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(q float64) int64 {
		k := int(q*float64(n)+0.999999) - 1
		k = max(0, min(k, n-1))
		return lat[k].Microseconds()
	}
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	// The fields of report.lua's line; failed requests count as read errors.
	fmt.Printf("WRK\t%d\t%.3f\t%d\t%d\t%d\t%d\t%d\t%.1f\t0\t%d\t0\t%d\t0\n", n, elapsed.Seconds(),
		pct(0.5), pct(0.9), pct(0.99), pct(0.999), lat[n-1].Microseconds(),
		float64(sum.Microseconds())/float64(n), failed.Load(), status.Load())
	return nil
}
