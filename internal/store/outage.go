package store

import (
	"context"
	"time"
)

// Outage is a notice of a service interruption (Điều 14, R14.1).
type Outage struct {
	ID    int64
	What  string
	Since time.Time // since when the service is interrupted
	Until time.Time // expected restoration
	// UnitIDs are the units chosen; empty means every unit.
	UnitIDs []int64
	// Recipients are the accounts the notice was mailed to; the all-clear goes
	// to the same accounts.
	Recipients  []int64
	PublishedBy string
	PublishedAt time.Time
	ClosedBy    string
	ClosedAt    time.Time // zero while the notice is open
	CloseNote   string
}

// Open tells a notice not closed yet.
func (o *Outage) Open() bool { return o.ClosedAt.IsZero() }

// OutageStore keeps outage notices.
type OutageStore interface {
	// CreateOutage stores an open notice with its units and recipients; it fills ID.
	CreateOutage(ctx context.Context, o *Outage) error
	// CloseOutage closes an open notice; ErrNotFound when none is open with id.
	CloseOutage(ctx context.Context, id int64, by string, at time.Time, note string) error
	OutageByID(ctx context.Context, id int64) (*Outage, error)
	// ListOutages lists notices, newest first; openOnly keeps the open ones.
	ListOutages(ctx context.Context, openOnly bool) ([]Outage, error)
	// UnitMailboxes lists the unit mailboxes (Kind unit) that are not revoked.
	UnitMailboxes(ctx context.Context) ([]Account, error)
}
