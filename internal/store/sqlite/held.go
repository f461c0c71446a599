package sqlite

import (
	"context"
	"fmt"

	"govmail/internal/store"
)

// HeldMessages lists quarantined messages across accounts, newest first.
func (s *Store) HeldMessages(ctx context.Context, limit int) ([]store.HeldMessage, error) {
	if limit <= 0 {
		limit = 500
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT a.id, a.address, m.mailbox_id, m.uid, m.size, m.internal_date, m.meta
		FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id JOIN accounts a ON a.id = b.account_id
		WHERE b.name = ? ORDER BY m.internal_date DESC LIMIT ?`, store.HeldFolder, limit)
	if err != nil {
		return nil, fmt.Errorf("held messages: %w", err)
	}
	defer rows.Close()
	var out []store.HeldMessage
	for rows.Next() {
		var h store.HeldMessage
		var date int64
		if err := rows.Scan(&h.AccountID, &h.Address, &h.MailboxID, &h.UID, &h.Size, &date, &h.Meta); err != nil {
			return nil, err
		}
		h.InternalDate = store.FromMicros(date)
		out = append(out, h)
	}
	return out, rows.Err()
}
