package imapd

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"govmail/internal/store"
)

// hookStore runs a function around the next Messages call: the read that loads
// a mailbox's shared state for its first session.
type hookStore struct {
	store.Store
	mu            sync.Mutex
	before, after func()
}

func (h *hookStore) set(before, after func()) {
	h.mu.Lock()
	h.before, h.after = before, after
	h.mu.Unlock()
}

func (h *hookStore) Messages(ctx context.Context, id int64, withMeta bool) ([]store.Message, uint64, error) {
	h.mu.Lock()
	before, after := h.before, h.after
	h.before, h.after = nil, nil
	h.mu.Unlock()
	if before != nil {
		before()
	}
	msgs, modseq, err := h.Store.Messages(ctx, id, withMeta)
	if after != nil {
		after()
	}
	return msgs, modseq, err
}

// The shared state of a mailbox is loaded while other writers commit: an event
// already in the loaded snapshot must not count twice, one after it must not be
// lost.
func TestSharedStateLoadRacesWithWriters(t *testing.T) {
	var hs *hookStore
	e := newEnv(t, envOptions{wrap: func(s store.Store) store.Store {
		hs = &hookStore{Store: s}
		return hs
	}})
	ctx := context.Background()
	cases := []struct {
		name   string
		before bool // commit before the snapshot read, or after it
		change func(a *store.Account, inbox int64)
		want   []imap.UID
	}{
		{"delivery committed before the snapshot counts once", true, func(a *store.Account, _ int64) {
			e.deliver(a, "", simpleMessage("giua", "noi dung"))
		}, []imap.UID{1, 2, 3}},
		{"delivery committed after the snapshot is not lost", false, func(a *store.Account, _ int64) {
			e.deliver(a, "", simpleMessage("giua", "noi dung"))
		}, []imap.UID{1, 2, 3}},
		{"expunge committed after the snapshot is applied", false, func(_ *store.Account, inbox int64) {
			if _, err := e.store.Expunge(ctx, inbox, []uint32{1}); err != nil {
				t.Error(err)
			}
		}, []imap.UID{2}},
		{"expunge committed before the snapshot is not applied twice", true, func(_ *store.Account, inbox int64) {
			if _, err := e.store.Expunge(ctx, inbox, []uint32{1}); err != nil {
				t.Error(err)
			}
		}, []imap.UID{2}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := "u" + string(rune('a'+i)) + "@sonla.gov.vn"
			a := e.account(addr, pw, nil)
			e.deliver(a, "", simpleMessage("mot", "noi dung"))
			e.deliver(a, "", simpleMessage("hai", "noi dung"))
			inbox := e.mailbox(a, "INBOX").ID
			change := func() { tc.change(a, inbox) }
			if tc.before {
				hs.set(change, nil)
			} else {
				hs.set(nil, change)
			}
			var w wire
			c := e.dialOptions(&imapclient.Options{DebugWriter: &w})
			if err := c.Login(addr, pw).Wait(); err != nil {
				t.Fatal(err)
			}
			sel, err := c.Select("INBOX", nil).Wait()
			if err != nil {
				t.Fatal(err)
			}
			if sel.NumMessages != uint32(len(tc.want)) {
				t.Errorf("EXISTS %d, want %d", sel.NumMessages, len(tc.want))
			}
			// Every message is unseen: UNSEEN names the first one still in
			// the mailbox, whichever read SELECT took the flags from.
			if !strings.Contains(w.String(), "[UNSEEN 1]") {
				t.Errorf("SELECT without [UNSEEN 1]:\n%s", w.String())
			}
			got := fetchUIDs(t, c)
			if len(got) != len(tc.want) {
				t.Fatalf("view %v, want %v", got, tc.want)
			}
			for i, u := range tc.want {
				if got[uint32(i+1)] != u {
					t.Errorf("seq %d is UID %d, want %d", i+1, got[uint32(i+1)], u)
				}
			}
		})
	}
}
