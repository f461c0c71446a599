package imapd

import (
	"context"
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"

	"govmail/internal/address"
	"govmail/internal/filter"
	"govmail/internal/store"
)

// sharedRoot is the shared namespace where a delegate finds the unit mailboxes
// they manage (Điều 9.2, R9.1): "Đơn vị/vp.skhcn/INBOX".
const sharedRoot = "Đơn vị"

// target is a mailbox name resolved to the account that owns it.
type target struct {
	accountID int64
	folder    string // the name inside that account
	prefix    string // what the client's name adds in front of folder ("" for own folders)
}

// resolve maps a client's mailbox name to an account and a folder: its own, or
// under sharedRoot a unit mailbox it is a delegate of right now (checked on each
// use, so that a removed delegation stops at once).
func (s *session) resolve(name string) (target, error) {
	name = canonName(name)
	if filter.IsHidden(name) {
		// The quarantine is the operators' (R4.2): users neither see nor make it.
		return target{}, fmt.Errorf("%q: %w", name, store.ErrNotFound)
	}
	rest, ok := strings.CutPrefix(name, sharedRoot+string(delim))
	if !ok {
		if name == sharedRoot {
			return target{}, fmt.Errorf("%q: %w", name, store.ErrNotFound)
		}
		return target{accountID: s.accountID, folder: name}, nil
	}
	lp, folder, _ := strings.Cut(rest, string(delim))
	units, err := s.delegatedUnits(s.srv.ctx)
	if err != nil {
		return target{}, err
	}
	for _, u := range units {
		if address.Local(u.Address) == lp {
			if folder == "" || filter.IsHidden(folder) {
				return target{}, fmt.Errorf("%q: %w", name, store.ErrNotFound)
			}
			return target{accountID: u.ID, folder: canonName(folder), prefix: sharedRoot + string(delim) + lp + string(delim)}, nil
		}
	}
	return target{}, fmt.Errorf("%q: %w", name, store.ErrNotFound)
}

// delegatedUnits lists the active unit mailboxes this session's user manages.
// A locked unit mailbox has no access, delegates included (R8.1).
func (s *session) delegatedUnits(ctx context.Context) ([]*store.Account, error) {
	ds, err := s.srv.store.DelegatedTo(ctx, s.accountID)
	if err != nil {
		return nil, err
	}
	var out []*store.Account
	for _, d := range ds {
		a, err := s.srv.store.AccountByID(ctx, d.UnitAccountID)
		if err != nil || a.State != store.StateActive {
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

// mailbox finds the store mailbox of a client's name.
func (s *session) mailbox(name string) (*store.Mailbox, target, error) {
	t, err := s.resolve(name)
	if err != nil {
		return nil, t, err
	}
	mb, err := s.srv.store.MailboxByName(s.srv.ctx, t.accountID, t.folder)
	if err != nil {
		return nil, t, err
	}
	if t.accountID != s.accountID {
		// R8.2: a delegate's access counts as a login of the unit mailbox.
		unit, err := s.srv.store.AccountByID(s.srv.ctx, t.accountID)
		if err != nil {
			return nil, t, err
		}
		if err := s.srv.auth.DelegateAccess(s.srv.ctx, unit); err != nil {
			return nil, t, err
		}
	}
	return mb, t, nil
}

// sharedMailboxes returns the delegated unit mailboxes' folders under their
// shared names, for LIST.
func (s *session) sharedMailboxes() ([]store.Mailbox, error) {
	units, err := s.delegatedUnits(s.srv.ctx)
	if err != nil {
		return nil, err
	}
	var out []store.Mailbox
	for _, u := range units {
		mbs, err := s.srv.store.ListMailboxes(s.srv.ctx, u.ID)
		if err != nil {
			return nil, err
		}
		for _, mb := range mbs {
			if filter.IsHidden(mb.Name) {
				continue
			}
			mb.Name = sharedRoot + string(delim) + address.Local(u.Address) + string(delim) + mb.Name
			out = append(out, mb)
		}
	}
	return out, nil
}

// Namespace: the personal folders, and the shared namespace of unit mailboxes.
func (s *session) Namespace() (*imap.NamespaceData, error) {
	return &imap.NamespaceData{
		Personal: []imap.NamespaceDescriptor{{Prefix: "", Delim: delim}},
		Shared:   []imap.NamespaceDescriptor{{Prefix: sharedRoot + string(delim), Delim: delim}},
	}, nil
}

// onAccess ends the sessions that lost access: those logged in as an account
// that was locked or revoked or lost an app password, and those that have a
// folder of such an account selected (a delegate of a locked unit mailbox, or a
// delegate whose delegation was removed: R8.1, R9.1).
func (s *Server) onAccess(evs []store.Event) {
	var victims []*session
	s.mu.Lock()
	for _, ev := range evs {
		if ev.Kind != store.EventAccess {
			continue
		}
		for sess := range s.live {
			switch {
			case ev.MailboxID == 0 && (sess.accountID == ev.AccountID || sess.selAccount() == ev.AccountID):
				victims = append(victims, sess)
			case ev.MailboxID != 0 && sess.accountID == ev.AccountID && sess.selAccount() == ev.MailboxID:
				victims = append(victims, sess)
			}
		}
	}
	s.mu.Unlock()
	for _, v := range victims {
		go v.conn.Bye("Quyền truy cập hộp thư đã thay đổi / access to this mailbox has changed")
	}
}

func (s *session) selAccount() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sel == nil {
		return 0
	}
	return s.sel.accountID
}
