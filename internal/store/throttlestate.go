package store

import (
	"context"
	"time"
)

// ThrottleState is one record of the login throttle shared by the nodes of a
// cluster: a pair, a client address, an account or an account's known addresses.
// Data is the throttle's own encoding, opaque here because the rules belong to
// package throttle; Expires is when the record stops mattering, for purging.
type ThrottleState struct {
	Key     string
	Data    []byte
	Expires time.Time
}

// ThrottleStateStore keeps the login throttle's records in the database, so that
// failures counted on one node refuse on another (issue 10).
type ThrottleStateStore interface {
	// ThrottleStates returns the records with these keys; missing keys are
	// absent from the map. It reads without locking.
	ThrottleStates(ctx context.Context, keys []string) (map[string][]byte, error)
	// UpdateThrottleStates runs fn on the current records of keys in one
	// transaction that holds every other update of those keys off until it
	// commits, and stores what fn returns: a record with nil Data is deleted,
	// keys fn does not return are left as they are. fn may run more than once
	// (a retried transaction) and must not have other effects.
	UpdateThrottleStates(ctx context.Context, keys []string, fn func(cur map[string][]byte) ([]ThrottleState, error)) error
	// PurgeThrottleStates deletes the records whose Expires is not after before
	// (a record stops mattering at its Expires) and returns how many went.
	PurgeThrottleStates(ctx context.Context, before time.Time) (int, error)
}
