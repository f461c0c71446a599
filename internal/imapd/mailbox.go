package imapd

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"govmail/internal/store"
)

// registry keeps ONE state per mailbox that some session of this process has
// selected, so that every session sees the same UIDs and is told of the same
// appends, flag changes and expunges with sequence numbers computed from the same
// list. The state is fed by the store's change feed, in commit order, whoever the
// writer was (SMTP delivery, POP3, webmail, another IMAP session), and dropped
// when the last session leaves.
//
// Lock order: registry.mu, then sharedBox.mu, then the library's tracker locks.
// The feed callback runs in the store's writer goroutine, so no lock here is ever
// held across a store call or a network write: a slow client must not stall
// every delivery.
type registry struct {
	store    store.Store
	log      *slog.Logger
	unlisten func()

	mu   sync.Mutex
	open map[int64]*sharedBox
}

// sharedBox is the process-wide state of one open mailbox.
type sharedBox struct {
	id   int64
	refs int // under registry.mu

	ready chan struct{} // closed once loaded (or failed)
	err   error         // load failure; written before ready is closed

	mu       sync.RWMutex
	loaded   bool
	snapshot uint64        // the mailbox modseq of the load; older events are in uids already
	pending  []store.Event // events that arrived while loading
	// uids is the mailbox in UID order: the server's sequence numbers are its
	// indexes plus one. It is the only per-message state kept in memory, once per
	// mailbox however many sessions have it open.
	uids    []uint32
	tracker *imapserver.MailboxTracker
	self    *selfWrite

	// writeMu serialises this process's IMAP flag writes to the mailbox so that
	// self names the one session whose write is in flight.
	writeMu sync.Mutex
}

// selfWrite marks a STORE (or the implicit \Seen of FETCH BODY[]) in flight: the
// flag events it causes are not sent back as unilateral FETCH responses to the
// session that made them, which answers for itself (RFC 3501 6.4.6: .SILENT
// means no FETCH). The store calls the feed before the write returns, so the
// mark is still set when the events arrive; a store whose feed lags (a future
// cross-node feed) only costs that session a redundant FETCH.
type selfWrite struct {
	st   *imapserver.SessionTracker
	uids []uint32 // sorted
}

func newRegistry(st store.Store, log *slog.Logger) *registry {
	r := &registry{store: st, log: log, open: map[int64]*sharedBox{}}
	r.unlisten = st.Listen(r.onEvents)
	return r
}

func (r *registry) stop() { r.unlisten() }

// acquire returns the loaded state of a mailbox, loading it for the first
// session. Every successful acquire is paired with a release. When this call
// loaded the state, rows are the message rows it read (never nil then, even
// for an empty mailbox), so that SELECT need not read them a second time; a
// session joining state already loaded gets nil.
func (r *registry) acquire(ctx context.Context, id int64) (b *sharedBox, rows []store.Message, err error) {
	r.mu.Lock()
	b = r.open[id]
	if b != nil {
		b.refs++
		r.mu.Unlock()
		select {
		case <-b.ready:
		case <-ctx.Done():
			r.release(b)
			return nil, nil, ctx.Err()
		}
		if b.err != nil {
			// The loader removed the failed state; nothing to release.
			return nil, nil, b.err
		}
		return b, nil, nil
	}
	// The state is in the map before the store is read, so that every event
	// committed after the read is caught (in pending) and none is lost.
	b = &sharedBox{id: id, refs: 1, ready: make(chan struct{})}
	r.open[id] = b
	r.mu.Unlock()

	msgs, modseq, err := r.store.Messages(ctx, id, false)
	if err != nil {
		err = fmt.Errorf("load mailbox %d: %w", id, err)
	} else if msgs == nil {
		msgs = []store.Message{}
	}
	b.mu.Lock()
	if err == nil {
		b.uids = make([]uint32, len(msgs))
		for i := range msgs {
			b.uids[i] = msgs[i].UID
		}
		b.snapshot = modseq
		b.tracker = imapserver.NewMailboxTracker(uint32(len(b.uids)))
		for _, ev := range b.pending {
			b.applyLocked(r.log, ev)
		}
		b.loaded = true
	}
	b.pending = nil
	b.err = err
	b.mu.Unlock()
	if err != nil {
		r.mu.Lock()
		if r.open[id] == b {
			delete(r.open, id)
		}
		r.mu.Unlock()
	}
	close(b.ready)
	if err != nil {
		return nil, nil, err
	}
	return b, msgs, nil
}

// release drops a session's hold; the last one out frees the state.
func (r *registry) release(b *sharedBox) {
	r.mu.Lock()
	b.refs--
	if b.refs == 0 && r.open[b.id] == b {
		delete(r.open, b.id)
	}
	r.mu.Unlock()
}

// onEvents is the store's change feed: called after each commit, in commit
// order, from the store's writer goroutine. It must not block.
func (r *registry) onEvents(evs []store.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.open) == 0 {
		return
	}
	for _, ev := range evs {
		if ev.Kind == store.EventMailboxes {
			continue
		}
		b := r.open[ev.MailboxID]
		if b == nil {
			continue
		}
		b.mu.Lock()
		if b.loaded {
			b.applyLocked(r.log, ev)
		} else {
			b.pending = append(b.pending, ev)
		}
		b.mu.Unlock()
	}
}

// applyLocked brings the UID list and the tracker up to date with one event.
func (b *sharedBox) applyLocked(log *slog.Logger, ev store.Event) {
	if ev.ModSeq <= b.snapshot {
		return // committed before the load read the mailbox: already in uids
	}
	i, found := slices.BinarySearch(b.uids, ev.UID)
	switch ev.Kind {
	case store.EventAppend:
		if found {
			return
		}
		if i != len(b.uids) {
			// UIDs only grow, so this is a store bug; sequence numbers of
			// sessions would be wrong after it.
			log.Error("imap: append below the highest UID", "mailbox", b.id, "uid", ev.UID)
		}
		b.uids = slices.Insert(b.uids, i, ev.UID)
		b.tracker.QueueNumMessages(uint32(len(b.uids)))
	case store.EventExpunge:
		if !found {
			return
		}
		b.uids = slices.Delete(b.uids, i, i+1)
		b.tracker.QueueExpunge(uint32(i + 1))
	case store.EventFlags:
		if !found {
			return
		}
		var except *imapserver.SessionTracker
		if b.self != nil {
			if _, mine := slices.BinarySearch(b.self.uids, ev.UID); mine {
				except = b.self.st
			}
		}
		b.tracker.QueueMessageFlags(uint32(i+1), imap.UID(ev.UID), imapFlags(ev.Flags), except)
	}
}

// view is one session's selected mailbox: the shared state plus the session's
// own tracker, which holds the updates the client has not been told yet and so
// translates between its sequence numbers and the shared list's.
type view struct {
	box       *sharedBox
	st        *imapserver.SessionTracker
	id        int64 // the mailbox; kept across RENAME
	accountID int64 // its owner: the user, or a unit mailbox they are a delegate of
	readOnly  bool
	special   string      // special-use of the mailbox (\Junk matters for learning)
	searchRes imap.UIDSet // SEARCHRES ($), RFC 5182
}

// ref is one message as the client sees it.
type ref struct {
	seq uint32 // the client's sequence number
	uid uint32
}

// resolve lists the messages of set that the client knows, in sequence order.
func (v *view) resolve(set imap.NumSet) []ref {
	if imap.IsSearchRes(set) {
		set = v.searchRes
	}
	b := v.box
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []ref
	switch set := set.(type) {
	case imap.SeqSet:
		out = v.resolveSeqLocked(set)
	case imap.UIDSet:
		out = v.resolveUIDLocked(set)
	}
	return sortRefs(out)
}

// clientMaxLocked is the client's "*": the highest sequence number it knows of
// among the messages still in the mailbox.
func (v *view) clientMaxLocked() uint32 {
	for i := uint32(len(v.box.uids)); i > 0; i-- {
		if c := v.st.EncodeSeqNum(i); c != 0 {
			return c
		}
	}
	return 0
}

func (v *view) resolveSeqLocked(set imap.SeqSet) []ref {
	max := v.clientMaxLocked()
	if max == 0 {
		return nil
	}
	n := uint32(len(v.box.uids))
	var out []ref
	for _, r := range set {
		start, stop := staticRange(r.Start, r.Stop, max)
		if start > max {
			continue
		}
		stop = min(stop, max)
		// Walking the requested numbers, not the mailbox, keeps FETCH 7 cheap
		// in a mailbox of 100,000.
		for c := start; c <= stop; c++ {
			if sv := v.st.DecodeSeqNum(c); sv != 0 && sv <= n {
				out = append(out, ref{seq: c, uid: v.box.uids[sv-1]})
			}
		}
	}
	return out
}

func (v *view) resolveUIDLocked(set imap.UIDSet) []ref {
	uids := v.box.uids
	if len(uids) == 0 {
		return nil
	}
	maxUID := uids[len(uids)-1]
	var out []ref
	for _, r := range set {
		start, stop := staticRange(uint32(r.Start), uint32(r.Stop), maxUID)
		i, _ := slices.BinarySearch(uids, start)
		for ; i < len(uids) && uids[i] <= stop; i++ {
			if c := v.st.EncodeSeqNum(uint32(i + 1)); c != 0 {
				out = append(out, ref{seq: c, uid: uids[i]})
			}
		}
	}
	return out
}

// all lists every message the client knows, in sequence order.
func (v *view) all() []ref {
	b := v.box
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]ref, 0, len(b.uids))
	for i, uid := range b.uids {
		if c := v.st.EncodeSeqNum(uint32(i + 1)); c != 0 {
			out = append(out, ref{seq: c, uid: uid})
		}
	}
	return out
}

// staticRange resolves "*" (0) to max and orders the ends: "5:3" is "3:5", and
// "559:*" includes the last message even when 559 is above it (RFC 3501 6.4.8).
func staticRange(start, stop, max uint32) (uint32, uint32) {
	if start == 0 {
		start = max
	}
	if stop == 0 {
		stop = max
	}
	if start > stop {
		start, stop = stop, start
	}
	return start, stop
}

// sortRefs orders by sequence number and drops duplicates ("1:3,2" lists 2 twice).
func sortRefs(refs []ref) []ref {
	if slices.IsSortedFunc(refs, func(a, b ref) int { return cmp.Compare(a.seq, b.seq) }) {
		dup := false
		for i := 1; i < len(refs); i++ {
			if refs[i].seq == refs[i-1].seq {
				dup = true
				break
			}
		}
		if !dup {
			return refs
		}
	}
	slices.SortFunc(refs, func(a, b ref) int { return cmp.Compare(a.seq, b.seq) })
	return slices.CompactFunc(refs, func(a, b ref) bool { return a.seq == b.seq })
}

func refUIDs(refs []ref) []uint32 {
	out := make([]uint32, len(refs))
	for i, r := range refs {
		out[i] = r.uid
	}
	return out
}

func imapFlags(flags []string) []imap.Flag {
	out := make([]imap.Flag, len(flags))
	for i, f := range flags {
		out[i] = imap.Flag(f)
	}
	return out
}
