package health

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cantina-pos/cantina-ops/tasks"
	"github.com/hibiken/asynq"
)

// queuesLatency is the longest wait of the oldest pending task over our
// queues, in seconds, against HEALTH_QUEUE_LATENCY_WARN.
func (d Deps) queuesLatency(ctx context.Context) Result {
	if d.Inspector == nil {
		return notConfigured("the queue inspector")
	}
	names := tasks.AllQueues()
	infos, err := d.queueInfos(ctx, names...)
	if err != nil {
		return d.failed(KeyQueuesLatency, "cannot read the queues", err)
	}
	var worst time.Duration
	worstQueue := ""
	for _, q := range names {
		if qi := infos[q]; qi != nil && qi.Latency > worst {
			worst, worstQueue = qi.Latency, q
		}
	}
	warn := d.Thresholds.QueueLatencyWarn
	res := Result{Status: latencyStatus(worst, warn), ObservedValue: round1(worst.Seconds()), ObservedUnit: "s",
		Threshold: "warn > " + human(warn), Output: "no task is waiting"}
	if worstQueue != "" {
		res.Output = fmt.Sprintf("the oldest pending task (queue %s) has waited %s", worstQueue, worst.Round(time.Second))
	}
	if res.Status != Pass {
		res.Output += ": are the workers running, and is the queue paused? See the console"
	}
	return res
}

// queueInfos reads the named queues that exist; a queue never used has
// no entry (asynq's GetQueueInfo reports it with an error of its internal
// package, which cannot be told apart from others).
func (d Deps) queueInfos(ctx context.Context, names ...string) (map[string]*asynq.QueueInfo, error) {
	existing, err := within(ctx, d.Inspector.Queues)
	if err != nil {
		return nil, err
	}
	out := map[string]*asynq.QueueInfo{}
	for _, q := range names {
		if !slices.Contains(existing, q) {
			continue
		}
		qi, err := within(ctx, func() (*asynq.QueueInfo, error) { return d.Inspector.GetQueueInfo(q) })
		if err != nil {
			return nil, fmt.Errorf("read queue %s: %w", q, err)
		}
		out[q] = qi
	}
	return out, nil
}

// queuesWorkers counts the live asynq worker servers (their heartbeats);
// none fails.
func (d Deps) queuesWorkers(ctx context.Context) Result {
	if d.Inspector == nil {
		return notConfigured("the queue inspector")
	}
	servers, err := within(ctx, d.Inspector.Servers)
	if err != nil {
		return d.failed(KeyQueuesWorkers, "cannot list the workers", err)
	}
	busy := 0
	for _, s := range servers {
		busy += len(s.ActiveWorkers)
	}
	res := Result{Status: Pass, ObservedValue: len(servers), ObservedUnit: "servers", Threshold: "fail when none",
		Output: fmt.Sprintf("%d worker processes alive, %d tasks running", len(servers), busy)}
	if len(servers) == 0 {
		res.Status, res.Output = Fail, "no worker process is running: nothing runs the tasks (backups included); start `cantina-ops worker`"
	}
	return res
}

// schedulerLeader checks that a scheduler holds the leader lease: without
// one no periodic task (backup, cleanup, health) is enqueued. The
// observed value is the lease's remaining lifetime in seconds.
func (d Deps) schedulerLeader(ctx context.Context) Result {
	if d.Queue == nil {
		return notConfigured("the queue Redis")
	}
	ttl, err := d.Queue.PTTL(ctx, tasks.SchedulerLeaseKey).Result()
	if err != nil {
		return d.failed(KeySchedulerLeader, "cannot read the scheduler's lease", err)
	}
	res := Result{Status: Pass, Threshold: "fail when no scheduler holds the lease", ObservedUnit: "s"}
	switch {
	case ttl == -2: // go-redis: -2 no such key, -1 no expiry
		res.Status, res.Output, res.ObservedValue = Fail,
			"no scheduler holds the lease: no periodic task (backups included) is enqueued; start `cantina-ops scheduler`", 0
	case ttl < 0: // no expiry
		res.Status, res.Output = Warn, "the scheduler's lease never expires: if its holder dies, no other scheduler takes over; delete the key "+tasks.SchedulerLeaseKey
	default:
		res.ObservedValue, res.Output = round1(ttl.Seconds()), "a scheduler holds the lease"
	}
	return res
}
