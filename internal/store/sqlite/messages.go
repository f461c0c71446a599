package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"govmail/internal/store"
	"govmail/internal/textfold"
)

// preparedBlob is a body hashed, and for large ones written and synced to its file,
// before the writer's transaction: the slow part runs in the caller's goroutine.
type preparedBlob struct {
	hash   []byte
	size   int64
	inline []byte // nil when in a file
	text   string
}

func (s *Store) blobPath(hash []byte) string {
	h := hex.EncodeToString(hash)
	return filepath.Join(s.blobDir, h[:2], h)
}

func (s *Store) prepareBlob(msg *store.NewMessage) (*preparedBlob, error) {
	sum := sha256.Sum256(msg.Raw)
	pb := &preparedBlob{hash: sum[:], size: int64(len(msg.Raw)), text: msg.SearchText}
	if len(msg.Raw) <= s.inline {
		pb.inline = msg.Raw
		return pb, nil
	}
	path := s.blobPath(pb.hash)
	if fi, err := os.Stat(path); err == nil && fi.Size() == pb.size {
		return pb, nil // same content already on disk
	}
	if err := writeFileSync(path, msg.Raw); err != nil {
		return nil, full(fmt.Errorf("blob file: %w", err))
	}
	return pb, nil
}

// writeFileSync makes path durable: temp file, fsync, rename, fsync of the directory.
func writeFileSync(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// refBlob finds or inserts the blob and adds n references; it returns its id.
func refBlob(tx *sql.Tx, pb *preparedBlob, n int) (int64, error) {
	var id int64
	err := tx.QueryRow(`SELECT id FROM blobs WHERE hash = ?`, pb.hash).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		inFile := 0
		if pb.inline == nil {
			inFile = 1
		}
		res, err := tx.Exec(`INSERT INTO blobs (hash, size, refs, data, in_file) VALUES (?,?,?,?,?)`, pb.hash, pb.size, n, pb.inline, inFile)
		if err != nil {
			return 0, fmt.Errorf("insert blob: %w", err)
		}
		id, _ = res.LastInsertId()
		if pb.text != "" {
			if _, err := tx.Exec(`INSERT INTO blob_text (rowid, text) VALUES (?, ?)`, id, pb.text); err != nil {
				return 0, fmt.Errorf("index blob: %w", err)
			}
		}
		return id, nil
	case err != nil:
		return 0, fmt.Errorf("find blob: %w", err)
	}
	if _, err := tx.Exec(`UPDATE blobs SET refs = refs + ? WHERE id = ?`, n, id); err != nil {
		return 0, fmt.Errorf("ref blob: %w", err)
	}
	return id, nil
}

// unrefBlob drops one reference and deletes the blob when none is left
// (Điều 7.2: a revoked mailbox leaves no body behind that nobody else holds).
func (s *Store) unrefBlob(tx *sql.Tx, w *writeCtx, id int64) error {
	var refs int64
	var inFile int
	var hash []byte
	if err := tx.QueryRow(`UPDATE blobs SET refs = refs - 1 WHERE id = ? RETURNING refs, in_file, hash`, id).Scan(&refs, &inFile, &hash); err != nil {
		return fmt.Errorf("unref blob: %w", err)
	}
	if refs > 0 {
		return nil
	}
	if _, err := tx.Exec(`DELETE FROM blobs WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	if _, err := tx.Exec(`DELETE FROM blob_text WHERE rowid = ?`, id); err != nil {
		return fmt.Errorf("unindex blob: %w", err)
	}
	if inFile != 0 {
		w.deleteFiles = append(w.deleteFiles, s.blobPath(hash))
	}
	return nil
}

// insertMessage adds one message row; it bumps UIDNEXT and MODSEQ and usage.
func insertMessage(tx *sql.Tx, w *writeCtx, accountID, mailboxID, blobID int64, size int64, flags []string, date int64, meta []byte) (uint32, error) {
	var uid uint32
	var modseq uint64
	if err := tx.QueryRow(`UPDATE mailboxes SET uidnext = uidnext + 1, highest_modseq = highest_modseq + 1
		WHERE id = ? RETURNING uidnext - 1, highest_modseq`, mailboxID).Scan(&uid, &modseq); err != nil {
		return 0, fmt.Errorf("next uid: %w", err)
	}
	flags = store.NormFlags(flags)
	if _, err := tx.Exec(`INSERT INTO messages (mailbox_id, uid, blob_id, flags, modseq, size, internal_date, meta) VALUES (?,?,?,?,?,?,?,?)`,
		mailboxID, uid, blobID, store.JoinFlags(flags), modseq, size, date, meta); err != nil {
		return 0, fmt.Errorf("insert message: %w", err)
	}
	if _, err := tx.Exec(`UPDATE accounts SET used_bytes = used_bytes + ? WHERE id = ?`, size, accountID); err != nil {
		return 0, fmt.Errorf("usage: %w", err)
	}
	w.events = append(w.events, store.Event{Kind: store.EventAppend, AccountID: accountID, MailboxID: mailboxID, UID: uid, Flags: flags, ModSeq: modseq})
	return uid, nil
}

func (s *Store) insertLog(tx *sql.Tx, e *store.LogEntry) error {
	if e.Time.IsZero() {
		e.Time = s.clock.Now()
	}
	_, off := e.Time.Zone()
	res, err := tx.Exec(`INSERT INTO translog (time, time_offset, direction, proto, envelope_from, header_from, recipient,
		client_ip, size, message_id, auth_user, status, error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		e.Time.UnixMicro(), off, e.Direction, e.Proto, e.EnvelopeFrom, e.HeaderFrom, strings.ToLower(e.Recipient),
		e.ClientIP, e.Size, e.MessageID, e.AuthUser, e.Status, e.Error)
	if err != nil {
		return fmt.Errorf("insert log: %w", err)
	}
	e.ID, _ = res.LastInsertId()
	return nil
}

// Deliver stores msg once and adds it to every target, with the targets' log
// rows, in one transaction.
func (s *Store) Deliver(ctx context.Context, msg *store.NewMessage, targets []store.DeliveryTarget) ([]store.DeliveryOutcome, error) {
	pb, err := s.prepareBlob(msg)
	if err != nil {
		return nil, err
	}
	var out []store.DeliveryOutcome
	err = s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		out = make([]store.DeliveryOutcome, len(targets))
		var blobID int64
		for i, t := range targets {
			o := &out[i]
			mbName := t.Mailbox
			if mbName == "" {
				mbName = "INBOX"
			}
			var used, quota int64
			var state string
			err := tx.QueryRow(`SELECT a.used_bytes, a.quota_bytes, a.state, m.id FROM accounts a JOIN mailboxes m ON m.account_id = a.id
				WHERE a.id = ? AND m.name = ?`, t.AccountID, store.CanonMailboxName(mbName)).Scan(&used, &quota, &state, &o.MailboxID)
			switch {
			case errors.Is(err, sql.ErrNoRows) && mbName != "INBOX" && t.Create:
				err = tx.QueryRow(`SELECT used_bytes, quota_bytes, state FROM accounts WHERE id = ?`, t.AccountID).Scan(&used, &quota, &state)
				if err == nil && state != string(store.StateRevoked) {
					var mb *store.Mailbox
					if mb, err = s.insertMailbox(tx, t.AccountID, store.CanonMailboxName(mbName), ""); err == nil {
						o.MailboxID = mb.ID
					}
				}
			case errors.Is(err, sql.ErrNoRows) && mbName != "INBOX":
				// A filter named a folder the user removed: INBOX rather than a loss.
				err = tx.QueryRow(`SELECT a.used_bytes, a.quota_bytes, a.state, m.id FROM accounts a JOIN mailboxes m ON m.account_id = a.id
					WHERE a.id = ? AND m.name = 'INBOX'`, t.AccountID).Scan(&used, &quota, &state, &o.MailboxID)
			}
			if errors.Is(err, sql.ErrNoRows) || state == string(store.StateRevoked) {
				o.Err = store.ErrNotFound
			} else if err != nil {
				return fmt.Errorf("deliver target: %w", err)
			} else if !t.IgnoreQuota && used+pb.size > quota {
				o.Err = store.ErrQuotaExceeded
			}
			if o.Err == nil {
				if blobID == 0 {
					if blobID, err = refBlob(tx, pb, 0); err != nil {
						return err
					}
				}
				if _, err := tx.Exec(`UPDATE blobs SET refs = refs + 1 WHERE id = ?`, blobID); err != nil {
					return fmt.Errorf("ref blob: %w", err)
				}
				if o.UID, err = insertMessage(tx, w, t.AccountID, o.MailboxID, blobID, pb.size, t.Flags, store.Micros(msg.InternalDate), msg.Meta); err != nil {
					return err
				}
			}
			if t.Log != nil {
				e := t.LogFor(o.Err)
				if err := s.insertLog(tx, &e); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Append adds a message to one folder (IMAP APPEND), within quota.
func (s *Store) Append(ctx context.Context, mailboxID int64, msg *store.NewMessage, flags []string) (uint32, error) {
	pb, err := s.prepareBlob(msg)
	if err != nil {
		return 0, err
	}
	var uid uint32
	err = s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		var accountID, used, quota int64
		if err := tx.QueryRow(`SELECT a.id, a.used_bytes, a.quota_bytes FROM accounts a JOIN mailboxes m ON m.account_id = a.id WHERE m.id = ?`,
			mailboxID).Scan(&accountID, &used, &quota); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			}
			return fmt.Errorf("append: %w", err)
		}
		if used+pb.size > quota {
			return store.ErrQuotaExceeded
		}
		blobID, err := refBlob(tx, pb, 1)
		if err != nil {
			return err
		}
		uid, err = insertMessage(tx, w, accountID, mailboxID, blobID, pb.size, flags, store.Micros(msg.InternalDate), msg.Meta)
		return err
	})
	return uid, err
}

const messageCols = `uid, flags, modseq, size, internal_date, blob_id`

func scanMessages(rows *sql.Rows, withMeta bool) ([]store.Message, error) {
	defer rows.Close()
	var out []store.Message
	for rows.Next() {
		var m store.Message
		var flags string
		var date int64
		dst := []any{&m.UID, &flags, &m.ModSeq, &m.Size, &date, &m.BlobID}
		if withMeta {
			dst = append(dst, &m.Meta)
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("scan message: %w", err)
		}
		m.Flags, m.InternalDate = store.SplitFlags(flags), store.FromMicros(date)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Messages lists a folder in UID order together with its MODSEQ, read in one
// transaction so that the two agree.
func (s *Store) Messages(ctx context.Context, mailboxID int64, withMeta bool) ([]store.Message, uint64, error) {
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, fmt.Errorf("messages: %w", err)
	}
	defer tx.Rollback()
	var modseq uint64
	if err := tx.QueryRow(`SELECT highest_modseq FROM mailboxes WHERE id = ?`, mailboxID).Scan(&modseq); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, 0, store.ErrNotFound
		}
		return nil, 0, fmt.Errorf("messages: %w", err)
	}
	cols := messageCols
	if withMeta {
		cols += ", meta"
	}
	rows, err := tx.Query(`SELECT `+cols+` FROM messages WHERE mailbox_id = ? ORDER BY uid`, mailboxID)
	if err != nil {
		return nil, 0, fmt.Errorf("messages: %w", err)
	}
	msgs, err := scanMessages(rows, withMeta)
	return msgs, modseq, err
}

// MessagesByUID reads the given messages in UID order; missing UIDs are skipped.
func (s *Store) MessagesByUID(ctx context.Context, mailboxID int64, uids []uint32, withMeta bool) ([]store.Message, error) {
	if len(uids) == 0 {
		return nil, nil
	}
	cols := messageCols
	if withMeta {
		cols += ", meta"
	}
	// A contiguous run is one range scan; otherwise read the span and filter,
	// which is cheaper than an IN list of thousands of parameters.
	lo, hi := store.UIDSpan(uids)
	want := store.UIDSet(uids)
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+cols+` FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid`, mailboxID, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("messages by uid: %w", err)
	}
	msgs, err := scanMessages(rows, withMeta)
	if err != nil {
		return nil, err
	}
	if int(hi-lo)+1 == len(want) {
		return msgs, nil
	}
	out := msgs[:0]
	for _, m := range msgs {
		if want[m.UID] {
			out = append(out, m)
		}
	}
	return out, nil
}

// ReadBlob returns a body's exact bytes.
func (s *Store) ReadBlob(ctx context.Context, id int64) ([]byte, error) {
	var data, hash []byte
	var inFile int
	if err := s.rdb.QueryRowContext(ctx, `SELECT data, in_file, hash FROM blobs WHERE id = ?`, id).Scan(&data, &inFile, &hash); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		return nil, fmt.Errorf("read blob: %w", err)
	}
	if inFile == 0 {
		return data, nil
	}
	b, err := os.ReadFile(s.blobPath(hash))
	if err != nil {
		return nil, fmt.Errorf("read blob file: %w", err)
	}
	return b, nil
}

// StoreFlags changes flags and returns the messages whose flags changed.
func (s *Store) StoreFlags(ctx context.Context, mailboxID int64, uids []uint32, op store.FlagOp, flags []string) ([]store.Message, error) {
	flags = store.NormFlags(flags)
	var changed []store.Message
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		changed = changed[:0]
		var accountID int64
		if err := tx.QueryRow(`SELECT account_id FROM mailboxes WHERE id = ?`, mailboxID).Scan(&accountID); err != nil {
			return store.ErrNotFound
		}
		lo, hi := store.UIDSpan(uids)
		rows, err := tx.Query(`SELECT uid, flags FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid`, mailboxID, lo, hi)
		if err != nil {
			return fmt.Errorf("store flags: %w", err)
		}
		want := store.UIDSet(uids)
		type upd struct {
			uid   uint32
			flags []string
		}
		var todo []upd
		for rows.Next() {
			var uid uint32
			var fs string
			if err := rows.Scan(&uid, &fs); err != nil {
				rows.Close()
				return err
			}
			if !want[uid] {
				continue
			}
			nf := store.ApplyFlags(op, store.SplitFlags(fs), flags)
			if store.JoinFlags(nf) != fs {
				todo = append(todo, upd{uid, nf})
			}
		}
		rows.Close()
		for _, u := range todo {
			var modseq uint64
			if err := tx.QueryRow(`UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ? RETURNING highest_modseq`, mailboxID).Scan(&modseq); err != nil {
				return err
			}
			if _, err := tx.Exec(`UPDATE messages SET flags = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?`, store.JoinFlags(u.flags), modseq, mailboxID, u.uid); err != nil {
				return err
			}
			changed = append(changed, store.Message{UID: u.uid, Flags: u.flags, ModSeq: modseq})
			w.events = append(w.events, store.Event{Kind: store.EventFlags, AccountID: accountID, MailboxID: mailboxID, UID: u.uid, Flags: u.flags, ModSeq: modseq})
		}
		return nil
	})
	return changed, err
}

// uidsTx lists a mailbox's UIDs in order, inside the writer's transaction.
func uidsTx(tx *sql.Tx, mailboxID int64) ([]uint32, error) {
	rows, err := tx.Query(`SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid`, mailboxID)
	if err != nil {
		return nil, err
	}
	return scanUIDs(rows)
}

// copyTx copies uids into dst (quota checked on dst's account unless the copy
// stays in one account and is a move), optionally removing them from src.
func (s *Store) copyTx(tx *sql.Tx, w *writeCtx, src int64, uids []uint32, dst int64, move bool) ([]store.UIDPair, error) {
	var srcAcc, dstAcc, used, quota int64
	if err := tx.QueryRow(`SELECT account_id FROM mailboxes WHERE id = ?`, src).Scan(&srcAcc); err != nil {
		return nil, store.ErrNotFound
	}
	if err := tx.QueryRow(`SELECT a.id, a.used_bytes, a.quota_bytes FROM mailboxes m JOIN accounts a ON a.id = m.account_id WHERE m.id = ?`, dst).Scan(&dstAcc, &used, &quota); err != nil {
		return nil, store.ErrNotFound
	}
	want := store.UIDSet(uids)
	lo, hi := store.UIDSpan(uids)
	rows, err := tx.Query(`SELECT uid, blob_id, flags, size, internal_date, meta FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid`, src, lo, hi)
	if err != nil {
		return nil, err
	}
	type row struct {
		uid        uint32
		blob, size int64
		flags      string
		date       int64
		meta       []byte
	}
	var todo []row
	var total int64
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.uid, &r.blob, &r.flags, &r.size, &r.date, &r.meta); err != nil {
			rows.Close()
			return nil, err
		}
		if want[r.uid] {
			todo = append(todo, r)
			total += r.size
		}
	}
	rows.Close()
	if !(move && srcAcc == dstAcc) && used+total > quota {
		return nil, store.ErrQuotaExceeded
	}
	pairs := make([]store.UIDPair, 0, len(todo))
	for _, r := range todo {
		if _, err := tx.Exec(`UPDATE blobs SET refs = refs + 1 WHERE id = ?`, r.blob); err != nil {
			return nil, err
		}
		uid, err := insertMessage(tx, w, dstAcc, dst, r.blob, r.size, store.SplitFlags(r.flags), r.date, r.meta)
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, store.UIDPair{Src: r.uid, Dst: uid})
	}
	if move {
		moved := make([]uint32, len(todo))
		for i, r := range todo {
			moved[i] = r.uid
		}
		if _, err := s.expungeTx(tx, w, src, moved, false); err != nil {
			return nil, err
		}
	}
	return pairs, nil
}

// Copy copies messages between folders (the body is shared, not duplicated).
func (s *Store) Copy(ctx context.Context, src int64, uids []uint32, dst int64) ([]store.UIDPair, error) {
	var pairs []store.UIDPair
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		var err error
		pairs, err = s.copyTx(tx, w, src, uids, dst, false)
		return err
	})
	return pairs, err
}

// Move moves messages atomically.
func (s *Store) Move(ctx context.Context, src int64, uids []uint32, dst int64) ([]store.UIDPair, error) {
	var pairs []store.UIDPair
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		var err error
		pairs, err = s.copyTx(tx, w, src, uids, dst, true)
		return err
	})
	return pairs, err
}

// expungeTx removes messages: the given uids, or all \Deleted ones when uids is
// nil (or every message when all is set).
func (s *Store) expungeTx(tx *sql.Tx, w *writeCtx, mailboxID int64, uids []uint32, all bool) ([]uint32, error) {
	var accountID int64
	if err := tx.QueryRow(`SELECT account_id FROM mailboxes WHERE id = ?`, mailboxID).Scan(&accountID); err != nil {
		return nil, store.ErrNotFound
	}
	// Given UIDs bound the scan, so a POP3 DELE or a MOVE out of a large folder
	// reads only the span it touches.
	var want map[uint32]bool
	lo, hi := uint32(0), uint32(1<<32-1)
	if uids != nil {
		if len(uids) == 0 {
			return nil, nil
		}
		want = store.UIDSet(uids)
		lo, hi = store.UIDSpan(uids)
	}
	rows, err := tx.Query(`SELECT uid, blob_id, size, flags FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid`, mailboxID, lo, hi)
	if err != nil {
		return nil, err
	}
	type row struct {
		uid        uint32
		blob, size int64
	}
	var todo []row
	for rows.Next() {
		var r row
		var flags string
		if err := rows.Scan(&r.uid, &r.blob, &r.size, &flags); err != nil {
			rows.Close()
			return nil, err
		}
		switch {
		case all:
		case want != nil:
			if !want[r.uid] {
				continue
			}
		default:
			if !store.HasFlag(store.SplitFlags(flags), `\Deleted`) {
				continue
			}
		}
		todo = append(todo, r)
	}
	rows.Close()
	out := make([]uint32, 0, len(todo))
	var freed int64
	for _, r := range todo {
		if _, err := tx.Exec(`DELETE FROM messages WHERE mailbox_id = ? AND uid = ?`, mailboxID, r.uid); err != nil {
			return nil, err
		}
		if err := s.unrefBlob(tx, w, r.blob); err != nil {
			return nil, err
		}
		freed += r.size
		out = append(out, r.uid)
	}
	if len(todo) > 0 {
		var modseq uint64
		if err := tx.QueryRow(`UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ? RETURNING highest_modseq`, mailboxID).Scan(&modseq); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(`UPDATE accounts SET used_bytes = max(0, used_bytes - ?) WHERE id = ?`, freed, accountID); err != nil {
			return nil, err
		}
		for _, u := range out {
			w.events = append(w.events, store.Event{Kind: store.EventExpunge, AccountID: accountID, MailboxID: mailboxID, UID: u, ModSeq: modseq})
		}
	}
	return out, nil
}

// Expunge removes messages for good.
func (s *Store) Expunge(ctx context.Context, mailboxID int64, uids []uint32) ([]uint32, error) {
	var out []uint32
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		var err error
		out, err = s.expungeTx(tx, w, mailboxID, uids, false)
		return err
	})
	return out, err
}

// ftsQuery turns a user's words into an FTS5 query: every folded word must be
// present, each as a prefix, so "bao ca" finds "Báo cáo" and "bao thang" finds
// "Báo cáo tháng 11".
func ftsQuery(q string) string {
	words := strings.Fields(textfold.Search(q))
	if len(words) == 0 {
		return ""
	}
	for i, w := range words {
		words[i] = `"` + w + `"*`
	}
	return strings.Join(words, " AND ")
}

// SearchText finds messages whose folded text holds the folded query.
func (s *Store) SearchText(ctx context.Context, mailboxID int64, query string) ([]uint32, error) {
	fq := ftsQuery(query)
	if fq == "" {
		// An empty or punctuation-only query matches everything, as a substring search would.
		rows, err := s.rdb.QueryContext(ctx, `SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid`, mailboxID)
		if err != nil {
			return nil, err
		}
		return scanUIDs(rows)
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT m.uid FROM messages m WHERE m.mailbox_id = ? AND m.blob_id IN
		(SELECT rowid FROM blob_text WHERE blob_text MATCH ?) ORDER BY m.uid`, mailboxID, fq)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return scanUIDs(rows)
}

func scanUIDs(rows *sql.Rows) ([]uint32, error) {
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var u uint32
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
