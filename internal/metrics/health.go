package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cantina-pos/cantina-ops/internal/health"
)

var healthCheckDesc = prometheus.NewDesc("cantina_health_check_status",
	"Status of a health check in the last round: 0 pass, 1 warn, 2 fail.", []string{"check"}, nil)

// healthCollector reports the last health round; it runs no check itself.
type healthCollector struct {
	last func() (health.Report, bool)
}

func (c *healthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- healthCheckDesc }

func (c *healthCollector) Collect(ch chan<- prometheus.Metric) {
	rep, ok := c.last()
	if !ok {
		return
	}
	for name, r := range rep.Checks {
		ch <- prometheus.MustNewConstMetric(healthCheckDesc, prometheus.GaugeValue, float64(r.Status.Severity()), name)
	}
}
