package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"govmail/internal/store"
)

var _ store.MigrationStore = (*Store)(nil)

const importFolderCols = `id, account_id, source, folder, mailbox_id, uidvalidity, uidnext, last_uid, highest_modseq, synced_at`

func scanImportFolder(row interface{ Scan(...any) error }) (*store.ImportFolder, error) {
	var f store.ImportFolder
	var synced int64
	err := row.Scan(&f.ID, &f.AccountID, &f.Source, &f.Folder, &f.MailboxID, &f.UIDValidity, &f.UIDNext, &f.LastUID, &f.HighestModSeq, &synced)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("scan import folder: %w", err)
	}
	f.SyncedAt = store.FromMicros(synced)
	return &f, nil
}

// ImportFolder reads one folder's sync state.
func (s *Store) ImportFolder(ctx context.Context, accountID int64, source, folder string) (*store.ImportFolder, error) {
	return scanImportFolder(s.rdb.QueryRowContext(ctx, `SELECT `+importFolderCols+` FROM import_folders
		WHERE account_id = ? AND source = ? AND folder = ?`, accountID, source, folder))
}

// ImportFolders lists an account's folder states from one source.
func (s *Store) ImportFolders(ctx context.Context, accountID int64, source string) ([]store.ImportFolder, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+importFolderCols+` FROM import_folders
		WHERE account_id = ? AND source = ? ORDER BY folder`, accountID, source)
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
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		err := tx.QueryRow(`INSERT INTO import_folders (account_id, source, folder, mailbox_id, uidvalidity, uidnext, last_uid, highest_modseq, synced_at)
			VALUES (?,?,?,?,?,?,?,?,?)
			ON CONFLICT (account_id, source, folder) DO UPDATE SET
			  mailbox_id = excluded.mailbox_id,
			  last_uid = CASE WHEN uidvalidity = excluded.uidvalidity THEN max(last_uid, excluded.last_uid) ELSE excluded.last_uid END,
			  uidvalidity = excluded.uidvalidity,
			  uidnext = excluded.uidnext,
			  highest_modseq = excluded.highest_modseq,
			  synced_at = excluded.synced_at
			RETURNING id, last_uid`,
			f.AccountID, f.Source, f.Folder, f.MailboxID, f.UIDValidity, f.UIDNext, f.LastUID, f.HighestModSeq, store.Micros(f.SyncedAt)).Scan(&f.ID, &f.LastUID)
		if err != nil {
			return fmt.Errorf("save import folder: %w", err)
		}
		return nil
	})
}

// ImportedUIDs reads a range of the UID map.
func (s *Store) ImportedUIDs(ctx context.Context, folderID int64, uidValidity, from, to uint32) ([]store.ImportedUID, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT src_uid, dst_uid FROM import_uids
		WHERE folder_id = ? AND uidvalidity = ? AND src_uid BETWEEN ? AND ? ORDER BY src_uid`, folderID, uidValidity, from, to)
	if err != nil {
		return nil, fmt.Errorf("imported uids: %w", err)
	}
	defer rows.Close()
	var out []store.ImportedUID
	for rows.Next() {
		var u store.ImportedUID
		if err := rows.Scan(&u.Src, &u.Dst); err != nil {
			return nil, fmt.Errorf("imported uids: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CountImported counts the map rows of one UIDVALIDITY.
func (s *Store) CountImported(ctx context.Context, folderID int64, uidValidity uint32) (int, error) {
	var n int
	err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM import_uids WHERE folder_id = ? AND uidvalidity = ?`, folderID, uidValidity).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count imported: %w", err)
	}
	return n, nil
}

// AppendImported stores a batch of messages with their map rows in one
// transaction. One transaction per batch, not per message, is what makes an
// import of a 200,000-message mailbox take minutes rather than hours: the
// fsync is shared by the whole batch.
func (s *Store) AppendImported(ctx context.Context, folderID int64, msgs []store.ImportMessage) ([]store.ImportOutcome, error) {
	pbs := make([]*preparedBlob, len(msgs))
	for i, m := range msgs {
		pb, err := s.prepareBlob(m.Msg)
		if err != nil {
			return nil, err
		}
		pbs[i] = pb
	}
	var out []store.ImportOutcome
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		out = make([]store.ImportOutcome, len(msgs))
		var mailboxID, accountID, used, quota int64
		var validity uint32
		if err := tx.QueryRow(`SELECT f.mailbox_id, f.uidvalidity, a.id, a.used_bytes, a.quota_bytes FROM import_folders f
			JOIN mailboxes m ON m.id = f.mailbox_id JOIN accounts a ON a.id = m.account_id WHERE f.id = ?`, folderID).
			Scan(&mailboxID, &validity, &accountID, &used, &quota); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			}
			return fmt.Errorf("append imported: %w", err)
		}
		var orphans bool
		if err := tx.QueryRow(`SELECT EXISTS (SELECT 1 FROM import_uids WHERE folder_id = ? AND uidvalidity != ?)`, folderID, validity).Scan(&orphans); err != nil {
			return fmt.Errorf("append imported: %w", err)
		}
		var maxSrc uint32
		for i, m := range msgs {
			o := &out[i]
			maxSrc = max(maxSrc, m.SrcUID)
			err := tx.QueryRow(`SELECT dst_uid FROM import_uids WHERE folder_id = ? AND uidvalidity = ? AND src_uid = ?`,
				folderID, validity, m.SrcUID).Scan(&o.DstUID)
			if err == nil {
				o.Known = true
				continue
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("append imported: %w", err)
			}
			if orphans {
				var oldValidity, oldSrc uint32
				err := tx.QueryRow(`SELECT iu.uidvalidity, iu.src_uid, iu.dst_uid FROM import_uids iu
					JOIN messages ms ON ms.mailbox_id = ? AND ms.uid = iu.dst_uid JOIN blobs b ON b.id = ms.blob_id
					WHERE iu.folder_id = ? AND iu.uidvalidity != ? AND b.hash = ? LIMIT 1`,
					mailboxID, folderID, validity, pbs[i].hash).Scan(&oldValidity, &oldSrc, &o.DstUID)
				switch {
				case err == nil:
					if _, err := tx.Exec(`UPDATE import_uids SET uidvalidity = ?, src_uid = ? WHERE folder_id = ? AND uidvalidity = ? AND src_uid = ?`,
						validity, m.SrcUID, folderID, oldValidity, oldSrc); err != nil {
						return fmt.Errorf("reuse orphan: %w", err)
					}
					if err := setFlagsTx(tx, w, accountID, mailboxID, o.DstUID, m.Flags); err != nil {
						return err
					}
					o.Reused = true
					continue
				case !errors.Is(err, sql.ErrNoRows):
					return fmt.Errorf("find orphan: %w", err)
				}
			}
			if used+pbs[i].size > quota {
				o.Err = store.ErrQuotaExceeded
				continue
			}
			blobID, err := refBlob(tx, pbs[i], 1)
			if err != nil {
				return err
			}
			uid, err := insertMessage(tx, w, accountID, mailboxID, blobID, pbs[i].size, m.Flags, store.Micros(m.Msg.InternalDate), m.Msg.Meta)
			if err != nil {
				return err
			}
			used += pbs[i].size
			o.DstUID = uid
			if _, err := tx.Exec(`INSERT INTO import_uids (folder_id, uidvalidity, src_uid, dst_uid) VALUES (?,?,?,?)`,
				folderID, validity, m.SrcUID, uid); err != nil {
				return fmt.Errorf("map uid: %w", err)
			}
		}
		if _, err := tx.Exec(`UPDATE import_folders SET last_uid = max(last_uid, ?) WHERE id = ?`, maxSrc, folderID); err != nil {
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
func setFlagsTx(tx *sql.Tx, w *writeCtx, accountID, mailboxID int64, uid uint32, flags []string) error {
	flags = store.NormFlags(flags)
	var cur string
	if err := tx.QueryRow(`SELECT flags FROM messages WHERE mailbox_id = ? AND uid = ?`, mailboxID, uid).Scan(&cur); err != nil {
		return fmt.Errorf("set flags: %w", err)
	}
	if cur == store.JoinFlags(flags) {
		return nil
	}
	var modseq uint64
	if err := tx.QueryRow(`UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ? RETURNING highest_modseq`, mailboxID).Scan(&modseq); err != nil {
		return fmt.Errorf("set flags: %w", err)
	}
	if _, err := tx.Exec(`UPDATE messages SET flags = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?`, store.JoinFlags(flags), modseq, mailboxID, uid); err != nil {
		return fmt.Errorf("set flags: %w", err)
	}
	w.events = append(w.events, store.Event{Kind: store.EventFlags, AccountID: accountID, MailboxID: mailboxID, UID: uid, Flags: flags, ModSeq: modseq})
	return nil
}

// forgetRows deletes the selected map rows and, with expunge, our copies.
func (s *Store) forgetRows(tx *sql.Tx, w *writeCtx, folderID int64, where string, args []any, expunge bool) (int, error) {
	var mailboxID int64
	if err := tx.QueryRow(`SELECT mailbox_id FROM import_folders WHERE id = ?`, folderID).Scan(&mailboxID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, store.ErrNotFound
		}
		return 0, fmt.Errorf("forget imported: %w", err)
	}
	rows, err := tx.Query(`DELETE FROM import_uids WHERE folder_id = ? AND `+where+` RETURNING dst_uid`, append([]any{folderID}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("forget imported: %w", err)
	}
	var dst []uint32
	for rows.Next() {
		var u uint32
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return 0, fmt.Errorf("forget imported: %w", err)
		}
		dst = append(dst, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("forget imported: %w", err)
	}
	if expunge && len(dst) > 0 {
		if _, err := s.expungeTx(tx, w, mailboxID, dst, false); err != nil {
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
	var n int
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		n = 0
		// Chunks keep the statement under SQLite's parameter limit.
		for start := 0; start < len(srcUIDs); start += 500 {
			chunk := srcUIDs[start:min(start+500, len(srcUIDs))]
			args := []any{uidValidity}
			in := make([]byte, 0, 2*len(chunk))
			for i, u := range chunk {
				if i > 0 {
					in = append(in, ',')
				}
				in = append(in, '?')
				args = append(args, u)
			}
			k, err := s.forgetRows(tx, w, folderID, `uidvalidity = ? AND src_uid IN (`+string(in)+`)`, args, expunge)
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	return n, err
}

// DropImportOrphans drops the rows of earlier UIDVALIDITYs.
func (s *Store) DropImportOrphans(ctx context.Context, folderID int64, expunge bool) (int, error) {
	var n int
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		var err error
		n, err = s.forgetRows(tx, w, folderID, `uidvalidity != (SELECT uidvalidity FROM import_folders WHERE id = ?)`, []any{folderID}, expunge)
		return err
	})
	return n, err
}

// DeleteImportFolder removes a state with its map.
func (s *Store) DeleteImportFolder(ctx context.Context, folderID int64, expunge bool) (int, error) {
	var n int
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		var err error
		if n, err = s.forgetRows(tx, w, folderID, `1 = 1`, nil, expunge); err != nil {
			return err
		}
		if !expunge {
			n = 0
		}
		if _, err := tx.Exec(`DELETE FROM import_folders WHERE id = ?`, folderID); err != nil {
			return fmt.Errorf("delete import folder: %w", err)
		}
		return nil
	})
	return n, err
}
