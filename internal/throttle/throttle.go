// Package throttle owns the limit on failed logins shared by every protocol
// (IMAP, POP3, SMTP AUTH, webmail, API): the "Failed logins" control of the
// security-level section of REQUIREMENTS and R8.6.
//
// A protocol asks Check before it verifies a password, sleeps Decision.Delay,
// refuses without verifying when Decision.Allowed is false, and then reports the
// outcome with Failure or Success. Three rules apply:
//
//   - a pair (account, client address) with too many recent failures is refused
//     for a while, the period doubling on each repeated refusal up to a maximum;
//   - a client address with too many recent failures over any accounts is refused
//     the same way;
//   - an account with many recent failures from anywhere answers strangers more
//     slowly, but it is never refused as a whole, and an address from which the
//     account logged in successfully before gets neither the slow-down nor the
//     address-wide refusal: a stranger cannot lock a civil servant out.
//
// What this package never does: it never locks an account. A refusal is no
// account state, expires by itself, is never shown as "locked" and never starts the
// revocation clock of Điều 8 (R8.6); the reason codes say "refused" and "slowed",
// never "locked". It starts no goroutines and keeps no package-level state; the
// owner calls Sweep periodically (for example each minute) to drop expired entries.
package throttle

import (
	"context"
	"time"
)

// Limiter is the throttle as the protocols see it. Memory implements it for one
// node; an implementation shared through PostgreSQL can implement it later for
// many nodes. An implementation that can fail (a database) handles its errors
// itself: it logs them and decides whether to fail open, because a login path
// cannot do anything more useful with such an error.
type Limiter interface {
	// Check tells whether a login attempt for account from ip may be verified.
	// It records nothing.
	Check(ctx context.Context, account, ip string) Decision
	// Failure records a wrong password (or unknown account) for account from ip.
	Failure(ctx context.Context, account, ip string)
	// Success records a successful login, which makes ip a known client address
	// of account.
	Success(ctx context.Context, account, ip string)
}

// Reason says in logs why a Decision is what it is. The values are stable.
type Reason string

// Reasons. None of them says "locked" (R8.6).
const (
	// ReasonAllowed: nothing holds the attempt back.
	ReasonAllowed Reason = "allowed"
	// ReasonAccountSlowed: allowed, after Delay, because the account has many
	// recent failures and the client address is not a known one.
	ReasonAccountSlowed Reason = "account_slowed"
	// ReasonKnownClient: allowed without delay although the account has many
	// recent failures or the address is refused for others, because the account
	// logged in successfully from this address before.
	ReasonKnownClient Reason = "known_client"
	// ReasonPairRefused: too many recent failures for this account from this
	// client address.
	ReasonPairRefused Reason = "pair_refused"
	// ReasonIPRefused: too many recent failures from this client address.
	ReasonIPRefused Reason = "ip_refused"
)

// Decision is the answer of Check.
type Decision struct {
	// Allowed is false when the attempt must be refused without verifying the
	// password.
	Allowed bool
	// RetryAfter is, when Allowed is false, how long the refusal still lasts.
	RetryAfter time.Duration
	// Delay is how long to wait before answering the attempt, whatever its
	// outcome: waiting only on failures would tell the client which passwords
	// are right.
	Delay time.Duration
	// Reason is for logs.
	Reason Reason
}

// Sleep waits d.Delay, or until ctx is done, in which case it returns ctx.Err().
// It is a convenience for protocol layers; it uses a real timer because it paces
// a network answer, not a rule.
func (d Decision) Sleep(ctx context.Context) error {
	if d.Delay <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d.Delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
