// Package clock gives the time to everything that counts days (Điều 6, 8, 11), so
// that "90 days" can be tested in microseconds. Nothing else in govmail calls time.Now
// for a rule.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Fake is a settable clock for tests.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a Fake set to t.
func NewFake(t time.Time) *Fake { return &Fake{now: t} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Set moves the clock to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.mu.Unlock()
}

// Advance moves the clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// InZone gives another clock's time in a time zone, so that log rows carry the
// province's offset (+07:00) rather than the host's.
type InZone struct {
	Clock Clock
	Loc   *time.Location
}

// Now returns the time in Loc.
func (z InZone) Now() time.Time { return z.Clock.Now().In(z.Loc) }
