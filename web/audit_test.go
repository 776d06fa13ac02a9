package web

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/cantina-pos/cantina-ops/web/console"
)

// TestAPICallsAudited: every API call with a valid token is in the audit
// stream with the token's name; calls without one are not.
func TestAPICallsAudited(t *testing.T) {
	ts, rdb := apiServer(t, "pos:"+testToken)
	if r := post(t, ts, `{"keys":["product:1"]}`, nil); r.code != http.StatusAccepted {
		t.Fatalf("invalidate: %d %s", r.code, r.body)
	}
	post(t, ts, `{"keys":["product:1"]}`, func(r *http.Request) { r.Header.Set("Authorization", "Bearer wrong-token-0123456789") })
	msgs, err := rdb.XRange(t.Context(), console.AuditStream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("%d audit events, want the one valid call: %v", len(msgs), msgs)
	}
	var e console.Event
	if err := json.Unmarshal([]byte(msgs[0].Values["event"].(string)), &e); err != nil {
		t.Fatal(err)
	}
	if e.Action != console.ActionAPICall || e.Token != "pos" || e.Method != "POST" || e.Path != invalidatePath || e.IP != "127.0.0.1" {
		t.Errorf("event %+v", e)
	}
}
