package store

import (
	"context"
	"time"
)

// ImportFolder is the sync state of one folder of an old mail system copied into
// one of our mailboxes (`govmail import`): enough to copy, on the next run, only
// what changed there, and to resume a run that stopped half-way.
type ImportFolder struct {
	ID        int64
	AccountID int64
	// Source names the old system, e.g. "imap:old-host:993" or "mbox:/srv/a.mbox";
	// the same folder name on two sources is two states.
	Source string
	// Folder is the source folder's name, UTF-8, in the source's own hierarchy.
	Folder string
	// MailboxID is our folder the messages go to. It is fixed at the first run, so
	// a later change of the name mapping never splits a folder in two.
	MailboxID int64
	// UIDValidity of the source folder the UID map belongs to. Map rows of an
	// earlier UIDVALIDITY are orphans (see AppendImported).
	UIDValidity uint32
	// UIDNext of the source folder when last synced completely.
	UIDNext uint32
	// LastUID is the highest source UID copied.
	LastUID uint32
	// HighestModSeq is the source's HIGHESTMODSEQ after the last complete,
	// verified sync; 0 when none (or the source has no CONDSTORE). Together with
	// UIDNext it lets a run skip a folder in which nothing changed.
	HighestModSeq uint64
	SyncedAt      time.Time
}

// ImportedUID maps a source UID to the UID of our copy.
type ImportedUID struct {
	Src, Dst uint32
}

// ImportMessage is one source message to store.
type ImportMessage struct {
	SrcUID uint32
	Msg    *NewMessage
	Flags  []string
}

// ImportOutcome is the result for the ImportMessage at the same index.
type ImportOutcome struct {
	DstUID uint32
	// Reused is set when the message was not stored again but an orphan copy of
	// the same bytes (left by an earlier UIDVALIDITY) was given the new UID.
	Reused bool
	// Known is set when the source UID was mapped already (a resumed batch).
	Known bool
	Err   error // ErrQuotaExceeded; nothing was stored for it
}

// MigrationStore keeps the state of imports from an old mail system: per source
// folder its UIDVALIDITY, the highest source UID copied and the map from source
// UIDs to ours. It decides nothing about what to copy (internal/migrate does);
// it records atomically what it is told, and stores each message together with
// its map row so that a run killed at any moment never copies a message twice.
type MigrationStore interface {
	// ImportFolder returns the state of one source folder, ErrNotFound when it
	// was never synced.
	ImportFolder(ctx context.Context, accountID int64, source, folder string) (*ImportFolder, error)
	// ImportFolders lists the states of an account's folders from one source.
	ImportFolders(ctx context.Context, accountID int64, source string) ([]ImportFolder, error)
	// SaveImportFolder creates or updates a state, keyed by account, source and
	// folder, and fills ID. While UIDValidity stays the same LastUID never goes
	// back; a new UIDValidity turns the existing map rows into orphans.
	SaveImportFolder(ctx context.Context, f *ImportFolder) error
	// ImportedUIDs returns the map rows of uidValidity with from ≤ source UID ≤ to,
	// in source UID order.
	ImportedUIDs(ctx context.Context, folderID int64, uidValidity, from, to uint32) ([]ImportedUID, error)
	// CountImported counts the map rows of uidValidity.
	CountImported(ctx context.Context, folderID int64, uidValidity uint32) (int, error)
	// AppendImported stores msgs into the folder's mailbox, within quota, each
	// with its map row, in one transaction, and raises LastUID. A message whose
	// bytes equal those of an orphan's copy takes over that copy (its flags set
	// to the given ones) instead of being stored again.
	AppendImported(ctx context.Context, folderID int64, msgs []ImportMessage) ([]ImportOutcome, error)
	// ForgetImported drops the map rows of the given source UIDs and, with
	// expunge, our copies too; it returns how many rows went.
	ForgetImported(ctx context.Context, folderID int64, uidValidity uint32, srcUIDs []uint32, expunge bool) (int, error)
	// DropImportOrphans drops the map rows of earlier UIDVALIDITYs and, with
	// expunge, our copies too; it returns how many rows went.
	DropImportOrphans(ctx context.Context, folderID int64, expunge bool) (int, error)
	// DeleteImportFolder removes a state and its map and, with expunge, our
	// copies too (the folder went away on the source); it returns how many
	// copies were expunged.
	DeleteImportFolder(ctx context.Context, folderID int64, expunge bool) (int, error)
}
