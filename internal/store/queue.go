package store

import (
	"context"
	"time"
)

// QueueStore keeps the outbound queue: messages for remote recipients waiting
// for delivery, each body stored once (as a blob shared with the mailboxes), one
// row per recipient with its own attempts and schedule. It decides nothing about
// when to retry or when to give up: the sender (internal/queue) tells it, and
// it only records atomically what it is told, together with the transaction-log
// rows of every attempt (Điều 11.1).
//
// Claims are leases, not locks: a worker that dies leaves its recipients due
// again once the lease runs out, so a crash never loses nor wedges a message
// (a PostgreSQL backend claims with SELECT … FOR UPDATE SKIP LOCKED).
type QueueStore interface {
	// Enqueue stores body once and one row per recipient of m, all due at
	// m.CreatedAt (or now when zero), and writes logs in the same transaction.
	// It fills m.ID and the recipients' IDs and returns the message ID.
	Enqueue(ctx context.Context, body *NewMessage, m *QueuedMessage, logs []LogEntry) (int64, error)
	// ClaimQueue leases up to limit recipients that are due at now (queued,
	// next attempt reached, no live lease, message not held) until now+lease.
	// Each returned message carries only its claimed recipients, oldest first.
	ClaimQueue(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]QueuedMessage, error)
	// QueueMessage reads one queued message with all its recipients.
	QueueMessage(ctx context.Context, id int64) (*QueuedMessage, error)
	// QueueBody returns the exact bytes to transmit.
	QueueBody(ctx context.Context, id int64) ([]byte, error)
	// RecordQueue applies the outcomes of attempts and writes their log rows in
	// one transaction and ends every lease it names. A message none of whose
	// recipients is still queued leaves the queue, and its body reference goes.
	RecordQueue(ctx context.Context, updates []QueueUpdate, logs []LogEntry) error
	// ListQueue lists queued messages with all their recipients, oldest first.
	ListQueue(ctx context.Context, f QueueFilter) ([]QueuedMessage, error)
	// RetryQueue makes the still-queued recipients of message id (every message
	// when id is 0) due at now and releases held messages; it returns how many
	// recipients it touched. ErrNotFound when id names no message.
	RetryQueue(ctx context.Context, id int64, now time.Time) (int, error)
	// DropQueue removes message id without delivering or bouncing it.
	DropQueue(ctx context.Context, id int64) error
	// HoldQueue stops delivery of message id (every queued message sent by
	// authUser when id is 0) until RetryQueue; it returns how many messages.
	HoldQueue(ctx context.Context, id int64, authUser, reason string) (int, error)
	// QueueStats counts what waits, for metrics and the queue-growth alert (R13.2).
	QueueStats(ctx context.Context) (QueueStats, error)
}

// QueueState is the state of one recipient of a queued message.
type QueueState string

// Recipient states. A recipient leaves QueueQueued once: delivered, or failed
// (bounced, or dropped by an operator).
const (
	QueueQueued    QueueState = "queued"
	QueueDelivered QueueState = "delivered"
	QueueFailed    QueueState = "failed"
)

// QueuedMessage is a message in the outbound queue.
type QueuedMessage struct {
	ID         int64
	From       string // envelope sender; "" for a delivery status notification, never bounced
	HeaderFrom string
	MessageID  string
	AuthUser   string // who submitted it (R9.2), "" for system mail
	ClientIP   string
	Size       int64
	CreatedAt  time.Time
	EnvID      string // DSN ENVID (RFC 3461)
	Ret        string // DSN RET: FULL or HDRS; "" = headers only
	UTF8       bool   // SMTPUTF8 needed by the envelope or header
	Held       bool
	HoldReason string
	Recipients []QueueRecipient
}

// QueueRecipient is one remote recipient of a queued message.
type QueueRecipient struct {
	ID            int64
	Address       string
	Domain        string // lower-case domain of Address, filled by Enqueue
	ORcpt         string // DSN ORCPT as given, "" when none
	Notify        string // DSN NOTIFY as given, e.g. "FAILURE,DELAY"; "" = default
	State         QueueState
	Attempts      int
	NextAttempt   time.Time
	LastAttempt   time.Time
	LastError     string // the remote reply or local reason of the last attempt
	DelayNotified bool
}

// QueueUpdate is the outcome of one attempt (or decision) for one recipient.
type QueueUpdate struct {
	RecipientID int64
	State       QueueState
	// Attempted counts the update as a delivery attempt at LastAttempt.
	Attempted   bool
	LastAttempt time.Time
	NextAttempt time.Time // when State is QueueQueued
	Error       string
	// DelayNotified records that the sender was told of the delay; it is never unset.
	DelayNotified bool
}

// QueueFilter selects queued messages; zero fields match all.
type QueueFilter struct {
	ID       int64
	Domain   string // recipient domain
	AuthUser string
	Held     *bool
	Limit    int
}

// QueueStats summarises the queue.
type QueueStats struct {
	Messages   int
	Recipients int // still queued
	Held       int // messages
	Oldest     time.Time
}
