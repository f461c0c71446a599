package store

import (
	"context"
	"time"
)

// ReportQuery selects the figures of one reporting period (R7.3, R16.3).
type ReportQuery struct {
	// Since and Until bound the period: [Since, Until). "At period end" means
	// at Until.
	Since, Until time.Time
	// IdleBefore: an account active at Until whose last sign of life (login,
	// creation, restore, the rules' entry into force) is before this instant
	// counts as idle (R8.2 semantics: the day of the event is not counted).
	IdleBefore time.Time
	// IdleAbsenceAfter is a local date (YYYY-MM-DD): an absence ending after it
	// suspends or restarts the clock (R8.2), so its account is not idle.
	IdleAbsenceAfter string
	// RulesInForce is the instant no idle time is counted before (R0.1).
	RulesInForce time.Time
	// ZoneOffset is the province's offset from UTC in seconds: request
	// deadlines are local dates (R8.5, C3).
	ZoneOffset int
}

// Classes of refused or held mail, from the transaction log's error text.
const (
	HeldVirus  = "virus"  // R4.1: the scanner found malware
	HeldSpam   = "spam"   // R4.2: refused as spam
	HeldPolicy = "policy" // R4.2–R4.3: prohibited use, held by the content policy
	HeldLimit  = "limit"  // R17.2: held for crossing a sending limit
	HeldOther  = "other"  // any other refusal (unknown user, quota, …)
)

// UnitFigures are the figures of R7.3 for the accounts and requests of one unit
// itself, not of its sub-units (the report adds those up). UnitID 0 collects
// accounts without a unit and log rows no unit can be found for.
type UnitFigures struct {
	UnitID int64

	// State at the end of the period.
	Active  int64
	Locked  map[string]int64 // by lock reason; "" when it cannot be told
	Revoked int64            // records of revoked accounts (R7.4), cumulative
	Idle    int64            // active with no login for the report's N days

	// Storage now (the store keeps no history of usage).
	UsedBytes, QuotaBytes int64
	NearFull              int64 // at or above 90 % of the quota

	// Actions in the period, from the audit log.
	Created, Modified, RevokedInPeriod, Restored int64
	LockedInPeriod                               map[string]int64 // by lock reason

	// Requests of the unit (R7.1, R8.5).
	RequestsReceived, RequestsDone, RequestsRejected int64
	// OverdueOpen: restore requests still waiting at period end past their
	// deadline; OverdueLate: handled in the period after their deadline.
	OverdueOpen, OverdueLate int64

	// Mail in the period, one per recipient (R11.1).
	Received, ReceivedBytes int64 // delivered into its mailboxes (in, internal)
	Sent, SentBytes         int64 // delivered from its mailboxes (out, internal)
	SendFailed              int64 // its mail bounced or refused
	Held                    map[string]int64
}

// MailTotal counts transaction-log rows of one direction and status.
type MailTotal struct {
	Direction, Status string
	Messages, Bytes   int64
}

// ReportFigures are the raw figures of a period.
type ReportFigures struct {
	Units map[int64]*UnitFigures
	// Mail counts every log row of the period by direction and status,
	// whichever unit it concerns, sorted by direction, then status.
	Mail []MailTotal
}

// ReportStore holds the read-only aggregate queries of the periodic reports
// (R7.3, R16.3) and the record of reports sent.
type ReportStore interface {
	// ReportFigures aggregates the period's figures per unit.
	ReportFigures(ctx context.Context, q ReportQuery) (*ReportFigures, error)
	// ClaimReport records that the report named key is being sent; false when
	// it was claimed already (the monthly job's idempotency).
	ClaimReport(ctx context.Context, key string, at time.Time) (bool, error)
	// ReleaseReport drops a claim whose sending failed, so a later run retries.
	ReleaseReport(ctx context.Context, key string) error
}
