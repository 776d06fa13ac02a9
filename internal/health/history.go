package health

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// HistoryKeyPrefix prefixes the Redis list that keeps a database's last
// rounds, newest first.
const HistoryKeyPrefix = "cantina:health:rounds:"

// HistoryKeep is how many rounds History keeps: two days of hourly rounds.
const HistoryKeep = 48

// historyTTL forgets the rounds of a database whose checks stopped running
// a week ago.
const historyTTL = 7 * 24 * time.Hour

// History keeps the reports of the last rounds of the health:check task in
// the queue Redis, for the console: a list capped at HistoryKeep entries,
// which expires when no round has been added for a week.
type History struct {
	Redis redis.UniversalClient
	// Database names the POS database the rounds are about.
	Database string
}

func (h *History) key() string { return HistoryKeyPrefix + h.Database }

// Add records rep as the newest round and drops the rounds beyond
// HistoryKeep, in one transaction.
func (h *History) Add(ctx context.Context, rep Report) error {
	b, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("encode health round: %w", err)
	}
	_, err = h.Redis.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, h.key(), b)
		p.LTrim(ctx, h.key(), 0, HistoryKeep-1)
		p.Expire(ctx, h.key(), historyTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store health round: %w", err)
	}
	return nil
}

// LastRounds returns the last n rounds, newest first (fewer when fewer
// were kept). A round that does not decode (written by another version)
// is skipped.
func (h *History) LastRounds(ctx context.Context, n int) ([]Report, error) {
	if n <= 0 {
		return nil, nil
	}
	raw, err := h.Redis.LRange(ctx, h.key(), 0, int64(n)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("read health rounds: %w", err)
	}
	out := make([]Report, 0, len(raw))
	for _, s := range raw {
		var rep Report
		if json.Unmarshal([]byte(s), &rep) == nil {
			out = append(out, rep)
		}
	}
	return out, nil
}
