package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"govmail/internal/store"
)

// The change feed across nodes.
//
// A transaction's events travel in NOTIFY payloads sent inside the transaction:
// PostgreSQL delivers them only if it commits, and delivers the notifications
// of different transactions in commit order. Each node LISTENs on one
// dedicated connection and hands every transaction's events, its own included,
// to its listeners from that stream, so that all listeners of all nodes see
// one order, the commit order; within a mailbox that is modseq order, which
// IMAP's shared state relies on.
//
// A writer registers its sequence number before COMMIT and, after it, waits
// until the stream brings its notification back (sub-millisecond on a healthy
// connection), so a method still returns after its listeners have its events
// (IMAP's selfWrite mark relies on that). The writer's in-memory events are
// the ones handed out; the payload only tells where they belong in the order.
//
// When the feed's connection is down, or a notification does not come back in
// FeedWait, the writer hands its own events out itself and the stream's copy,
// should it come later, is skipped. Changes other nodes commit while this node
// is not listening are not replayed: PostgreSQL keeps no backlog for a new
// LISTEN. The loss is logged; IMAP sessions on this node then see those
// changes at their next SELECT.

// maxPayload keeps a notification under PostgreSQL's 8000-byte limit.
const maxPayload = 7800

// notice is one NOTIFY payload: a transaction's events or a part of them.
// Parts of one transaction are consecutive in the stream.
type notice struct {
	Node  string            `json:"n"`
	Seq   uint64            `json:"s"`
	Part  int               `json:"p"`
	Parts int               `json:"c"`
	Ev    []json.RawMessage `json:"e"`
}

// wireEvent is a store.Event with short keys.
type wireEvent struct {
	K store.EventKind `json:"k"`
	A int64           `json:"a,omitempty"`
	M int64           `json:"m,omitempty"`
	U uint32          `json:"u,omitempty"`
	F []string        `json:"f,omitempty"`
	Q uint64          `json:"q,omitempty"`
	// X says the flags were left out to fit the payload; receivers read them.
	X bool `json:"x,omitempty"`
}

func encodeNotices(node string, seq uint64, evs []store.Event) []string {
	const budget = maxPayload - 128 // the notice's own fields
	var chunks [][]json.RawMessage
	var cur []json.RawMessage
	size := 0
	for _, ev := range evs {
		w := wireEvent{K: ev.Kind, A: ev.AccountID, M: ev.MailboxID, U: ev.UID, F: ev.Flags, Q: ev.ModSeq}
		b, _ := json.Marshal(w)
		if len(b) > budget {
			w.F, w.X = nil, true
			b, _ = json.Marshal(w)
		}
		if len(cur) > 0 && size+len(b)+1 > budget {
			chunks = append(chunks, cur)
			cur, size = nil, 0
		}
		cur = append(cur, b)
		size += len(b) + 1
	}
	chunks = append(chunks, cur)
	out := make([]string, len(chunks))
	for i, c := range chunks {
		b, _ := json.Marshal(notice{Node: node, Seq: seq, Part: i, Parts: len(chunks), Ev: c})
		out[i] = string(b)
	}
	return out
}

// waiter is a writer waiting for its notification to come back.
type waiter struct {
	seq    uint64
	events []store.Event
	done   chan struct{}
	// local is set (before done closes, under feed.mu) when the stream will
	// not bring the events: the writer hands them out itself.
	local bool
}

type feed struct {
	s       *Store
	connCfg *pgx.ConnConfig
	wait    time.Duration
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}

	// lmu guards the listeners and serialises calls to them.
	lmu       sync.Mutex
	listeners map[int]func([]store.Event)
	nextL     int

	mu      sync.Mutex
	up      bool
	waiting map[uint64]*waiter
	skip    map[uint64]time.Time   // own notifications already handed out locally
	partial map[string][]wireEvent // earlier parts of a transaction's events
}

func newFeed(s *Store, cfg *pgx.ConnConfig, wait time.Duration) *feed {
	// A dead peer must not leave the feed waiting for ever on a silent socket.
	cfg.DialFunc = (&net.Dialer{KeepAlive: 15 * time.Second}).DialContext
	ctx, cancel := context.WithCancel(context.Background())
	return &feed{
		s: s, connCfg: cfg, wait: wait, ctx: ctx, cancel: cancel, done: make(chan struct{}),
		listeners: map[int]func([]store.Event){},
		waiting:   map[uint64]*waiter{},
		skip:      map[uint64]time.Time{},
		partial:   map[string][]wireEvent{},
	}
}

// start connects and listens before returning.
func (f *feed) start(ctx context.Context) error {
	conn, err := f.connect(ctx)
	if err != nil {
		return fmt.Errorf("change feed: %w", err)
	}
	f.setUp(true)
	go f.run(conn)
	return nil
}

func (f *feed) stop() {
	f.cancel()
	<-f.done
}

func (f *feed) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, f.connCfg.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{f.s.channel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("listen: %w", err)
	}
	return conn, nil
}

func (f *feed) run(conn *pgx.Conn) {
	defer close(f.done)
	backoff := 100 * time.Millisecond
	for {
		if conn != nil {
			err := f.loop(conn)
			f.setUp(false)
			cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			conn.Close(cctx)
			cancel()
			conn = nil
			if f.ctx.Err() != nil {
				return
			}
			f.s.log.Warn("change feed lost, reconnecting; changes other nodes commit meanwhile are not announced here", "err", err)
		}
		select {
		case <-f.ctx.Done():
			return
		case <-time.After(backoff):
		}
		c, err := f.connect(f.ctx)
		if err != nil {
			if f.ctx.Err() != nil {
				return
			}
			f.s.log.Warn("change feed connect", "err", err)
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		conn, backoff = c, 100*time.Millisecond
		f.setUp(true)
		f.s.log.Info("change feed listening again")
	}
}

func (f *feed) loop(conn *pgx.Conn) error {
	for {
		n, err := conn.WaitForNotification(f.ctx)
		if err != nil {
			return err
		}
		f.handle(n.Payload)
	}
}

// setUp records whether the stream can be relied on. Going down releases every
// waiter: their notifications will not arrive on a new connection.
func (f *feed) setUp(up bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.up = up
	if up {
		return
	}
	now := time.Now()
	for seq, w := range f.waiting {
		delete(f.waiting, seq)
		f.skip[seq] = now
		w.local = true
		close(w.done)
	}
	clear(f.partial)
}

// expect registers a writer's sequence number before its COMMIT.
func (f *feed) expect(seq uint64, events []store.Event) *waiter {
	w := &waiter{seq: seq, events: events, done: make(chan struct{})}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.up {
		f.skipLocked(seq)
		w.local = true
		close(w.done)
		return w
	}
	f.waiting[seq] = w
	return w
}

func (f *feed) skipLocked(seq uint64) {
	now := time.Now()
	f.skip[seq] = now
	// Entries whose notification never came (the connection dropped) would
	// otherwise stay for ever.
	if len(f.skip) > 4096 {
		for k, t := range f.skip {
			if now.Sub(t) > time.Minute {
				delete(f.skip, k)
			}
		}
	}
}

// abandon forgets a writer whose COMMIT failed. Should the transaction have
// committed after all, its notification is handed out from the stream.
func (f *feed) abandon(w *waiter) {
	if w == nil {
		return
	}
	f.mu.Lock()
	if f.waiting[w.seq] == w {
		delete(f.waiting, w.seq)
	}
	f.mu.Unlock()
}

// await returns once the writer's events were handed to the listeners.
func (f *feed) await(w *waiter) {
	if w == nil {
		return
	}
	timer := time.NewTimer(f.wait)
	defer timer.Stop()
	select {
	case <-w.done:
	case <-timer.C:
		f.mu.Lock()
		if f.waiting[w.seq] == w {
			delete(f.waiting, w.seq)
			f.skipLocked(w.seq)
			w.local = true
			f.mu.Unlock()
			f.s.log.Warn("change feed: own notification late, events handed out locally", "seq", w.seq)
		} else {
			f.mu.Unlock()
			<-w.done // the stream has it and is handing it out
		}
	}
	if w.local {
		f.dispatch(w.events)
	}
}

// handle is one notification from the stream.
func (f *feed) handle(payload string) {
	var n struct {
		Node  string      `json:"n"`
		Seq   uint64      `json:"s"`
		Part  int         `json:"p"`
		Parts int         `json:"c"`
		Ev    []wireEvent `json:"e"`
	}
	if err := json.Unmarshal([]byte(payload), &n); err != nil {
		f.s.log.Warn("change feed: bad payload", "err", err)
		return
	}
	key := n.Node + "/" + strconv.FormatUint(n.Seq, 10)
	f.mu.Lock()
	wes := append(f.partial[key], n.Ev...)
	if n.Part < n.Parts-1 {
		f.partial[key] = wes
		f.mu.Unlock()
		return
	}
	delete(f.partial, key)
	if n.Node == f.s.node {
		w := f.waiting[n.Seq]
		if w != nil {
			delete(f.waiting, n.Seq)
		}
		_, skipped := f.skip[n.Seq]
		delete(f.skip, n.Seq)
		f.mu.Unlock()
		switch {
		case w != nil:
			// The writer's own copy: exact even where the payload left flags out.
			f.dispatch(w.events)
			close(w.done)
		case !skipped:
			// Committed although its writer saw COMMIT fail.
			f.dispatch(f.events(wes))
		}
		return
	}
	f.mu.Unlock()
	f.dispatch(f.events(wes))
}

// events turns payload events into store events, reading the flags that did
// not fit.
func (f *feed) events(wes []wireEvent) []store.Event {
	evs := make([]store.Event, len(wes))
	for i, w := range wes {
		evs[i] = store.Event{Kind: w.K, AccountID: w.A, MailboxID: w.M, UID: w.U, Flags: w.F, ModSeq: w.Q}
		if w.X {
			evs[i].Flags = f.readFlags(w.M, w.U)
		}
	}
	return evs
}

// readFlags reads the flags a payload had no room for. The message may have
// changed or gone since; a later event tells.
func (f *feed) readFlags(mailboxID int64, uid uint32) []string {
	ctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
	defer cancel()
	var flags string
	err := f.s.pool.QueryRow(ctx, `SELECT flags FROM messages WHERE mailbox_id = $1 AND uid = $2`, mailboxID, int64(uid)).Scan(&flags)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		f.s.log.Warn("change feed: read flags", "err", err)
	}
	return store.SplitFlags(flags)
}

func (f *feed) dispatch(evs []store.Event) {
	if len(evs) == 0 {
		return
	}
	f.lmu.Lock()
	defer f.lmu.Unlock()
	for _, fn := range f.listeners {
		fn(evs)
	}
}

func (f *feed) listen(fn func([]store.Event)) func() {
	f.lmu.Lock()
	id := f.nextL
	f.nextL++
	f.listeners[id] = fn
	f.lmu.Unlock()
	return func() {
		f.lmu.Lock()
		delete(f.listeners, id)
		f.lmu.Unlock()
	}
}

// Listen registers fn for committed events of every node, in commit order. fn
// is called with no other call to it in progress; it must not block nor call
// the store.
func (s *Store) Listen(fn func([]store.Event)) func() { return s.feed.listen(fn) }
