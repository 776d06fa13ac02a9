package health

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"
)

// MediaType is the content type of the health document.
const MediaType = "application/health+json"

// Document is a report in the shape of draft-inadarei-api-health-check:
// the overall status, the version of the service that answered, and the
// checks keyed "component:measurement", each an array of observations (we
// make one per key).
type Document struct {
	Status  Status                   `json:"status"`
	Version string                   `json:"version,omitempty"`
	Checks  map[string][]Observation `json:"checks"`
}

// Observation is one entry of a check in the document. Output, our hint,
// is there only when the check did not pass. Threshold is our extension:
// what the value was compared with.
type Observation struct {
	Status        Status    `json:"status"`
	ObservedValue any       `json:"observedValue,omitempty"`
	ObservedUnit  string    `json:"observedUnit,omitempty"`
	Threshold     string    `json:"threshold,omitempty"`
	Time          time.Time `json:"time"`
	Output        string    `json:"output,omitempty"`
}

// NewDocument turns a report into the health document of version.
func NewDocument(rep Report, version string) Document {
	doc := Document{Status: rep.Status, Version: version, Checks: make(map[string][]Observation, len(rep.Checks))}
	if doc.Status == "" {
		doc.Status = Pass
	}
	for name, r := range rep.Checks {
		o := Observation{
			Status:        r.Status,
			ObservedValue: finite(r.ObservedValue),
			ObservedUnit:  r.ObservedUnit,
			Threshold:     r.Threshold,
			Time:          r.Time,
		}
		if r.Status != Pass {
			o.Output = r.Output
		}
		doc.Checks[name] = []Observation{o}
	}
	return doc
}

// EncodeDocument is the body of GET /health/ and the output of `health
// --json`: the document of rep, indented, ending in a newline.
func EncodeDocument(rep Report, version string) ([]byte, error) {
	b, err := json.MarshalIndent(NewDocument(rep, version), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode health document: %w", err)
	}
	return append(b, '\n'), nil
}

// HTTPStatus is the status code a report is served with: 200 on pass and
// warn, 503 on fail.
func HTTPStatus(s Status) int {
	if s == Fail {
		return http.StatusServiceUnavailable
	}
	return http.StatusOK
}

// finite drops values JSON cannot carry (NaN and infinities), so that one
// odd reading never breaks the whole document.
func finite(v any) any {
	switch f := v.(type) {
	case float64:
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
	case float32:
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return nil
		}
	}
	return v
}
