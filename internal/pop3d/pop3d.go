// Package pop3d joins the POP3 protocol (internal/pop3) to the store and to auth:
// a POP3 maildrop is the account's INBOX, a message's UIDL is its UIDVALIDITY and
// UID (stable, never reused), and DELE + QUIT expunges through the store so that
// IMAP sessions on the same INBOX are told at once (the store's change feed).
package pop3d

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"

	"govmail/internal/auth"
	"govmail/internal/pop3"
	"govmail/internal/store"
)

// Backend implements pop3.Backend.
type Backend struct {
	Store store.Store
	Auth  *auth.Service
	// OnAuth, when set, is told of every authentication result (metrics).
	OnAuth func(err error)

	mu     sync.Mutex
	locked map[int64]bool // accounts with an open POP3 session (RFC 1939 exclusive lock)
}

// Login authenticates and opens the INBOX.
func (b *Backend) Login(ctx context.Context, conn pop3.ConnInfo, username, password string) (pop3.Mailbox, error) {
	ip := ""
	if ta, ok := conn.RemoteAddr.(*net.TCPAddr); ok {
		ip = ta.IP.String()
	}
	a, err := b.Auth.Login(ctx, auth.Request{Proto: "pop3", Username: username, Password: password, RemoteIP: ip})
	if b.OnAuth != nil {
		b.OnAuth(err)
	}
	if err != nil {
		return nil, loginError(err)
	}
	mb, err := b.Store.MailboxByName(ctx, a.ID, "INBOX")
	if err != nil {
		return nil, fmt.Errorf("pop3 inbox: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.locked == nil {
		b.locked = map[int64]bool{}
	}
	if b.locked[a.ID] {
		return nil, &pop3.Error{Code: "IN-USE", Text: "Mailbox is open in another POP3 session / Hộp thư đang mở ở phiên POP3 khác"}
	}
	b.locked[a.ID] = true
	return &maildrop{b: b, accountID: a.ID, mb: mb}, nil
}

// loginError is the one place auth refusals become POP3 replies (RFC 3206 codes).
func loginError(err error) error {
	var ae *auth.Error
	text := "Authentication failed"
	if errors.As(err, &ae) {
		text = ae.VI + " / " + ae.EN
	}
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		return &pop3.Error{Code: "AUTH", Text: text, Err: err}
	case errors.Is(err, auth.ErrThrottled):
		return &pop3.Error{Code: "LOGIN-DELAY", Text: text, Err: err}
	case errors.Is(err, auth.ErrMustChange), errors.Is(err, auth.ErrLocked):
		return &pop3.Error{Code: "AUTH", Text: text, Err: err}
	}
	return err
}

type maildrop struct {
	b         *Backend
	accountID int64
	mb        *store.Mailbox
	msgs      map[string]store.Message
}

func (m *maildrop) uidl(uid uint32) string {
	return strconv.FormatUint(uint64(m.mb.UIDValidity), 10) + "." + strconv.FormatUint(uint64(uid), 10)
}

func (m *maildrop) Messages(ctx context.Context) ([]pop3.MessageInfo, error) {
	msgs, _, err := m.b.Store.Messages(ctx, m.mb.ID, false)
	if err != nil {
		return nil, fmt.Errorf("pop3 list: %w", err)
	}
	m.msgs = make(map[string]store.Message, len(msgs))
	out := make([]pop3.MessageInfo, 0, len(msgs))
	for _, x := range msgs {
		id := m.uidl(x.UID)
		m.msgs[id] = x
		out = append(out, pop3.MessageInfo{UID: id, Size: x.Size})
	}
	return out, nil
}

func (m *maildrop) Open(ctx context.Context, id string) (io.ReadCloser, error) {
	x, ok := m.msgs[id]
	if !ok {
		return nil, &pop3.Error{Text: "no such message"}
	}
	raw, err := m.b.Store.ReadBlob(ctx, x.BlobID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &pop3.Error{Text: "message was deleted by another session / thư đã bị xóa ở phiên khác"}
	}
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(raw)), nil
}

func (m *maildrop) Commit(ctx context.Context, deleted []string) error {
	if len(deleted) == 0 {
		return nil
	}
	// The session passes back UIDLs of the snapshot Messages returned, so
	// every one is in m.msgs.
	uids := make([]uint32, 0, len(deleted))
	for _, id := range deleted {
		if x, ok := m.msgs[id]; ok {
			uids = append(uids, x.UID)
		}
	}
	if _, err := m.b.Store.Expunge(ctx, m.mb.ID, uids); err != nil {
		return fmt.Errorf("pop3 delete: %w", err)
	}
	return nil
}

func (m *maildrop) Close() error {
	m.b.mu.Lock()
	delete(m.b.locked, m.accountID)
	m.b.mu.Unlock()
	return nil
}
