package store

import (
	"context"
	"time"
)

// Lock reasons of Điều 8.2 (R8.1).
const (
	LockInactivity        = "inactivity"         // 8.2a
	LockCompromised       = "compromised"        // 8.2b
	LockProhibitedContent = "prohibited_content" // 8.2c
	LockOperator          = "operator"           // an operator's decision, with a note
)

// LockInfo is the detail of a lock.
type LockInfo struct {
	LockedAt time.Time
	Note     string // evidence or document reference
	LockedBy string // person's address or "system:<what>"
}

// AccountLife is what the daily jobs need of an account.
type AccountLife struct {
	Account
	LockInfo
	RestoredAt time.Time
}

// Absence is a declared reason for not logging in (R8.2).
type Absence struct {
	ID         int64
	AccountID  int64
	Reason     string
	Starts     string // YYYY-MM-DD local
	Ends       string // YYYY-MM-DD local, inclusive
	DeclaredBy string
	DeclaredAt time.Time
}

// Request kinds and states (R7.1).
const (
	RequestCreate  = "create"
	RequestModify  = "modify"
	RequestRevoke  = "revoke"
	RequestRestore = "restore"

	RequestReceived = "received"
	RequestDone     = "done"
	RequestRejected = "rejected"
)

// Request is a unit's request with its official document reference (R7.1).
type Request struct {
	ID         int64
	Kind       string
	UnitID     int64
	DocNumber  string // số và ký hiệu
	DocDate    string // YYYY-MM-DD
	ReceivedAt time.Time
	Deadline   string // YYYY-MM-DD, restore requests (R8.5)
	State      string
	Reason     string // required on rejection
	FiledBy    string
	HandledBy  string
	HandledAt  time.Time
	Payload    string  // JSON: what is asked
	Targets    []int64 // accounts concerned
}

// RequestEvent is one step of a request's audit trail.
type RequestEvent struct {
	Time   time.Time
	Actor  string
	Action string
	Detail string
}

// RequestFilter selects requests.
type RequestFilter struct {
	UnitID int64
	State  string
	Kind   string
	Since  time.Time
	Until  time.Time
}

// Delegation gives a person access to a unit mailbox (Điều 9.2, R9.1).
type Delegation struct {
	UnitAccountID int64
	DelegateID    int64
	GrantedBy     string
	GrantedAt     time.Time
}

// LifecycleStore is the lifecycle part of the store.
type LifecycleStore interface {
	// LockAccount locks an active account (R8.1); ErrNotFound if it is not active.
	LockAccount(ctx context.Context, id int64, reason string, info LockInfo) error
	// RestoreAccount makes a locked account active with a password its holder
	// must change (R8.5, R6.1); the 90-day clock restarts at at.
	RestoreAccount(ctx context.Context, id int64, hash string, at time.Time) error
	// RevokeAccount deletes the mailbox irrecoverably (R7.4), keeps the record,
	// and holds the address until reusableFrom (R7.6).
	RevokeAccount(ctx context.Context, id int64, at, reusableFrom time.Time) error
	AccountLives(ctx context.Context, states ...AccountState) ([]AccountLife, error)

	AddAbsence(ctx context.Context, a *Absence) error
	Absences(ctx context.Context, accountID int64) ([]Absence, error)

	CreateRequest(ctx context.Context, r *Request, ev RequestEvent) error
	UpdateRequest(ctx context.Context, r *Request, ev RequestEvent) error
	RequestByID(ctx context.Context, id int64) (*Request, error)
	ListRequests(ctx context.Context, f RequestFilter) ([]Request, error)
	RequestEvents(ctx context.Context, id int64) ([]RequestEvent, error)
	// PendingRequestFor tells whether a request of kind for the account was
	// received at or after since and is still waiting (R8.4 hold).
	PendingRequestFor(ctx context.Context, accountID int64, kind string, since time.Time) (bool, error)

	GrantDelegation(ctx context.Context, d Delegation) error
	RevokeDelegation(ctx context.Context, unitAccountID, delegateID int64) error
	Delegations(ctx context.Context, unitAccountID int64) ([]Delegation, error)
	DelegatedTo(ctx context.Context, delegateID int64) ([]Delegation, error)

	SetQuota(ctx context.Context, id int64, bytes int64) error
	// SetQuotaWarned moves the warned level from old to level; it returns false
	// when another writer moved it first (so one crossing warns once).
	SetQuotaWarned(ctx context.Context, id int64, old, level int) (bool, error)
	// MoveAccount gives an account a new address and unit (a transfer, R7.1);
	// the old address stays an alias until aliasUntil.
	MoveAccount(ctx context.Context, id int64, newAddress string, unitID int64, aliasUntil time.Time) error
	SetDisplayName(ctx context.Context, id int64, name string) error

	// MarkNotice records that a notice was sent; it returns false if it had
	// been already (the daily jobs' idempotency).
	MarkNotice(ctx context.Context, accountID int64, kind, key string, at time.Time) (bool, error)
}
