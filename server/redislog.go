package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/redis/go-redis/v9"
)

// redisLogOnce routes the Redis client's own messages (it has one logger per process) to the
// structured log of the first cluster node started, at debug level: while Redis is down it
// repeats them for every command, and /health and the node's own warnings already say so.
var redisLogOnce sync.Once

// redisLogger adapts slog to the Redis client's logger interface.
type redisLogger struct{ log *slog.Logger }

// Printf implements the Redis client's logger.
func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}

func routeRedisLog(log *slog.Logger) {
	redisLogOnce.Do(func() { redis.SetLogger(redisLogger{log}) })
}
