package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"govmail/internal/store"
)

const mailboxCols = `id, account_id, name, special_use, uidvalidity, uidnext, highest_modseq, subscribed`

func scanMailbox(row interface{ Scan(...any) error }) (*store.Mailbox, error) {
	var m store.Mailbox
	var sub int
	err := row.Scan(&m.ID, &m.AccountID, &m.Name, &m.SpecialUse, &m.UIDValidity, &m.UIDNext, &m.HighestModSeq, &sub)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("scan mailbox: %w", err)
	}
	m.Subscribed = sub != 0
	return &m, nil
}

func (s *Store) insertMailbox(tx *sql.Tx, accountID int64, name, special string) (*store.Mailbox, error) {
	// UIDVALIDITY must change when a name is reused; the clock in seconds plus the
	// row id keeps it unique without a counter table.
	res, err := tx.Exec(`INSERT INTO mailboxes (account_id, name, special_use, uidvalidity) VALUES (?,?,?,?)`,
		accountID, name, special, 0)
	if err != nil {
		if isUnique(err) {
			return nil, fmt.Errorf("mailbox %q: %w", name, store.ErrExists)
		}
		return nil, fmt.Errorf("insert mailbox: %w", err)
	}
	id, _ := res.LastInsertId()
	uv := uint32(s.clock.Now().Unix()) + uint32(id)
	if uv == 0 {
		uv = 1
	}
	if _, err := tx.Exec(`UPDATE mailboxes SET uidvalidity = ? WHERE id = ?`, uv, id); err != nil {
		return nil, fmt.Errorf("set uidvalidity: %w", err)
	}
	return &store.Mailbox{ID: id, AccountID: accountID, Name: name, SpecialUse: special, UIDValidity: uv, UIDNext: 1, HighestModSeq: 1, Subscribed: true}, nil
}

// ListMailboxes lists an account's folders by name.
func (s *Store) ListMailboxes(ctx context.Context, accountID int64) ([]store.Mailbox, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+mailboxCols+` FROM mailboxes WHERE account_id = ? ORDER BY name`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list mailboxes: %w", err)
	}
	defer rows.Close()
	var out []store.Mailbox
	for rows.Next() {
		m, err := scanMailbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

// MailboxByName finds a folder.
func (s *Store) MailboxByName(ctx context.Context, accountID int64, name string) (*store.Mailbox, error) {
	return scanMailbox(s.rdb.QueryRowContext(ctx, `SELECT `+mailboxCols+` FROM mailboxes WHERE account_id = ? AND name = ?`, accountID, store.CanonMailboxName(name)))
}

// CreateMailbox creates a folder.
func (s *Store) CreateMailbox(ctx context.Context, accountID int64, name, special string) (*store.Mailbox, error) {
	name = store.CanonMailboxName(name)
	if name == "" {
		return nil, fmt.Errorf("empty name: %w", store.ErrMailboxInvalid)
	}
	var m *store.Mailbox
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		var err error
		m, err = s.insertMailbox(tx, accountID, name, special)
		if err == nil {
			w.events = append(w.events, store.Event{Kind: store.EventMailboxes, AccountID: accountID})
		}
		return err
	})
	return m, err
}

// DeleteMailbox removes a folder and its messages. INBOX cannot be deleted.
func (s *Store) DeleteMailbox(ctx context.Context, accountID int64, name string) error {
	name = store.CanonMailboxName(name)
	if name == "INBOX" {
		return fmt.Errorf("INBOX: %w", store.ErrMailboxInvalid)
	}
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		var id int64
		if err := tx.QueryRow(`SELECT id FROM mailboxes WHERE account_id = ? AND name = ?`, accountID, name).Scan(&id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			}
			return err
		}
		if _, err := s.expungeTx(tx, w, id, nil, true); err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM mailboxes WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete mailbox: %w", err)
		}
		w.events = append(w.events, store.Event{Kind: store.EventMailboxes, AccountID: accountID})
		return nil
	})
}

// RenameMailbox renames a folder and its children. Renaming INBOX moves its
// messages to a new folder and leaves INBOX empty (RFC 3501 6.3.5).
func (s *Store) RenameMailbox(ctx context.Context, accountID int64, oldName, newName string) error {
	oldName, newName = store.CanonMailboxName(oldName), store.CanonMailboxName(newName)
	if newName == "INBOX" || newName == "" {
		return fmt.Errorf("rename to %q: %w", newName, store.ErrMailboxInvalid)
	}
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		src, err := scanMailbox(tx.QueryRow(`SELECT `+mailboxCols+` FROM mailboxes WHERE account_id = ? AND name = ?`, accountID, oldName))
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM mailboxes WHERE account_id = ? AND name = ?`, accountID, newName).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("mailbox %q: %w", newName, store.ErrExists)
		}
		w.events = append(w.events, store.Event{Kind: store.EventMailboxes, AccountID: accountID})
		if oldName == "INBOX" {
			dst, err := s.insertMailbox(tx, accountID, newName, "")
			if err != nil {
				return err
			}
			uids, err := uidsTx(tx, src.ID)
			if err != nil {
				return err
			}
			_, err = s.copyTx(tx, w, src.ID, uids, dst.ID, true)
			return err
		}
		// length() counts characters as substr() does; Go's len() would count bytes
		// and break Vietnamese names.
		if _, err := tx.Exec(`UPDATE mailboxes SET name = ?1 || substr(name, length(?2) + 1)
			WHERE account_id = ?3 AND (name = ?2 OR substr(name, 1, length(?2) + 1) = ?2 || '/')`,
			newName, oldName, accountID); err != nil {
			if isUnique(err) {
				return fmt.Errorf("rename: %w", store.ErrExists)
			}
			return fmt.Errorf("rename: %w", err)
		}
		return nil
	})
}

// SetSubscribed marks a folder (un)subscribed.
func (s *Store) SetSubscribed(ctx context.Context, accountID int64, name string, sub bool) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(`UPDATE mailboxes SET subscribed = ? WHERE account_id = ? AND name = ?`, boolInt(sub), accountID, store.CanonMailboxName(name)))
	})
}

// MailboxStatus counts a folder.
func (s *Store) MailboxStatus(ctx context.Context, id int64) (*store.MailboxStatus, error) {
	var st store.MailboxStatus
	err := s.rdb.QueryRowContext(ctx, `SELECT uidnext, uidvalidity, highest_modseq,
		(SELECT count(*) FROM messages WHERE mailbox_id = m.id),
		(SELECT count(*) FROM messages WHERE mailbox_id = m.id AND (' ' || flags || ' ') NOT LIKE '% \Seen %'),
		(SELECT count(*) FROM messages WHERE mailbox_id = m.id AND (' ' || flags || ' ') LIKE '% \Deleted %'),
		(SELECT COALESCE(sum(size), 0) FROM messages WHERE mailbox_id = m.id)
		FROM mailboxes m WHERE id = ?`, id).Scan(&st.UIDNext, &st.UIDValidity, &st.HighestModSeq, &st.Messages, &st.Unseen, &st.Deleted, &st.Size)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("mailbox status: %w", err)
	}
	return &st, nil
}
