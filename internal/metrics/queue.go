package metrics

import (
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// Descriptors of asynq's x/metrics QueueMetricsCollector: same names, help
// strings, labels and types (tasks_enqueued_total is a gauge there too).
var (
	tasksQueuedDesc = prometheus.NewDesc("asynq_tasks_enqueued_total",
		"Number of tasks enqueued; broken down by queue and state.", []string{"queue", "state"}, nil)
	queueSizeDesc = prometheus.NewDesc("asynq_queue_size",
		"Number of tasks in a queue", []string{"queue"}, nil)
	queueLatencyDesc = prometheus.NewDesc("asynq_queue_latency_seconds",
		"Number of seconds the oldest pending task is waiting in pending state to be processed.", []string{"queue"}, nil)
	queueMemUsgDesc = prometheus.NewDesc("asynq_queue_memory_usage_approx_bytes",
		"Number of memory used by a given queue (approximated number by sampling).", []string{"queue"}, nil)
	tasksProcessedTotalDesc = prometheus.NewDesc("asynq_tasks_processed_total",
		"Number of tasks processed (both succeeded and failed); broken down by queue", []string{"queue"}, nil)
	tasksFailedTotalDesc = prometheus.NewDesc("asynq_tasks_failed_total",
		"Number of tasks failed; broken down by queue", []string{"queue"}, nil)
	pausedQueuesDesc = prometheus.NewDesc("asynq_queue_paused_total",
		"Number of queues paused", []string{"queue"}, nil)
)

// queueCollector reads every queue's asynq.QueueInfo on each scrape.
type queueCollector struct {
	insp *asynq.Inspector
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	prometheus.DescribeByCollect(c, ch)
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	infos, err := queueInfos(c.insp)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueSizeDesc, err)
		return
	}
	for _, q := range infos {
		for _, s := range []struct {
			state string
			n     int
		}{
			{"active", q.Active}, {"pending", q.Pending}, {"scheduled", q.Scheduled},
			{"retry", q.Retry}, {"archived", q.Archived}, {"completed", q.Completed},
		} {
			ch <- prometheus.MustNewConstMetric(tasksQueuedDesc, prometheus.GaugeValue, float64(s.n), q.Queue, s.state)
		}
		paused := 0.0
		if q.Paused {
			paused = 1
		}
		ch <- prometheus.MustNewConstMetric(queueSizeDesc, prometheus.GaugeValue, float64(q.Size), q.Queue)
		ch <- prometheus.MustNewConstMetric(queueLatencyDesc, prometheus.GaugeValue, q.Latency.Seconds(), q.Queue)
		ch <- prometheus.MustNewConstMetric(queueMemUsgDesc, prometheus.GaugeValue, float64(q.MemoryUsage), q.Queue)
		ch <- prometheus.MustNewConstMetric(tasksProcessedTotalDesc, prometheus.CounterValue, float64(q.ProcessedTotal), q.Queue)
		ch <- prometheus.MustNewConstMetric(tasksFailedTotalDesc, prometheus.CounterValue, float64(q.FailedTotal), q.Queue)
		ch <- prometheus.MustNewConstMetric(pausedQueuesDesc, prometheus.GaugeValue, paused, q.Queue)
	}
}

func queueInfos(insp *asynq.Inspector) ([]*asynq.QueueInfo, error) {
	names, err := insp.Queues()
	if err != nil {
		return nil, fmt.Errorf("list asynq queues: %w", err)
	}
	out := make([]*asynq.QueueInfo, 0, len(names))
	for _, name := range names {
		q, err := insp.GetQueueInfo(name)
		if err != nil {
			return nil, fmt.Errorf("read asynq queue %s: %w", name, err)
		}
		out = append(out, q)
	}
	return out, nil
}
