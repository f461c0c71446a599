// Package store is the one interface every protocol speaks to (DESIGN: store).
// It owns accounts' mailboxes, messages, message bodies (blobs, stored once however
// many mailboxes hold them), the transaction log of Điều 11.1 and the change feed
// that IMAP IDLE listens to. It never decides policy: quota numbers, who may log in
// and what is delivered are decided by the callers; the store only enforces what it
// is told, atomically.
//
// Two implementations pass the conformance suite in store/storetest: SQLite
// (store/sqlite, the embedded default) and, later, PostgreSQL.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors; protocol layers map them to replies in one place each.
var (
	ErrNotFound       = errors.New("store: not found")
	ErrExists         = errors.New("store: already exists")
	ErrQuotaExceeded  = errors.New("store: quota exceeded")
	ErrMailboxInvalid = errors.New("store: invalid mailbox operation")
	ErrClosed         = errors.New("store: closed")
	// ErrStorageFull: the disk is full; nothing of the failed write was kept.
	ErrStorageFull = errors.New("store: storage full")
)

// AccountKind tells personal mailboxes from unit mailboxes (Điều 2, R1.1).
type AccountKind string

// Account kinds.
const (
	KindPersonal AccountKind = "personal"
	KindUnit     AccountKind = "unit"
)

// AccountState is the state of Điều 8 (R8.1).
type AccountState string

// Account states.
const (
	StateActive  AccountState = "active"
	StateLocked  AccountState = "locked"
	StateRevoked AccountState = "revoked"
)

// Account is a mailbox holder.
type Account struct {
	ID            int64
	Address       string // lower-case local@domain
	DisplayName   string
	Kind          AccountKind
	UnitID        int64 // 0 when not in a unit yet
	PasswordHash  string
	MustChange    bool // R6.1: a password set by anyone but its holder
	PasswordSetAt time.Time
	State         AccountState
	LockReason    string
	CreatedAt     time.Time
	LastLoginAt   time.Time // zero: never
	QuotaBytes    int64
	UsedBytes     int64
	QuotaWarned   int    // R11.6: highest warning threshold sent (percent)
	Role          string // RoleUser or RoleOperator
	BirthYear     int    // 0 when unknown (R5.4)
	// AddressNote records how the address was chosen when not by the rule of
	// Điều 5: "override: …" or "legacy" (R5.4).
	AddressNote string
}

// Special-use attributes (RFC 6154) of the default folders.
const (
	SpecialSent    = `\Sent`
	SpecialDrafts  = `\Drafts`
	SpecialTrash   = `\Trash`
	SpecialJunk    = `\Junk`
	SpecialArchive = `\Archive`
)

// DefaultMailboxes are created with every account: INBOX plus the special-use folders.
var DefaultMailboxes = []struct{ Name, SpecialUse string }{
	{"INBOX", ""},
	{"Sent", SpecialSent},
	{"Drafts", SpecialDrafts},
	{"Trash", SpecialTrash},
	{"Junk", SpecialJunk},
	{"Archive", SpecialArchive},
	{ReportFolder, ""},
}

// ReportFolder is where a user moves a suspicious message to report it to the
// unit's security contact and the operators (Điều 13, R13.1).
const ReportFolder = "Báo cáo"

// Mailbox is a folder of an account.
type Mailbox struct {
	ID            int64
	AccountID     int64
	Name          string // "/"-separated hierarchy, UTF-8
	SpecialUse    string
	UIDValidity   uint32
	UIDNext       uint32
	HighestModSeq uint64
	Subscribed    bool
}

// MailboxStatus is what STATUS and SELECT report.
type MailboxStatus struct {
	Messages      uint32
	Unseen        uint32
	Deleted       uint32
	Size          int64
	UIDNext       uint32
	UIDValidity   uint32
	HighestModSeq uint64
}

// Message is one message in one mailbox.
type Message struct {
	UID          uint32
	Flags        []string // IMAP flags, e.g. \Seen; sorted
	ModSeq       uint64
	Size         int64
	InternalDate time.Time
	BlobID       int64
	Meta         []byte // encoded envelope and body structure (mailparse)
}

// NewMessage is a message about to be stored. Raw is the exact bytes a client
// will read back (N2: no step alters a body).
type NewMessage struct {
	Raw          []byte
	Meta         []byte
	SearchText   string // folded text for the search index
	InternalDate time.Time
}

// LogEntry is one row of the transaction log (Điều 11.1, R11.1): one per recipient
// of every transaction, whatever its outcome.
type LogEntry struct {
	ID           int64
	Time         time.Time
	Direction    string // in, out, internal
	Proto        string // smtp, submission, imap-append, ...
	EnvelopeFrom string
	HeaderFrom   string
	Recipient    string
	ClientIP     string
	Size         int64
	MessageID    string
	AuthUser     string
	Status       string // delivered, deferred, bounced, refused, quarantined
	Error        string
}

// Log statuses.
const (
	LogDelivered   = "delivered"
	LogDeferred    = "deferred"
	LogBounced     = "bounced"
	LogRefused     = "refused"
	LogQuarantined = "quarantined"
)

// DeliveryTarget is one mailbox a delivered message goes to.
type DeliveryTarget struct {
	AccountID int64
	Mailbox   string // "" means INBOX
	Flags     []string
	// Create makes Mailbox when it does not exist (the hidden quarantine folder);
	// otherwise a missing folder falls back to INBOX.
	Create bool
	// IgnoreQuota stores even over quota: used for a recipient whose quota was
	// checked when it was accepted, so that an acknowledged message is never lost.
	IgnoreQuota bool
	// Log, when set, is written in the same transaction with its Status and Error
	// filled from the outcome (a preset Status, e.g. quarantined, is kept when
	// the message is stored).
	Log *LogEntry
}

// DeliveryOutcome is the result for the target at the same index.
type DeliveryOutcome struct {
	MailboxID int64
	UID       uint32
	Err       error // ErrQuotaExceeded, ErrNotFound
}

// FlagOp is how STORE changes flags.
type FlagOp int

// Flag operations.
const (
	FlagsSet FlagOp = iota
	FlagsAdd
	FlagsRemove
)

// UIDPair maps a source UID to its copy.
type UIDPair struct{ Src, Dst uint32 }

// EventKind says what changed in a mailbox.
type EventKind int

// Event kinds.
const (
	EventAppend    EventKind = iota + 1 // a message arrived (UID)
	EventExpunge                        // a message left (UID)
	EventFlags                          // a message's flags changed (UID, Flags)
	EventMailboxes                      // the account's folder list changed
	EventAccess                         // the account's access changed: locked, revoked, a delegation removed (MailboxID: the unit account)
)

// Event is a committed change, delivered to listeners in commit order.
type Event struct {
	Kind      EventKind
	AccountID int64
	MailboxID int64
	UID       uint32
	Flags     []string
	ModSeq    uint64
}

// LogFilter selects transaction-log rows.
type LogFilter struct {
	Address   string // sender or recipient
	Since     time.Time
	Until     time.Time
	Status    string
	ClientIP  string
	MessageID string
	AuthUser  string
	Limit     int
	BeforeID  int64 // paging: rows older than this id
}

// Store is the storage of govmail.
type Store interface {
	DirectoryStore
	LifecycleStore
	TwoFactorStore
	ReportStore
	OutageStore
	HeldStore
	WebSessionStore
	ThrottleStateStore
	UserSettingsStore
	SMIMEStore
	AuthReportStore
	Close() error

	// Accounts
	CreateAccount(ctx context.Context, a *Account) error // fills ID; creates DefaultMailboxes
	AccountByAddress(ctx context.Context, address string) (*Account, error)
	AccountByID(ctx context.Context, id int64) (*Account, error)
	SetPassword(ctx context.Context, accountID int64, hash string, mustChange bool, at time.Time) error
	RecordLogin(ctx context.Context, accountID int64, at time.Time) error

	// Mailboxes
	ListMailboxes(ctx context.Context, accountID int64) ([]Mailbox, error)
	MailboxByName(ctx context.Context, accountID int64, name string) (*Mailbox, error)
	CreateMailbox(ctx context.Context, accountID int64, name, specialUse string) (*Mailbox, error)
	DeleteMailbox(ctx context.Context, accountID int64, name string) error
	RenameMailbox(ctx context.Context, accountID int64, oldName, newName string) error
	SetSubscribed(ctx context.Context, accountID int64, name string, subscribed bool) error
	MailboxStatus(ctx context.Context, mailboxID int64) (*MailboxStatus, error)

	// Messages
	Deliver(ctx context.Context, msg *NewMessage, targets []DeliveryTarget) ([]DeliveryOutcome, error)
	Append(ctx context.Context, mailboxID int64, msg *NewMessage, flags []string) (uid uint32, err error)
	// Messages lists a mailbox's messages in UID order, with the mailbox's
	// highest modseq at the time of the read (so a listener can skip older events).
	Messages(ctx context.Context, mailboxID int64, withMeta bool) ([]Message, uint64, error)
	MessagesByUID(ctx context.Context, mailboxID int64, uids []uint32, withMeta bool) ([]Message, error)
	ReadBlob(ctx context.Context, blobID int64) ([]byte, error)
	StoreFlags(ctx context.Context, mailboxID int64, uids []uint32, op FlagOp, flags []string) ([]Message, error)
	Copy(ctx context.Context, srcMailboxID int64, uids []uint32, dstMailboxID int64) ([]UIDPair, error)
	Move(ctx context.Context, srcMailboxID int64, uids []uint32, dstMailboxID int64) ([]UIDPair, error)
	// Expunge removes the given UIDs, or every \Deleted message when uids is nil,
	// and returns what it removed in UID order.
	Expunge(ctx context.Context, mailboxID int64, uids []uint32) ([]uint32, error)
	// SearchText returns the UIDs whose indexed text contains every folded word of query.
	SearchText(ctx context.Context, mailboxID int64, query string) ([]uint32, error)

	// Transaction log
	AppendLog(ctx context.Context, entries []LogEntry) error
	SearchLog(ctx context.Context, f LogFilter) ([]LogEntry, error)
	// PurgeLogs deletes transaction, authentication and audit log rows dated
	// before cutoff, at most batch rows per table and call; it returns how many
	// went, so the caller loops without holding the writer for long (R11.3).
	PurgeLogs(ctx context.Context, cutoff time.Time, batch int) (int, error)

	// Listen calls fn after every commit with the events it made, in commit order,
	// from one goroutine; fn must not block. The returned func stops it.
	Listen(fn func([]Event)) (stop func())

	// Check verifies the integrity of the database and the blobs.
	Check(ctx context.Context) error
}
