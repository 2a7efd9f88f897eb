package bus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pizzapi/pizzapi/server/redisgate"
)

// Redis carries messages between relay nodes through Redis pub/sub. Each node subscribes to the
// channel of every topic that has a member on it, delivers its own messages to local members
// directly and publishes them for the other nodes. Messages of one publisher reach every node in
// publish order (one connection publishes, one subscription connection receives).
//
// Topic member counts across the cluster (viewer counts) come from a presence hash per topic,
// pizzapi:presence:<topic>, holding each node's local count; a node keeps pizzapi:node:<id>
// alive while it runs, so the counts of a node that died stop counting within NodeTTL. Channels
// are pizzapi:bus:<topic>.
type Redis struct {
	*Local
	rdb    redis.UniversalClient
	node   string
	info   string
	prefix string
	log    *slog.Logger
	pubsub *redis.PubSub

	mu     sync.Mutex
	counts map[string]int // local members per topic
	stop   context.CancelFunc
	done   chan struct{}
}

// NodeTTL is how long a node that stopped refreshing still counts in presence.
const NodeTTL = 15 * time.Second

const refreshEvery = NodeTTL / 3

// NewRedis connects the bus of node to Redis; it starts receiving at once. info is what the
// node's liveness key holds (see Nodes).
func NewRedis(rdb redis.UniversalClient, node, info, prefix string, log *slog.Logger) *Redis {
	if prefix == "" {
		prefix = "pizzapi:"
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Redis{
		Local: NewLocal(), rdb: rdb, node: node, info: info, prefix: prefix, log: log,
		pubsub: rdb.Subscribe(ctx), counts: map[string]int{}, stop: cancel, done: make(chan struct{}),
	}
	go b.receive(ctx)
	go b.keepAlive(ctx)
	return b
}

func (b *Redis) channel(topic string) string  { return b.prefix + "bus:" + topic }
func (b *Redis) presence(topic string) string { return b.prefix + "presence:" + topic }
func (b *Redis) nodeKey(node string) string   { return b.prefix + "node:" + node }

// Join implements Bus: the first local member of a topic subscribes this node to it.
func (b *Redis) Join(topic string, m Member) {
	before := len(b.Local.Members(topic))
	b.Local.Join(topic, m)
	after := len(b.Local.Members(topic))
	if after == before {
		return
	}
	b.mu.Lock()
	b.counts[topic] = after
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if before == 0 {
		if err := b.pubsub.Subscribe(ctx, b.channel(topic)); err != nil {
			b.log.Log(context.Background(), warnUnlessDown(err), "bus: subscribing", "topic", topic, "error", err)
		}
	}
	b.writePresence(ctx, topic, after)
}

// Leave implements Bus: the last local member of a topic unsubscribes this node.
func (b *Redis) Leave(topic string, m Member) {
	before := len(b.Local.Members(topic))
	b.Local.Leave(topic, m)
	after := len(b.Local.Members(topic))
	if after == before {
		return
	}
	b.mu.Lock()
	if after == 0 {
		delete(b.counts, topic)
	} else {
		b.counts[topic] = after
	}
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if after == 0 {
		if err := b.pubsub.Unsubscribe(ctx, b.channel(topic)); err != nil {
			b.log.Log(context.Background(), warnUnlessDown(err), "bus: unsubscribing", "topic", topic, "error", err)
		}
	}
	b.writePresence(ctx, topic, after)
}

// writePresence records this node's member count of a topic.
func (b *Redis) writePresence(ctx context.Context, topic string, n int) {
	var err error
	if n == 0 {
		err = b.rdb.HDel(ctx, b.presence(topic), b.node).Err()
	} else {
		_, err = b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, b.presence(topic), b.node, n)
			p.Expire(ctx, b.presence(topic), 24*time.Hour)
			return nil
		})
	}
	if err != nil {
		b.log.Log(context.Background(), warnUnlessDown(err), "bus: recording presence", "topic", topic, "error", err)
	}
}

// Publish implements Bus: local members get the message now, other nodes through Redis. It
// returns the local members reached plus the other nodes subscribed to the topic.
func (b *Redis) Publish(ctx context.Context, topic string, m *Message) (int, error) {
	local, _ := b.Local.Publish(ctx, topic, m)
	n, err := b.rdb.Publish(ctx, b.channel(topic), encodeEnvelope(b.node, m)).Result()
	if err != nil {
		return local, fmt.Errorf("bus: publishing to %s: %w", topic, err)
	}
	if local > 0 {
		n-- // this node's own subscription
	}
	return local + int(n), nil
}

// Count implements Bus: the members of a topic on every live node.
func (b *Redis) Count(ctx context.Context, topic string) (int, error) {
	counts, err := b.rdb.HGetAll(ctx, b.presence(topic)).Result()
	if err != nil {
		return len(b.Local.Members(topic)), fmt.Errorf("bus: counting %s: %w", topic, err)
	}
	total := len(b.Local.Members(topic))
	var others []string
	for node := range counts {
		if node != b.node {
			others = append(others, node)
		}
	}
	if len(others) == 0 {
		return total, nil
	}
	keys := make([]string, len(others))
	for i, node := range others {
		keys[i] = b.nodeKey(node)
	}
	alive, err := b.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return total, fmt.Errorf("bus: counting %s: %w", topic, err)
	}
	for i, node := range others {
		if alive[i] == nil {
			b.rdb.HDel(ctx, b.presence(topic), node)
			continue
		}
		var n int
		fmt.Sscan(counts[node], &n)
		total += n
	}
	return total, nil
}

// Alive implements Liveness.
func (b *Redis) Alive(ctx context.Context, nodes []string) (map[string]bool, error) {
	out := make(map[string]bool, len(nodes))
	if len(nodes) == 0 {
		return out, nil
	}
	keys := make([]string, len(nodes))
	for i, n := range nodes {
		keys[i] = b.nodeKey(n)
	}
	vals, err := b.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("bus: checking nodes: %w", err)
	}
	for i, n := range nodes {
		out[n] = n == b.node || vals[i] != nil
	}
	return out, nil
}

// receive delivers the messages other nodes publish to the local members.
func (b *Redis) receive(ctx context.Context) {
	defer close(b.done)
	ch := b.pubsub.Channel(redis.WithChannelSize(10000))
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-ch:
			if !ok {
				return
			}
			node, m, err := decodeEnvelope([]byte(msg.Payload))
			if err != nil {
				b.log.Warn("bus: bad message", "channel", msg.Channel, "error", err)
				continue
			}
			if node == b.node {
				continue
			}
			topic := strings.TrimPrefix(msg.Channel, b.prefix+"bus:")
			for _, mem := range b.Local.Members(topic) {
				mem.Deliver(m)
			}
		}
	}
}

// keepAlive keeps this node counted: its liveness key and its presence counts (rewritten, so that
// they come back after Redis lost them).
func (b *Redis) keepAlive(ctx context.Context) {
	t := time.NewTicker(refreshEvery)
	defer t.Stop()
	for {
		b.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (b *Redis) refresh(ctx context.Context) {
	b.mu.Lock()
	counts := make(map[string]int, len(b.counts))
	for k, v := range b.counts {
		counts[k] = v
	}
	b.mu.Unlock()
	_, err := b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, b.nodeKey(b.node), b.info, NodeTTL)
		for topic, n := range counts {
			p.HSet(ctx, b.presence(topic), b.node, n)
			p.Expire(ctx, b.presence(topic), 24*time.Hour)
		}
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		b.log.Log(context.Background(), warnUnlessDown(err), "bus: refreshing presence", "error", err)
	}
}

// Close implements Bus: it stops receiving and removes this node's presence.
func (b *Redis) Close() error {
	b.stop()
	err := b.pubsub.Close()
	<-b.done
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b.mu.Lock()
	topics := make([]string, 0, len(b.counts))
	for t := range b.counts {
		topics = append(topics, t)
	}
	b.mu.Unlock()
	_, _ = b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, b.nodeKey(b.node))
		for _, t := range topics {
			p.HDel(ctx, b.presence(t), b.node)
		}
		return nil
	})
	return err
}

// The envelope of a message on Redis: a version byte, then the node id, the sending connection,
// the namespace, the event and the control instruction as length-prefixed strings, the sequence
// number, and the payload as the rest.
const envelopeVersion = 1

func encodeEnvelope(node string, m *Message) []byte {
	b := make([]byte, 0, len(m.Payload)+len(node)+len(m.From)+len(m.Nsp)+len(m.Event)+len(m.Control)+24)
	b = append(b, envelopeVersion)
	for _, s := range []string{node, m.From, m.Nsp, m.Event, m.Control} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, m.Seq)
	return append(b, m.Payload...)
}

func decodeEnvelope(b []byte) (string, *Message, error) {
	if len(b) == 0 || b[0] != envelopeVersion {
		return "", nil, errors.New("unknown envelope version")
	}
	b = b[1:]
	var fields [5]string
	for i := range fields {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return "", nil, errors.New("truncated envelope")
		}
		fields[i] = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	seq, k := binary.Varint(b)
	if k <= 0 {
		return "", nil, errors.New("truncated envelope")
	}
	m := &Message{From: fields[1], Nsp: fields[2], Event: fields[3], Control: fields[4], Seq: seq, Payload: b[k:]}
	m.encode()
	return fields[0], m, nil
}

// Nodes returns the running nodes that share rdb under prefix, with the info each registered.
func Nodes(ctx context.Context, rdb redis.UniversalClient, prefix string) (map[string]string, error) {
	if prefix == "" {
		prefix = "pizzapi:"
	}
	var keys []string
	iter := rdb.Scan(ctx, 0, prefix+"node:*", 100).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("bus: listing nodes: %w", err)
	}
	out := map[string]string{}
	if len(keys) == 0 {
		return out, nil
	}
	vals, err := rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("bus: listing nodes: %w", err)
	}
	for i, k := range keys {
		if v, ok := vals[i].(string); ok {
			out[strings.TrimPrefix(k, prefix+"node:")] = v
		}
	}
	return out, nil
}

// warnUnlessDown is the level of a Redis error: warn, or debug when Redis is unreachable (the
// node reports that once, see server/redisgate).
func warnUnlessDown(err error) slog.Level {
	if redisgate.IsConnErr(err) {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}
