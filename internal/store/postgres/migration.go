package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"govmail/internal/store"
)

var _ store.MigrationStore = (*Store)(nil)

// Import state (`govmail import`). Writers that touch a folder's state lock its
// import_folders row first, before the accounts and mailboxes rows of the lock
// order, so that two nodes importing one folder take turns.

const importFolderCols = `id, account_id, source, folder, mailbox_id, uidvalidity, uidnext, last_uid, highest_modseq, synced_at`

func scanImportFolder(row pgx.Row) (*store.ImportFolder, error) {
	var f store.ImportFolder
	var uv, next, last, ms, synced int64
	err := row.Scan(&f.ID, &f.AccountID, &f.Source, &f.Folder, &f.MailboxID, &uv, &next, &last, &ms, &synced)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("scan import folder: %w", err)
	}
	f.UIDValidity, f.UIDNext, f.LastUID, f.HighestModSeq = uint32(uv), uint32(next), uint32(last), uint64(ms)
	f.SyncedAt = store.FromMicros(synced)
	return &f, nil
}

// ImportFolder reads one folder's sync state.
func (s *Store) ImportFolder(ctx context.Context, accountID int64, source, folder string) (*store.ImportFolder, error) {
	return scanImportFolder(s.pool.QueryRow(ctx, `SELECT `+importFolderCols+` FROM import_folders
		WHERE account_id = $1 AND source = $2 AND folder = $3`, accountID, source, folder))
}

// ImportFolders lists an account's folder states from one source.
func (s *Store) ImportFolders(ctx context.Context, accountID int64, source string) ([]store.ImportFolder, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+importFolderCols+` FROM import_folders
		WHERE account_id = $1 AND source = $2 ORDER BY folder COLLATE "C"`, accountID, source)
	if err != nil {
		return nil, fmt.Errorf("import folders: %w", err)
	}
	defer rows.Close()
	var out []store.ImportFolder
	for rows.Next() {
		f, err := scanImportFolder(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *f)
	}
	return out, rows.Err()
}

// SaveImportFolder upserts a state. LastUID only grows while UIDVALIDITY stays:
// AppendImported raises it in its own transactions and a caller's older copy
// must not take it back.
func (s *Store) SaveImportFolder(ctx context.Context, f *store.ImportFolder) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		var last int64
		err := tx.QueryRow(ctx, `INSERT INTO import_folders (account_id, source, folder, mailbox_id, uidvalidity, uidnext, last_uid, highest_modseq, synced_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
			ON CONFLICT (account_id, source, folder) DO UPDATE SET
			  mailbox_id = EXCLUDED.mailbox_id,
			  last_uid = CASE WHEN import_folders.uidvalidity = EXCLUDED.uidvalidity THEN GREATEST(import_folders.last_uid, EXCLUDED.last_uid) ELSE EXCLUDED.last_uid END,
			  uidvalidity = EXCLUDED.uidvalidity,
			  uidnext = EXCLUDED.uidnext,
			  highest_modseq = EXCLUDED.highest_modseq,
			  synced_at = EXCLUDED.synced_at
			RETURNING id, last_uid`,
			f.AccountID, clean(f.Source), clean(f.Folder), f.MailboxID, int64(f.UIDValidity), int64(f.UIDNext), int64(f.LastUID),
			int64(f.HighestModSeq), store.Micros(f.SyncedAt)).Scan(&f.ID, &last)
		if err != nil {
			if isForeignKey(err) {
				return fmt.Errorf("save import folder: %w", store.ErrNotFound)
			}
			return fmt.Errorf("save import folder: %w", err)
		}
		f.LastUID = uint32(last)
		return nil
	})
}

// ImportedUIDs reads a range of the UID map.
func (s *Store) ImportedUIDs(ctx context.Context, folderID int64, uidValidity, from, to uint32) ([]store.ImportedUID, error) {
	rows, err := s.pool.Query(ctx, `SELECT src_uid, dst_uid FROM import_uids
		WHERE folder_id = $1 AND uidvalidity = $2 AND src_uid BETWEEN $3 AND $4 ORDER BY src_uid`, folderID, int64(uidValidity), int64(from), int64(to))
	if err != nil {
		return nil, fmt.Errorf("imported uids: %w", err)
	}
	defer rows.Close()
	var out []store.ImportedUID
	for rows.Next() {
		var src, dst int64
		if err := rows.Scan(&src, &dst); err != nil {
			return nil, fmt.Errorf("imported uids: %w", err)
		}
		out = append(out, store.ImportedUID{Src: uint32(src), Dst: uint32(dst)})
	}
	return out, rows.Err()
}

// CountImported counts the map rows of one UIDVALIDITY.
func (s *Store) CountImported(ctx context.Context, folderID int64, uidValidity uint32) (int, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM import_uids WHERE folder_id = $1 AND uidvalidity = $2`, folderID, int64(uidValidity)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count imported: %w", err)
	}
	return int(n), nil
}

// lockImportFolder locks a folder state's row and returns its mailbox and
// UIDVALIDITY.
func lockImportFolder(ctx context.Context, tx pgx.Tx, folderID int64) (mailboxID int64, validity int64, err error) {
	err = tx.QueryRow(ctx, `SELECT mailbox_id, uidvalidity FROM import_folders WHERE id = $1 FOR UPDATE`, folderID).Scan(&mailboxID, &validity)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, store.ErrNotFound
	}
	if err != nil {
		return 0, 0, fmt.Errorf("import folder: %w", err)
	}
	return mailboxID, validity, nil
}

// AppendImported stores a batch of messages with their map rows in one
// transaction, so that a run killed at any moment never copies one twice.
func (s *Store) AppendImported(ctx context.Context, folderID int64, msgs []store.ImportMessage) ([]store.ImportOutcome, error) {
	pbs := make([]*preparedBlob, len(msgs))
	for i, m := range msgs {
		pbs[i] = prepareBlob(m.Msg)
	}
	var out []store.ImportOutcome
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		out = make([]store.ImportOutcome, len(msgs))
		mailboxID, validity, err := lockImportFolder(ctx, tx, folderID)
		if err != nil {
			return err
		}
		accountID, err := lockMailbox(ctx, tx, mailboxID, true)
		if err != nil {
			return err
		}
		accts, err := lockAccounts(ctx, tx, []int64{accountID})
		if err != nil {
			return err
		}
		acct := accts[accountID]
		if acct == nil {
			return store.ErrNotFound
		}
		var orphans bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM import_uids WHERE folder_id = $1 AND uidvalidity != $2)`, folderID, validity).Scan(&orphans); err != nil {
			return fmt.Errorf("append imported: %w", err)
		}
		var maxSrc uint32
		for i, m := range msgs {
			o := &out[i]
			maxSrc = max(maxSrc, m.SrcUID)
			var dst int64
			err := tx.QueryRow(ctx, `SELECT dst_uid FROM import_uids WHERE folder_id = $1 AND uidvalidity = $2 AND src_uid = $3`,
				folderID, validity, int64(m.SrcUID)).Scan(&dst)
			if err == nil {
				o.DstUID, o.Known = uint32(dst), true
				continue
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("append imported: %w", err)
			}
			if orphans {
				var oldValidity, oldSrc int64
				err := tx.QueryRow(ctx, `SELECT iu.uidvalidity, iu.src_uid, iu.dst_uid FROM import_uids iu
					JOIN messages ms ON ms.mailbox_id = $1 AND ms.uid = iu.dst_uid JOIN blobs b ON b.id = ms.blob_id
					WHERE iu.folder_id = $2 AND iu.uidvalidity != $3 AND b.hash = $4 LIMIT 1`,
					mailboxID, folderID, validity, pbs[i].hash).Scan(&oldValidity, &oldSrc, &dst)
				switch {
				case err == nil:
					o.DstUID = uint32(dst)
					if _, err := tx.Exec(ctx, `UPDATE import_uids SET uidvalidity = $1, src_uid = $2 WHERE folder_id = $3 AND uidvalidity = $4 AND src_uid = $5`,
						validity, int64(m.SrcUID), folderID, oldValidity, oldSrc); err != nil {
						return fmt.Errorf("reuse orphan: %w", err)
					}
					if err := setFlagsTx(ctx, tx, w, accountID, mailboxID, o.DstUID, m.Flags); err != nil {
						return err
					}
					o.Reused = true
					continue
				case !errors.Is(err, pgx.ErrNoRows):
					return fmt.Errorf("find orphan: %w", err)
				}
			}
			if acct.used+pbs[i].size > acct.quota {
				o.Err = store.ErrQuotaExceeded
				continue
			}
			blobID, err := refBlob(ctx, tx, pbs[i], 1)
			if err != nil {
				return err
			}
			uids, err := insertMessages(ctx, tx, w, accountID, mailboxID, []newRow{{blob: blobID, size: pbs[i].size, date: store.Micros(m.Msg.InternalDate), flags: m.Flags, meta: m.Msg.Meta}})
			if err != nil {
				return err
			}
			acct.used += pbs[i].size
			o.DstUID = uids[0]
			if _, err := tx.Exec(ctx, `INSERT INTO import_uids (folder_id, uidvalidity, src_uid, dst_uid) VALUES ($1,$2,$3,$4)`,
				folderID, validity, int64(m.SrcUID), int64(o.DstUID)); err != nil {
				return fmt.Errorf("map uid: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE import_folders SET last_uid = GREATEST(last_uid, $1) WHERE id = $2`, int64(maxSrc), folderID); err != nil {
			return fmt.Errorf("last uid: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// setFlagsTx replaces one message's flags when they differ, as STORE FLAGS does.
// The caller holds the mailbox's lock.
func setFlagsTx(ctx context.Context, tx pgx.Tx, w *writeCtx, accountID, mailboxID int64, uid uint32, flags []string) error {
	flags = store.NormFlags(flags)
	var cur string
	if err := tx.QueryRow(ctx, `SELECT flags FROM messages WHERE mailbox_id = $1 AND uid = $2`, mailboxID, int64(uid)).Scan(&cur); err != nil {
		return fmt.Errorf("set flags: %w", err)
	}
	if cur == store.JoinFlags(flags) {
		return nil
	}
	var modseq int64
	if err := tx.QueryRow(ctx, `UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = $1 RETURNING highest_modseq`, mailboxID).Scan(&modseq); err != nil {
		return fmt.Errorf("set flags: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE messages SET flags = $1, modseq = $2 WHERE mailbox_id = $3 AND uid = $4`, store.JoinFlags(flags), modseq, mailboxID, int64(uid)); err != nil {
		return fmt.Errorf("set flags: %w", err)
	}
	w.events = append(w.events, store.Event{Kind: store.EventFlags, AccountID: accountID, MailboxID: mailboxID, UID: uid, Flags: flags, ModSeq: uint64(modseq)})
	return nil
}

// forgetRows deletes the selected map rows and, with expunge, our copies.
// where may use $1 (the folder) and $2….
func (s *Store) forgetRows(ctx context.Context, tx pgx.Tx, w *writeCtx, folderID int64, where string, args []any, expunge bool) (int, error) {
	mailboxID, _, err := lockImportFolder(ctx, tx, folderID)
	if err != nil {
		return 0, err
	}
	rows, err := tx.Query(ctx, `DELETE FROM import_uids WHERE folder_id = $1 AND `+where+` RETURNING dst_uid`, append([]any{folderID}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("forget imported: %w", err)
	}
	var dst []uint32
	for rows.Next() {
		var u int64
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return 0, fmt.Errorf("forget imported: %w", err)
		}
		dst = append(dst, uint32(u))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("forget imported: %w", err)
	}
	if expunge && len(dst) > 0 {
		if _, err := s.expungeTx(ctx, tx, w, mailboxID, dst, false); err != nil {
			return 0, fmt.Errorf("expunge imported: %w", err)
		}
	}
	return len(dst), nil
}

// ForgetImported drops map rows of the given source UIDs.
func (s *Store) ForgetImported(ctx context.Context, folderID int64, uidValidity uint32, srcUIDs []uint32, expunge bool) (int, error) {
	if len(srcUIDs) == 0 {
		return 0, nil
	}
	src := make([]int64, len(srcUIDs))
	for i, u := range srcUIDs {
		src[i] = int64(u)
	}
	var n int
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		var err error
		n, err = s.forgetRows(ctx, tx, w, folderID, `uidvalidity = $2 AND src_uid = ANY($3)`, []any{int64(uidValidity), src}, expunge)
		return err
	})
	return n, err
}

// DropImportOrphans drops the rows of earlier UIDVALIDITYs.
func (s *Store) DropImportOrphans(ctx context.Context, folderID int64, expunge bool) (int, error) {
	var n int
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		var err error
		n, err = s.forgetRows(ctx, tx, w, folderID, `uidvalidity != (SELECT uidvalidity FROM import_folders WHERE id = $1)`, nil, expunge)
		return err
	})
	return n, err
}

// DeleteImportFolder removes a state with its map.
func (s *Store) DeleteImportFolder(ctx context.Context, folderID int64, expunge bool) (int, error) {
	var n int
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		var err error
		if n, err = s.forgetRows(ctx, tx, w, folderID, `true`, nil, expunge); err != nil {
			return err
		}
		if !expunge {
			n = 0
		}
		if _, err := tx.Exec(ctx, `DELETE FROM import_folders WHERE id = $1`, folderID); err != nil {
			return fmt.Errorf("delete import folder: %w", err)
		}
		return nil
	})
	return n, err
}
