package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"govmail/internal/store"
	"govmail/internal/textfold"
)

// maxIndexText bounds the text indexed per body. PostgreSQL refuses a
// tsvector over 1 MB; 300 KB of folded words stays under it whatever the words
// (mailparse already keeps SearchText under 256 KB plus the headers).
const maxIndexText = 300 << 10

// preparedBlob is a body hashed and its text folded before the transaction:
// the slow part runs outside it.
type preparedBlob struct {
	hash []byte
	size int64
	data []byte
	text string
}

func prepareBlob(msg *store.NewMessage) *preparedBlob {
	sum := sha256.Sum256(msg.Raw)
	return &preparedBlob{hash: sum[:], size: int64(len(msg.Raw)), data: msg.Raw, text: indexText(msg.SearchText)}
}

// indexText is what is indexed of a SearchText. Folding again is idempotent
// for callers that folded already, and leaves PostgreSQL's parser only words
// and spaces, as FTS5 sees them.
func indexText(searchText string) string {
	text := textfold.Search(searchText)
	if len(text) > maxIndexText {
		text = text[:maxIndexText]
		if i := strings.LastIndexByte(text, ' '); i > 0 {
			text = text[:i]
		}
	}
	return text
}

// IndexBlob (re)indexes a stored body's search text in tx. govmail migrate
// uses it: SQLite's index keeps no text to copy, so it is rebuilt from bodies.
func IndexBlob(ctx context.Context, tx pgx.Tx, blobID int64, searchText string) error {
	text := indexText(searchText)
	if text == "" {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO blob_text (blob_id, tsv) VALUES ($1, to_tsvector('simple', $2::text))
		ON CONFLICT (blob_id) DO UPDATE SET tsv = EXCLUDED.tsv`, blobID, text); err != nil {
		return fmt.Errorf("index blob %d: %w", blobID, err)
	}
	return nil
}

// refBlob finds or inserts the blob and adds n references; it returns its id.
// The upsert makes two nodes storing the same new body agree on one row.
func refBlob(ctx context.Context, tx pgx.Tx, pb *preparedBlob, n int) (int64, error) {
	var id int64
	// A large body is looked for first so that a duplicate is not sent again.
	if pb.size > 64<<10 {
		err := tx.QueryRow(ctx, `UPDATE blobs SET refs = refs + $2 WHERE hash = $1 RETURNING id`, pb.hash, n).Scan(&id)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return 0, fmt.Errorf("ref blob: %w", err)
		}
	}
	var inserted bool
	err := tx.QueryRow(ctx, `INSERT INTO blobs (hash, size, refs, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (hash) DO UPDATE SET refs = blobs.refs + EXCLUDED.refs
		RETURNING id, xmax = 0`, pb.hash, pb.size, n, pb.data).Scan(&id, &inserted)
	if err != nil {
		return 0, fmt.Errorf("insert blob: %w", err)
	}
	if inserted && pb.text != "" {
		if _, err := tx.Exec(ctx, `INSERT INTO blob_text (blob_id, tsv) VALUES ($1, to_tsvector('simple', $2::text))`, id, pb.text); err != nil {
			return 0, fmt.Errorf("index blob: %w", err)
		}
	}
	return id, nil
}

// unrefBlobs drops one reference per id (an id may repeat) and deletes the
// blobs none is left of (Điều 7.2: a revoked mailbox leaves no body behind
// that nobody else holds). Rows are locked in id order, the lock order's
// last step.
func unrefBlobs(ctx context.Context, tx pgx.Tx, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	uniq, counts := countIDs(ids)
	if len(uniq) > 1 {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM blobs WHERE id = ANY($1) ORDER BY id FOR UPDATE`, uniq); err != nil {
			return fmt.Errorf("lock blobs: %w", err)
		}
	}
	rows, err := tx.Query(ctx, `UPDATE blobs b SET refs = b.refs - d.n FROM unnest($1::bigint[], $2::bigint[]) AS d(id, n)
		WHERE b.id = d.id RETURNING b.id, b.refs`, uniq, counts)
	if err != nil {
		return fmt.Errorf("unref blob: %w", err)
	}
	var gone []int64
	for rows.Next() {
		var id, refs int64
		if err := rows.Scan(&id, &refs); err != nil {
			rows.Close()
			return fmt.Errorf("unref blob: %w", err)
		}
		if refs <= 0 {
			gone = append(gone, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("unref blob: %w", err)
	}
	if len(gone) > 0 {
		// blob_text rows go with them (ON DELETE CASCADE).
		if _, err := tx.Exec(ctx, `DELETE FROM blobs WHERE id = ANY($1)`, gone); err != nil {
			return fmt.Errorf("delete blob: %w", err)
		}
	}
	return nil
}

// countIDs is ids sorted without repeats (the lock order of blob rows) with
// how many times each appears, leaving ids as they are.
func countIDs(ids []int64) (uniq, counts []int64) {
	for _, id := range slices.Sorted(slices.Values(ids)) {
		if len(uniq) > 0 && uniq[len(uniq)-1] == id {
			counts[len(counts)-1]++
			continue
		}
		uniq = append(uniq, id)
		counts = append(counts, 1)
	}
	return uniq, counts
}

// newRow is a message about to be inserted.
type newRow struct {
	blob, size, date int64
	flags            []string
	meta             []byte
}

// insertMessages adds rows to one mailbox in one statement: it allocates their
// UIDs and modseqs by updating the mailbox row (which locks it until commit,
// so UIDs are handed out in commit order, whichever node writes) and adds
// their sizes to the account's usage. It returns the UIDs in order.
func insertMessages(ctx context.Context, tx pgx.Tx, w *writeCtx, accountID, mailboxID int64, msgs []newRow) ([]uint32, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	n := int64(len(msgs))
	blobs := make([]int64, n)
	flags := make([]string, n)
	sizes := make([]int64, n)
	dates := make([]int64, n)
	metas := make([][]byte, n)
	var total int64
	for i := range msgs {
		msgs[i].flags = store.NormFlags(msgs[i].flags)
		blobs[i], flags[i], sizes[i], dates[i], metas[i] = msgs[i].blob, store.JoinFlags(msgs[i].flags), msgs[i].size, msgs[i].date, msgs[i].meta
		total += msgs[i].size
	}
	var uid0, ms0 int64
	err := tx.QueryRow(ctx, `WITH mb AS (
			UPDATE mailboxes SET uidnext = uidnext + $2, highest_modseq = highest_modseq + $2
			WHERE id = $1 RETURNING uidnext - $2 AS uid0, highest_modseq - $2 AS ms0),
		ins AS (
			INSERT INTO messages (mailbox_id, uid, blob_id, flags, modseq, size, internal_date, meta)
			SELECT $1, mb.uid0 + m.ord - 1, m.blob, m.flags, mb.ms0 + m.ord, m.size, m.date, m.meta
			FROM mb, unnest($3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::bytea[]) WITH ORDINALITY AS m(blob, flags, size, date, meta, ord)),
		acc AS (
			UPDATE accounts SET used_bytes = used_bytes + $8 WHERE id = $9 AND EXISTS (SELECT 1 FROM mb))
		SELECT uid0, ms0 FROM mb`, mailboxID, n, blobs, flags, sizes, dates, metas, total, accountID).Scan(&uid0, &ms0)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("insert message: %w", err)
	}
	uids := make([]uint32, n)
	for i := range msgs {
		uids[i] = uint32(uid0 + int64(i))
		w.events = append(w.events, store.Event{Kind: store.EventAppend, AccountID: accountID, MailboxID: mailboxID,
			UID: uids[i], Flags: msgs[i].flags, ModSeq: uint64(ms0 + int64(i) + 1)})
	}
	return uids, nil
}

func (s *Store) insertLog(ctx context.Context, q querier, e *store.LogEntry) error {
	if e.Time.IsZero() {
		e.Time = s.clock.Now()
	}
	_, off := e.Time.Zone()
	err := q.QueryRow(ctx, `INSERT INTO translog (time, time_offset, direction, proto, envelope_from, header_from, recipient,
		client_ip, size, message_id, auth_user, status, error) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING id`,
		e.Time.UnixMicro(), off, clean(e.Direction), clean(e.Proto), clean(e.EnvelopeFrom), clean(e.HeaderFrom), clean(strings.ToLower(e.Recipient)),
		clean(e.ClientIP), e.Size, clean(e.MessageID), clean(e.AuthUser), clean(e.Status), clean(e.Error)).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("insert log: %w", err)
	}
	return nil
}

// Deliver stores msg once and adds it to every target, with the targets' log
// rows, in one transaction.
func (s *Store) Deliver(ctx context.Context, msg *store.NewMessage, targets []store.DeliveryTarget) ([]store.DeliveryOutcome, error) {
	pb := prepareBlob(msg)
	var out []store.DeliveryOutcome
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		out = make([]store.DeliveryOutcome, len(targets))
		ids := make([]int64, 0, len(targets))
		for _, t := range targets {
			ids = append(ids, t.AccountID)
		}
		// Quota and state are read under the accounts' locks: two nodes
		// delivering to one account cannot both fit in the last free bytes.
		accts, err := lockAccounts(ctx, tx, ids)
		if err != nil {
			return err
		}
		var blobID int64
		extraRefs := 0
		for i, t := range targets {
			o := &out[i]
			a := accts[t.AccountID]
			if a == nil || a.state == string(store.StateRevoked) {
				o.Err = store.ErrNotFound
			} else if o.MailboxID, err = s.deliveryMailbox(ctx, tx, t); err != nil {
				if !errors.Is(err, store.ErrNotFound) {
					return err
				}
				o.Err = store.ErrNotFound
			} else if !t.IgnoreQuota && a.used+pb.size > a.quota {
				o.Err = store.ErrQuotaExceeded
			}
			if o.Err == nil {
				if blobID == 0 {
					if blobID, err = refBlob(ctx, tx, pb, 1); err != nil {
						return err
					}
				} else {
					extraRefs++
				}
				uids, err := insertMessages(ctx, tx, w, t.AccountID, o.MailboxID, []newRow{{blob: blobID, size: pb.size, date: store.Micros(msg.InternalDate), flags: t.Flags, meta: msg.Meta}})
				if err != nil {
					return err
				}
				o.UID = uids[0]
				a.used += pb.size
			}
			if t.Log != nil {
				e := t.LogFor(o.Err)
				if err := s.insertLog(ctx, tx, &e); err != nil {
					return err
				}
			}
		}
		if extraRefs > 0 {
			if _, err := tx.Exec(ctx, `UPDATE blobs SET refs = refs + $1 WHERE id = $2`, extraRefs, blobID); err != nil {
				return fmt.Errorf("ref blob: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// deliveryMailbox finds the folder a target names: made when asked to
// (the hidden quarantine folder), else INBOX when it is gone (a filter named a
// folder the user removed: INBOX rather than a loss).
func (s *Store) deliveryMailbox(ctx context.Context, tx pgx.Tx, t store.DeliveryTarget) (int64, error) {
	name := store.CanonMailboxName(t.Mailbox)
	if name == "" {
		name = "INBOX"
	}
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM mailboxes WHERE account_id = $1 AND name = $2`, t.AccountID, name).Scan(&id)
	switch {
	case err == nil:
		return id, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return 0, fmt.Errorf("deliver target: %w", err)
	case name == "INBOX":
		return 0, store.ErrNotFound
	case t.Create:
		// The account is locked, so nobody creates it meanwhile on this
		// account; insertMailboxes skips a name that exists anyway.
		mbs, err := s.insertMailboxes(ctx, tx, t.AccountID, []string{name}, []string{""})
		if err != nil {
			return 0, err
		}
		if len(mbs) == 1 {
			return mbs[0].ID, nil
		}
		return 0, store.ErrNotFound
	}
	err = tx.QueryRow(ctx, `SELECT id FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'`, t.AccountID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, store.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("deliver target: %w", err)
	}
	return id, nil
}

// Append adds a message to one folder (IMAP APPEND), within quota.
func (s *Store) Append(ctx context.Context, mailboxID int64, msg *store.NewMessage, flags []string) (uint32, error) {
	pb := prepareBlob(msg)
	var uid uint32
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		var accountID int64
		if err := tx.QueryRow(ctx, `SELECT account_id FROM mailboxes WHERE id = $1`, mailboxID).Scan(&accountID); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return store.ErrNotFound
			}
			return fmt.Errorf("append: %w", err)
		}
		accts, err := lockAccounts(ctx, tx, []int64{accountID})
		if err != nil {
			return err
		}
		a := accts[accountID]
		if a == nil {
			return store.ErrNotFound
		}
		if a.used+pb.size > a.quota {
			return store.ErrQuotaExceeded
		}
		blobID, err := refBlob(ctx, tx, pb, 1)
		if err != nil {
			return err
		}
		uids, err := insertMessages(ctx, tx, w, accountID, mailboxID, []newRow{{blob: blobID, size: pb.size, date: store.Micros(msg.InternalDate), flags: flags, meta: msg.Meta}})
		if err != nil {
			return err
		}
		uid = uids[0]
		return nil
	})
	return uid, err
}

const messageCols = `uid, flags, modseq, size, internal_date, blob_id`

func scanMessages(rows pgx.Rows, withMeta bool) ([]store.Message, error) {
	defer rows.Close()
	var out []store.Message
	for rows.Next() {
		var m store.Message
		var flags string
		var uid, modseq, date int64
		dst := []any{&uid, &flags, &modseq, &m.Size, &date, &m.BlobID}
		if withMeta {
			dst = append(dst, &m.Meta)
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("scan message: %w", err)
		}
		m.UID, m.ModSeq = uint32(uid), uint64(modseq)
		m.Flags, m.InternalDate = store.SplitFlags(flags), store.FromMicros(date)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Messages lists a folder in UID order together with its MODSEQ, read in one
// snapshot so that the two agree.
func (s *Store) Messages(ctx context.Context, mailboxID int64, withMeta bool) ([]store.Message, uint64, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, 0, fmt.Errorf("messages: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var modseq int64
	if err := tx.QueryRow(ctx, `SELECT highest_modseq FROM mailboxes WHERE id = $1`, mailboxID).Scan(&modseq); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, 0, store.ErrNotFound
		}
		return nil, 0, fmt.Errorf("messages: %w", err)
	}
	cols := messageCols
	if withMeta {
		cols += ", meta"
	}
	rows, err := tx.Query(ctx, `SELECT `+cols+` FROM messages WHERE mailbox_id = $1 ORDER BY uid`, mailboxID)
	if err != nil {
		return nil, 0, fmt.Errorf("messages: %w", err)
	}
	msgs, err := scanMessages(rows, withMeta)
	return msgs, uint64(modseq), err
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
	// which is cheaper than an array of thousands of UIDs.
	lo, hi := store.UIDSpan(uids)
	want := store.UIDSet(uids)
	rows, err := s.pool.Query(ctx, `SELECT `+cols+` FROM messages WHERE mailbox_id = $1 AND uid BETWEEN $2 AND $3 ORDER BY uid`, mailboxID, int64(lo), int64(hi))
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
	var data []byte
	if err := s.pool.QueryRow(ctx, `SELECT data FROM blobs WHERE id = $1`, id).Scan(&data); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		return nil, fmt.Errorf("read blob: %w", err)
	}
	return data, nil
}

// lockMailbox takes a mailbox's row lock, after its account's (the lock
// order), so that what is read next stays true until commit.
func lockMailbox(ctx context.Context, tx pgx.Tx, mailboxID int64, withAccount bool) (int64, error) {
	var accountID int64
	if err := tx.QueryRow(ctx, `SELECT account_id FROM mailboxes WHERE id = $1`, mailboxID).Scan(&accountID); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, store.ErrNotFound
		}
		return 0, err
	}
	if withAccount {
		if _, err := lockAccounts(ctx, tx, []int64{accountID}); err != nil {
			return 0, err
		}
	}
	if err := tx.QueryRow(ctx, `SELECT account_id FROM mailboxes WHERE id = $1 FOR UPDATE`, mailboxID).Scan(&accountID); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, store.ErrNotFound
		}
		return 0, err
	}
	return accountID, nil
}

// StoreFlags changes flags and returns the messages whose flags changed.
func (s *Store) StoreFlags(ctx context.Context, mailboxID int64, uids []uint32, op store.FlagOp, flags []string) ([]store.Message, error) {
	flags = store.NormFlags(flags)
	var changed []store.Message
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		changed = nil
		accountID, err := lockMailbox(ctx, tx, mailboxID, false)
		if err != nil {
			return err
		}
		if len(uids) == 0 {
			return nil
		}
		lo, hi := store.UIDSpan(uids)
		rows, err := tx.Query(ctx, `SELECT uid, flags FROM messages WHERE mailbox_id = $1 AND uid BETWEEN $2 AND $3 ORDER BY uid`,
			mailboxID, int64(lo), int64(hi))
		if err != nil {
			return fmt.Errorf("store flags: %w", err)
		}
		want := store.UIDSet(uids)
		var todoUIDs []int64
		var todoFlags []string
		var todoSets [][]string
		for rows.Next() {
			var uid int64
			var fs string
			if err := rows.Scan(&uid, &fs); err != nil {
				rows.Close()
				return err
			}
			if !want[uint32(uid)] {
				continue
			}
			nf := store.ApplyFlags(op, store.SplitFlags(fs), flags)
			if store.JoinFlags(nf) != fs {
				todoUIDs = append(todoUIDs, uid)
				todoFlags = append(todoFlags, store.JoinFlags(nf))
				todoSets = append(todoSets, nf)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store flags: %w", err)
		}
		if len(todoUIDs) == 0 {
			return nil
		}
		// One modseq per changed message, in UID order, as one update each
		// would give.
		var ms0 int64
		if err := tx.QueryRow(ctx, `UPDATE mailboxes SET highest_modseq = highest_modseq + $2 WHERE id = $1 RETURNING highest_modseq - $2`,
			mailboxID, int64(len(todoUIDs))).Scan(&ms0); err != nil {
			return fmt.Errorf("store flags: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE messages m SET flags = u.flags, modseq = $2::bigint + u.ord
			FROM unnest($3::bigint[], $4::text[]) WITH ORDINALITY AS u(uid, flags, ord)
			WHERE m.mailbox_id = $1 AND m.uid = u.uid`, mailboxID, ms0, todoUIDs, todoFlags); err != nil {
			return fmt.Errorf("store flags: %w", err)
		}
		for i, uid := range todoUIDs {
			ms := uint64(ms0 + int64(i) + 1)
			changed = append(changed, store.Message{UID: uint32(uid), Flags: todoSets[i], ModSeq: ms})
			w.events = append(w.events, store.Event{Kind: store.EventFlags, AccountID: accountID, MailboxID: mailboxID, UID: uint32(uid), Flags: todoSets[i], ModSeq: ms})
		}
		return nil
	})
	return changed, err
}

func uidsTx(ctx context.Context, tx pgx.Tx, mailboxID int64) ([]uint32, error) {
	rows, err := tx.Query(ctx, `SELECT uid FROM messages WHERE mailbox_id = $1 ORDER BY uid`, mailboxID)
	if err != nil {
		return nil, err
	}
	return scanUIDs(rows)
}

// copyTx copies uids into dst (quota checked on dst's account unless the copy
// stays in one account and is a move), optionally removing them from src.
func (s *Store) copyTx(ctx context.Context, tx pgx.Tx, w *writeCtx, src int64, uids []uint32, dst int64, move bool) ([]store.UIDPair, error) {
	var srcAcc, dstAcc int64
	if err := tx.QueryRow(ctx, `SELECT account_id FROM mailboxes WHERE id = $1`, src).Scan(&srcAcc); err != nil {
		return nil, store.ErrNotFound
	}
	if err := tx.QueryRow(ctx, `SELECT account_id FROM mailboxes WHERE id = $1`, dst).Scan(&dstAcc); err != nil {
		return nil, store.ErrNotFound
	}
	accts, err := lockAccounts(ctx, tx, []int64{srcAcc, dstAcc})
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM mailboxes WHERE id = ANY($1) ORDER BY id FOR UPDATE`, []int64{src, dst}); err != nil {
		return nil, fmt.Errorf("lock mailboxes: %w", err)
	}
	da := accts[dstAcc]
	if da == nil || accts[srcAcc] == nil {
		return nil, store.ErrNotFound
	}
	if len(uids) == 0 {
		return []store.UIDPair{}, nil
	}
	want := store.UIDSet(uids)
	lo, hi := store.UIDSpan(uids)
	rows, err := tx.Query(ctx, `SELECT uid, blob_id, flags, size, internal_date, meta FROM messages WHERE mailbox_id = $1 AND uid BETWEEN $2 AND $3 ORDER BY uid`,
		src, int64(lo), int64(hi))
	if err != nil {
		return nil, err
	}
	var todo []newRow
	var srcUIDs []uint32
	var total int64
	for rows.Next() {
		var r newRow
		var uid int64
		var flags string
		if err := rows.Scan(&uid, &r.blob, &flags, &r.size, &r.date, &r.meta); err != nil {
			rows.Close()
			return nil, err
		}
		if want[uint32(uid)] {
			r.flags = store.SplitFlags(flags)
			todo = append(todo, r)
			srcUIDs = append(srcUIDs, uint32(uid))
			total += r.size
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !(move && srcAcc == dstAcc) && da.used+total > da.quota {
		return nil, store.ErrQuotaExceeded
	}
	if len(todo) == 0 {
		return []store.UIDPair{}, nil
	}
	blobs := make([]int64, len(todo))
	for i, r := range todo {
		blobs[i] = r.blob
	}
	if err := refBlobs(ctx, tx, blobs); err != nil {
		return nil, err
	}
	newUIDs, err := insertMessages(ctx, tx, w, dstAcc, dst, todo)
	if err != nil {
		return nil, err
	}
	da.used += total
	pairs := make([]store.UIDPair, len(todo))
	for i := range todo {
		pairs[i] = store.UIDPair{Src: srcUIDs[i], Dst: newUIDs[i]}
	}
	if move {
		if _, err := s.expungeTx(ctx, tx, w, src, srcUIDs, false); err != nil {
			return nil, err
		}
	}
	return pairs, nil
}

// refBlobs adds one reference per id (ids may repeat), in id order.
func refBlobs(ctx context.Context, tx pgx.Tx, ids []int64) error {
	uniq, counts := countIDs(ids)
	if len(uniq) > 1 {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM blobs WHERE id = ANY($1) ORDER BY id FOR UPDATE`, uniq); err != nil {
			return fmt.Errorf("lock blobs: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE blobs b SET refs = b.refs + d.n FROM unnest($1::bigint[], $2::bigint[]) AS d(id, n) WHERE b.id = d.id`, uniq, counts); err != nil {
		return fmt.Errorf("ref blobs: %w", err)
	}
	return nil
}

// Copy copies messages between folders (the body is shared, not duplicated).
func (s *Store) Copy(ctx context.Context, src int64, uids []uint32, dst int64) ([]store.UIDPair, error) {
	var pairs []store.UIDPair
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		var err error
		pairs, err = s.copyTx(ctx, tx, w, src, uids, dst, false)
		return err
	})
	return pairs, err
}

// Move moves messages atomically.
func (s *Store) Move(ctx context.Context, src int64, uids []uint32, dst int64) ([]store.UIDPair, error) {
	var pairs []store.UIDPair
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		var err error
		pairs, err = s.copyTx(ctx, tx, w, src, uids, dst, true)
		return err
	})
	return pairs, err
}

// expungeTx removes messages: the given uids, or all \Deleted ones when uids is
// nil (or every message when all is set).
func (s *Store) expungeTx(ctx context.Context, tx pgx.Tx, w *writeCtx, mailboxID int64, uids []uint32, all bool) ([]uint32, error) {
	accountID, err := lockMailbox(ctx, tx, mailboxID, true)
	if err != nil {
		return nil, err
	}
	// Given UIDs bound the scan, so a POP3 DELE or a MOVE out of a large folder
	// reads only the span it touches.
	var want map[uint32]bool
	lo, hi := int64(0), int64(1<<32-1)
	if uids != nil {
		if len(uids) == 0 {
			return nil, nil
		}
		want = store.UIDSet(uids)
		l, h := store.UIDSpan(uids)
		lo, hi = int64(l), int64(h)
	}
	rows, err := tx.Query(ctx, `SELECT uid, blob_id, size, flags FROM messages WHERE mailbox_id = $1 AND uid BETWEEN $2 AND $3 ORDER BY uid`, mailboxID, lo, hi)
	if err != nil {
		return nil, err
	}
	var out []uint32
	var gone, blobs []int64
	var freed int64
	for rows.Next() {
		var uid, blob, size int64
		var flags string
		if err := rows.Scan(&uid, &blob, &size, &flags); err != nil {
			rows.Close()
			return nil, err
		}
		switch {
		case all:
		case want != nil:
			if !want[uint32(uid)] {
				continue
			}
		default:
			if !store.HasFlag(store.SplitFlags(flags), `\Deleted`) {
				continue
			}
		}
		out = append(out, uint32(uid))
		gone = append(gone, uid)
		blobs = append(blobs, blob)
		freed += size
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return []uint32{}, nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM messages WHERE mailbox_id = $1 AND uid = ANY($2)`, mailboxID, gone); err != nil {
		return nil, err
	}
	if err := unrefBlobs(ctx, tx, blobs); err != nil {
		return nil, err
	}
	var modseq int64
	if err := tx.QueryRow(ctx, `UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = $1 RETURNING highest_modseq`, mailboxID).Scan(&modseq); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE accounts SET used_bytes = GREATEST(0, used_bytes - $1) WHERE id = $2`, freed, accountID); err != nil {
		return nil, err
	}
	for _, u := range out {
		w.events = append(w.events, store.Event{Kind: store.EventExpunge, AccountID: accountID, MailboxID: mailboxID, UID: u, ModSeq: uint64(modseq)})
	}
	return out, nil
}

// Expunge removes messages for good.
func (s *Store) Expunge(ctx context.Context, mailboxID int64, uids []uint32) ([]uint32, error) {
	var out []uint32
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		var err error
		out, err = s.expungeTx(ctx, tx, w, mailboxID, uids, false)
		return err
	})
	return out, err
}

// tsQuery turns a user's words into a tsquery: every folded word must be
// present, each as a prefix, so "bao ca" finds "Báo cáo" and "bao thang"
// finds "Báo cáo tháng 11" (the same rule as the SQLite store's FTS5 query).
// ok is false when a word is longer than PostgreSQL indexes: nothing holds it.
func tsQuery(q string) (query string, ok bool) {
	words := strings.Fields(textfold.Search(q))
	for i, w := range words {
		if len(w) >= 2047 {
			return "", false
		}
		words[i] = `'` + strings.ReplaceAll(strings.ReplaceAll(w, `\`, `\\`), `'`, `''`) + `':*`
	}
	return strings.Join(words, " & "), true
}

// SearchText finds messages whose folded text holds the folded query.
func (s *Store) SearchText(ctx context.Context, mailboxID int64, query string) ([]uint32, error) {
	tq, ok := tsQuery(query)
	if !ok {
		return nil, nil
	}
	if tq == "" {
		// An empty or punctuation-only query matches everything, as a substring search would.
		rows, err := s.pool.Query(ctx, `SELECT uid FROM messages WHERE mailbox_id = $1 ORDER BY uid`, mailboxID)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		return scanUIDs(rows)
	}
	rows, err := s.pool.Query(ctx, `SELECT m.uid FROM messages m JOIN blob_text t ON t.blob_id = m.blob_id
		WHERE m.mailbox_id = $1 AND t.tsv @@ to_tsquery('simple', $2) ORDER BY m.uid`, mailboxID, tq)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return scanUIDs(rows)
}

func scanUIDs(rows pgx.Rows) ([]uint32, error) {
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var u int64
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, uint32(u))
	}
	return out, rows.Err()
}
