-- wrk script of bench/gateway.sh: only done(), so that wrk's request loop
-- stays in C (a response() callback would run Lua per request). Prints one
-- tab-separated line: requests, seconds, p50, p90, p99, p99.9, max, mean
-- (µs), then wrk's error counts: connect, read, write, status (answers
-- ≥ 400: 429, 5xx), timeout.
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("WRK\t%d\t%.3f\t%d\t%d\t%d\t%d\t%d\t%.1f\t%d\t%d\t%d\t%d\t%d\n",
		summary.requests, summary.duration / 1e6,
		latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
		latency.max, latency.mean,
		e.connect, e.read, e.write, e.status, e.timeout))
end
