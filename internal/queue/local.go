package queue

import (
	"bytes"
	"context"
	"fmt"

	"govmail/internal/delivery"
	"govmail/internal/store"
)

// Local delivers into local mailboxes through the delivery pipeline, so a
// bounce or a released held message gets the same trace header,
// transaction-log row and blob sharing as any mail. Locked mailboxes still
// receive (Điều 8.1).
type Local struct {
	Store     store.Store
	Deliverer *delivery.Deliverer
	Hostname  string
}

// DeliverLocal stores m in its recipient's INBOX.
func (l *Local) DeliverLocal(ctx context.Context, m LocalMessage) error {
	a, err := l.Store.AccountByAddress(ctx, m.Rcpt)
	if err == nil && a.State == store.StateRevoked {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("local recipient %s: %w", m.Rcpt, err)
	}
	ip := m.ClientIP
	if ip == "" {
		ip = "127.0.0.1"
	}
	env := &delivery.Envelope{
		From:       m.From,
		Recipients: []delivery.Recipient{{Address: a.Address, AccountID: a.ID, QuotaChecked: m.From == ""}},
		ClientIP:   ip,
		ClientHelo: l.Hostname,
		Proto:      "local",
		Direction:  "internal",
		AuthUser:   m.AuthUser,
	}
	res, err := l.Deliverer.Deliver(ctx, env, bytes.NewReader(m.Raw))
	if err != nil {
		return fmt.Errorf("local delivery to %s: %w", m.Rcpt, err)
	}
	if len(res.Outcomes) == 1 && res.Outcomes[0].Err != nil {
		return fmt.Errorf("local delivery to %s: %w", m.Rcpt, res.Outcomes[0].Err)
	}
	return nil
}
