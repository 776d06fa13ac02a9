package health

import (
	"encoding/json"
	"math"
	"net/http"
	"testing"
	"time"
)

// TestDocumentShape decodes the encoded document generically: checks keyed
// by name, each an array of one observation; output only when not pass.
func TestDocumentShape(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	rep := Report{Status: Fail, Time: at, Checks: map[string]Result{
		"database:responseTime": {Status: Pass, ObservedValue: 1.5, ObservedUnit: "ms", Threshold: "warn ≥ 100 ms", Output: "fast", Time: at},
		"cache:evictions":       {Status: Warn, ObservedValue: 0, ObservedUnit: "keys", Output: "evicting", Time: at},
		"disk:utilization":      {Status: Fail, ObservedValue: 97.0, ObservedUnit: "%", Output: "disk full: free space", Time: at},
		"cpu:utilization":       {Status: Pass, ObservedValue: math.NaN(), ObservedUnit: "%", Time: at},
	}}
	b, err := EncodeDocument(rep, "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	if doc["status"] != "fail" || doc["version"] != "1.2.3" {
		t.Errorf("status %v, version %v", doc["status"], doc["version"])
	}
	checks, ok := doc["checks"].(map[string]any)
	if !ok || len(checks) != len(rep.Checks) {
		t.Fatalf("checks = %#v", doc["checks"])
	}
	tests := []struct {
		key      string
		status   string
		value    any // nil: absent
		unit     string
		output   any // nil: absent
		hasLimit bool
	}{
		{"database:responseTime", "pass", 1.5, "ms", nil, true},
		{"cache:evictions", "warn", 0.0, "keys", "evicting", false},
		{"disk:utilization", "fail", 97.0, "%", "disk full: free space", false},
		{"cpu:utilization", "pass", nil, "%", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			arr, ok := checks[tt.key].([]any)
			if !ok || len(arr) != 1 {
				t.Fatalf("%s is %#v, want an array of one object", tt.key, checks[tt.key])
			}
			o := arr[0].(map[string]any)
			if o["status"] != tt.status || o["observedUnit"] != tt.unit || o["time"] != "2026-11-27T10:00:00Z" {
				t.Errorf("observation %v", o)
			}
			if v, has := o["observedValue"]; v != tt.value || has != (tt.value != nil) {
				t.Errorf("observedValue %v (present %v), want %v", v, has, tt.value)
			}
			if out, has := o["output"]; out != tt.output || has != (tt.output != nil) {
				t.Errorf("output %v (present %v), want %v", out, has, tt.output)
			}
			if _, has := o["threshold"]; has != tt.hasLimit {
				t.Errorf("threshold present %v, want %v", has, tt.hasLimit)
			}
		})
	}
}

func TestHTTPStatus(t *testing.T) {
	for s, want := range map[Status]int{Pass: http.StatusOK, Warn: http.StatusOK, Fail: http.StatusServiceUnavailable} {
		if got := HTTPStatus(s); got != want {
			t.Errorf("HTTPStatus(%s) = %d, want %d", s, got, want)
		}
	}
}
