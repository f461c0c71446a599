package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"govmail/internal/store"
)

const mailboxCols = `id, account_id, name, special_use, uidvalidity, uidnext, highest_modseq, subscribed`

func scanMailbox(row pgx.Row) (*store.Mailbox, error) {
	var m store.Mailbox
	var uv, next, ms int64
	err := row.Scan(&m.ID, &m.AccountID, &m.Name, &m.SpecialUse, &uv, &next, &ms, &m.Subscribed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("scan mailbox: %w", err)
	}
	m.UIDValidity, m.UIDNext, m.HighestModSeq = uint32(uv), uint32(next), uint64(ms)
	return &m, nil
}

// insertMailboxes creates folders in one statement and returns the ones made
// (a name that exists is left out). UIDVALIDITY must change when a name is
// reused; the clock in seconds plus the row id keeps it unique without a
// counter table, as in the SQLite store.
func (s *Store) insertMailboxes(ctx context.Context, tx pgx.Tx, accountID int64, names, specials []string) ([]store.Mailbox, error) {
	base := int64(uint32(s.clock.Now().Unix()))
	rows, err := tx.Query(ctx, `INSERT INTO mailboxes (id, account_id, name, special_use, uidvalidity)
		SELECT v.id, $1, v.name, v.special,
			CASE WHEN ($4::bigint + v.id) % 4294967296 = 0 THEN 1 ELSE ($4::bigint + v.id) % 4294967296 END
		FROM (SELECT nextval(pg_get_serial_sequence('mailboxes', 'id')) AS id, n.name, n.special
			FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS n(name, special, ord) ORDER BY n.ord) v
		ON CONFLICT (account_id, name) DO NOTHING
		RETURNING id, name, special_use, uidvalidity`, accountID, names, specials, base)
	if err != nil {
		return nil, fmt.Errorf("insert mailbox: %w", err)
	}
	defer rows.Close()
	var out []store.Mailbox
	for rows.Next() {
		m := store.Mailbox{AccountID: accountID, UIDNext: 1, HighestModSeq: 1, Subscribed: true}
		var uv int64
		if err := rows.Scan(&m.ID, &m.Name, &m.SpecialUse, &uv); err != nil {
			return nil, fmt.Errorf("insert mailbox: %w", err)
		}
		m.UIDValidity = uint32(uv)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		if isForeignKey(err) {
			return nil, fmt.Errorf("account %d: %w", accountID, store.ErrNotFound)
		}
		return nil, fmt.Errorf("insert mailbox: %w", err)
	}
	return out, nil
}

func (s *Store) insertMailbox(ctx context.Context, tx pgx.Tx, accountID int64, name, special string) (*store.Mailbox, error) {
	mbs, err := s.insertMailboxes(ctx, tx, accountID, []string{name}, []string{special})
	if err != nil {
		return nil, err
	}
	if len(mbs) == 0 {
		return nil, fmt.Errorf("mailbox %q: %w", name, store.ErrExists)
	}
	return &mbs[0], nil
}

// ListMailboxes lists an account's folders by name.
func (s *Store) ListMailboxes(ctx context.Context, accountID int64) ([]store.Mailbox, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+mailboxCols+` FROM mailboxes WHERE account_id = $1 ORDER BY name`, accountID)
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
	return scanMailbox(s.pool.QueryRow(ctx, `SELECT `+mailboxCols+` FROM mailboxes WHERE account_id = $1 AND name = $2`, accountID, store.CanonMailboxName(name)))
}

// CreateMailbox creates a folder.
func (s *Store) CreateMailbox(ctx context.Context, accountID int64, name, special string) (*store.Mailbox, error) {
	name = store.CanonMailboxName(name)
	if name == "" {
		return nil, fmt.Errorf("empty name: %w", store.ErrMailboxInvalid)
	}
	var m *store.Mailbox
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		var err error
		m, err = s.insertMailbox(ctx, tx, accountID, name, special)
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
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		if _, err := lockAccounts(ctx, tx, []int64{accountID}); err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `SELECT id FROM mailboxes WHERE account_id = $1 AND name = $2`, accountID, name).Scan(&id); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return store.ErrNotFound
			}
			return err
		}
		if _, err := s.expungeTx(ctx, tx, w, id, nil, true); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM mailboxes WHERE id = $1`, id); err != nil {
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
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		// The account's lock makes the existence checks below hold until commit.
		if _, err := lockAccounts(ctx, tx, []int64{accountID}); err != nil {
			return err
		}
		src, err := scanMailbox(tx.QueryRow(ctx, `SELECT `+mailboxCols+` FROM mailboxes WHERE account_id = $1 AND name = $2`, accountID, oldName))
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM mailboxes WHERE account_id = $1 AND name = $2`, accountID, newName).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("mailbox %q: %w", newName, store.ErrExists)
		}
		w.events = append(w.events, store.Event{Kind: store.EventMailboxes, AccountID: accountID})
		if oldName == "INBOX" {
			dst, err := s.insertMailbox(ctx, tx, accountID, newName, "")
			if err != nil {
				return err
			}
			uids, err := uidsTx(ctx, tx, src.ID)
			if err != nil {
				return err
			}
			_, err = s.copyTx(ctx, tx, w, src.ID, uids, dst.ID, true)
			return err
		}
		// A child that would collide makes the whole rename fail, as SQLite's
		// UNIQUE does; checked first because an error aborts the transaction.
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM mailboxes
			WHERE account_id = $3 AND name IN (SELECT $1::text || substr(name, length($2::text) + 1) FROM mailboxes
				WHERE account_id = $3 AND (name = $2::text OR substr(name, 1, length($2::text) + 1) = $2::text || '/'))`,
			newName, oldName, accountID).Scan(&n); err != nil {
			return fmt.Errorf("rename: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("rename: %w", store.ErrExists)
		}
		// length() and substr() count characters, so Vietnamese names split
		// where the name does.
		if _, err := tx.Exec(ctx, `UPDATE mailboxes SET name = $1::text || substr(name, length($2::text) + 1)
			WHERE account_id = $3 AND (name = $2::text OR substr(name, 1, length($2::text) + 1) = $2::text || '/')`,
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
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(ctx, `UPDATE mailboxes SET subscribed = $1 WHERE account_id = $2 AND name = $3`, sub, accountID, store.CanonMailboxName(name)))
	})
}

// MailboxStatus counts a folder. Flags are matched case-insensitively, as
// SQLite's LIKE does.
func (s *Store) MailboxStatus(ctx context.Context, id int64) (*store.MailboxStatus, error) {
	var st store.MailboxStatus
	var next, uv, ms int64
	var msgs, unseen, deleted int64
	err := s.pool.QueryRow(ctx, `SELECT uidnext, uidvalidity, highest_modseq,
		(SELECT count(*) FROM messages WHERE mailbox_id = m.id),
		(SELECT count(*) FROM messages WHERE mailbox_id = m.id AND position(' \seen ' in lower(' ' || flags || ' ')) = 0),
		(SELECT count(*) FROM messages WHERE mailbox_id = m.id AND position(' \deleted ' in lower(' ' || flags || ' ')) > 0),
		(SELECT COALESCE(sum(size), 0)::bigint FROM messages WHERE mailbox_id = m.id)
		FROM mailboxes m WHERE id = $1`, id).Scan(&next, &uv, &ms, &msgs, &unseen, &deleted, &st.Size)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("mailbox status: %w", err)
	}
	st.UIDNext, st.UIDValidity, st.HighestModSeq = uint32(next), uint32(uv), uint64(ms)
	st.Messages, st.Unseen, st.Deleted = uint32(msgs), uint32(unseen), uint32(deleted)
	return &st, nil
}
