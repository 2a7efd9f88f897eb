package redislive

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pizzapi/pizzapi/server/live"
)

// list reads the records of an index set (see listScript); each record comes as its id and the
// values of fields.
func (s base) list(ctx context.Context, set, recordPrefix, ownerField, owner string, ttl int64, fields ...string) ([][]any, error) {
	args := []any{recordPrefix, ownerField, owner, ttl}
	for _, f := range fields {
		args = append(args, f)
	}
	v, err := listScript.Run(ctx, s.rdb, []string{set}, args...).Slice()
	if err != nil {
		return nil, err
	}
	stride := 1 + len(fields)
	if len(v)%stride != 0 {
		return nil, fmt.Errorf("redislive: unexpected list reply of %d values", len(v))
	}
	out := make([][]any, 0, len(v)/stride)
	for i := 0; i < len(v); i += stride {
		out = append(out, v[i:i+stride])
	}
	return out, nil
}

// decodeSorted decodes the records list returned (decode gets the values of their fields) and
// sorts them by the time order gives, then by id.
func decodeSorted[T any](recs [][]any, decode func(fields []any) (T, error), order func(T) (time.Time, string)) ([]T, error) {
	out := make([]T, 0, len(recs))
	for _, rec := range recs {
		v, err := decode(rec[1:])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b T) int {
		ta, ida := order(a)
		tb, idb := order(b)
		if c := ta.Compare(tb); c != 0 {
			return c
		}
		return strings.Compare(ida, idb)
	})
	return out, nil
}

// touch runs touchScript for each id in one pipeline and returns the ids whose record is gone.
func (s base) touch(ctx context.Context, ids []string, keys func(string) []string, ttl int64, ownerField, setPrefix string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	for attempt := 0; ; attempt++ {
		cmds := make([]*redis.Cmd, len(ids))
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				cmds[i] = touchScript.EvalSha(ctx, p, keys(id), ttl, ownerField, setPrefix)
			}
			return nil
		})
		if err != nil && attempt == 0 && isNoScript(err) {
			if err := touchScript.Load(ctx, s.rdb).Err(); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		var gone []string
		for i, c := range cmds {
			if n, _ := c.Int64(); n == 0 {
				gone = append(gone, ids[i])
			}
		}
		return gone, nil
	}
}

func isNoScript(err error) bool {
	return errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT")
}

func touchedOne(gone []string, err error) error {
	if err != nil {
		return err
	}
	if len(gone) > 0 {
		return live.ErrNotFound
	}
	return nil
}
