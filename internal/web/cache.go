package web

import (
	"context"
	"slices"
	"sync"
	"time"

	"govmail/internal/store"
)

// listEntry is what the message list sorts and pages by: no metadata, so a
// 50,000-message folder is read without decoding 50,000 envelopes.
type listEntry struct {
	UID  uint32
	Date time.Time
}

// mailboxCache keeps, per mailbox, the date-sorted UID list and the status counts,
// dropped by the store's change feed on every append, expunge or flag change. It is
// per process: with several nodes the store's feed must carry other nodes' commits
// (LISTEN/NOTIFY), which it will, and this cache needs no change for that.
//
// A reader takes the mailbox's generation before reading the store and keeps its
// result only if no event came in between, so a read that raced a commit is never
// cached.
type mailboxCache struct {
	mu     sync.Mutex
	gen    map[int64]uint64
	sorted map[int64][]listEntry
	status map[int64]store.MailboxStatus
	max    int
}

func newMailboxCache(max int) *mailboxCache {
	return &mailboxCache{gen: map[int64]uint64{}, sorted: map[int64][]listEntry{}, status: map[int64]store.MailboxStatus{}, max: max}
}

// onEvents is the store listener; it must not block, and only takes the lock briefly.
func (c *mailboxCache) onEvents(evs []store.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range evs {
		if e.MailboxID == 0 {
			continue
		}
		c.gen[e.MailboxID]++
		delete(c.status, e.MailboxID)
		if e.Kind != store.EventFlags {
			delete(c.sorted, e.MailboxID)
		}
	}
}

// invalidate drops what is cached for the mailboxes after a change made by webmail
// itself, so the next page shows it even on a store whose feed is asynchronous.
func (c *mailboxCache) invalidate(ids ...int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		c.gen[id]++
		delete(c.status, id)
		delete(c.sorted, id)
	}
}

// Sorted returns the mailbox's messages newest first (date, then UID).
func (c *mailboxCache) Sorted(ctx context.Context, st store.Store, id int64) ([]listEntry, error) {
	c.mu.Lock()
	if l, ok := c.sorted[id]; ok {
		c.mu.Unlock()
		return l, nil
	}
	g := c.gen[id]
	c.mu.Unlock()

	msgs, _, err := st.Messages(ctx, id, false)
	if err != nil {
		return nil, err
	}
	l := make([]listEntry, len(msgs))
	for i, m := range msgs {
		l[i] = listEntry{UID: m.UID, Date: m.InternalDate}
	}
	slices.SortFunc(l, func(a, b listEntry) int {
		if c := b.Date.Compare(a.Date); c != 0 {
			return c
		}
		switch {
		case a.UID > b.UID:
			return -1
		case a.UID < b.UID:
			return 1
		}
		return 0
	})
	c.mu.Lock()
	if c.gen[id] == g {
		if len(c.sorted) >= c.max {
			clear(c.sorted) // crude bound; a full list is rebuilt in one query
		}
		c.sorted[id] = l
	}
	c.mu.Unlock()
	return l, nil
}

// Status returns the mailbox's counts.
func (c *mailboxCache) Status(ctx context.Context, st store.Store, id int64) (store.MailboxStatus, error) {
	c.mu.Lock()
	if s, ok := c.status[id]; ok {
		c.mu.Unlock()
		return s, nil
	}
	g := c.gen[id]
	c.mu.Unlock()
	s, err := st.MailboxStatus(ctx, id)
	if err != nil {
		return store.MailboxStatus{}, err
	}
	c.mu.Lock()
	if c.gen[id] == g {
		if len(c.status) >= 16*c.max {
			clear(c.status)
		}
		c.status[id] = *s
	}
	c.mu.Unlock()
	return *s, nil
}
