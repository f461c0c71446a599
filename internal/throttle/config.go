package throttle

import (
	"errors"
	"fmt"
	"time"
)

// Config holds every number of the failed-login control. Start from
// DefaultConfig and change what the deployment's policy says; a zero value is taken
// literally, so Validate rejects a Config that was not filled in.
type Config struct {
	// PairFailures failures for one account from one client address within
	// PairWindow refuse that pair for PairRefusal (doubling on repetition).
	PairFailures int
	PairWindow   time.Duration
	PairRefusal  time.Duration

	// IPFailures failures from one client address, any accounts, within IPWindow
	// refuse that address for IPRefusal (doubling on repetition).
	IPFailures int
	IPWindow   time.Duration
	IPRefusal  time.Duration

	// MaxRefusal caps the doubling of both refusals.
	MaxRefusal time.Duration
	// QuietReset: a pair or address without failures for this long starts again
	// from the first refusal period.
	QuietReset time.Duration

	// AccountFreeFailures failures of one account within AccountWindow cost
	// nothing; each further one doubles the delay given to strangers, starting at
	// AccountBaseDelay and capped at AccountMaxDelay.
	AccountWindow       time.Duration
	AccountFreeFailures int
	AccountBaseDelay    time.Duration
	AccountMaxDelay     time.Duration

	// KnownTTL is how long a successful login makes its client address known for
	// its account. KnownPerAccount caps the addresses remembered per account (the
	// least recent is forgotten), so that one account logging in from a great many
	// addresses cannot fill memory.
	KnownTTL        time.Duration
	KnownPerAccount int

	// IPv6PrefixBits is the prefix an IPv6 client address is reduced to. A host
	// usually holds a whole /64 (SLAAC, privacy addresses), so counting single
	// /128 addresses would let one attacker use 2^64 fresh addresses, and would
	// make an owner's phone, whose privacy address changes daily, a stranger the
	// next day.
	IPv6PrefixBits int

	// MaxKeys caps each of the four tables (pairs, addresses, accounts, known
	// clients); when a table is full the least recently updated entry is evicted.
	// Memory stays bounded whatever an attacker sprays, at the price of forgetting
	// the oldest state; Stats counts such evictions of live entries.
	MaxKeys int
}

// DefaultConfig returns the defaults of REQUIREMENTS ("Failed logins").
func DefaultConfig() Config {
	return Config{
		PairFailures:        5,
		PairWindow:          15 * time.Minute,
		PairRefusal:         15 * time.Minute,
		IPFailures:          20,
		IPWindow:            15 * time.Minute,
		IPRefusal:           15 * time.Minute,
		MaxRefusal:          12 * time.Hour,
		QuietReset:          24 * time.Hour,
		AccountWindow:       15 * time.Minute,
		AccountFreeFailures: 3,
		AccountBaseDelay:    250 * time.Millisecond,
		AccountMaxDelay:     4 * time.Second,
		KnownTTL:            30 * 24 * time.Hour,
		KnownPerAccount:     32,
		IPv6PrefixBits:      64,
		MaxKeys:             100_000,
	}
}

// ErrInvalidConfig is wrapped by Validate's errors.
var ErrInvalidConfig = errors.New("throttle: invalid config")

// maxRingLen bounds the per-entry memory that a large failure count would cost.
const maxRingLen = 1024

// Validate reports the first unusable value.
func (c Config) Validate() error {
	bad := func(field string, v any) error {
		return fmt.Errorf("%w: %s = %v", ErrInvalidConfig, field, v)
	}
	switch {
	case c.PairFailures < 1 || c.PairFailures > maxRingLen:
		return bad("PairFailures", c.PairFailures)
	case c.PairWindow <= 0:
		return bad("PairWindow", c.PairWindow)
	case c.PairRefusal <= 0:
		return bad("PairRefusal", c.PairRefusal)
	case c.IPFailures < 1 || c.IPFailures > maxRingLen:
		return bad("IPFailures", c.IPFailures)
	case c.IPWindow <= 0:
		return bad("IPWindow", c.IPWindow)
	case c.IPRefusal <= 0:
		return bad("IPRefusal", c.IPRefusal)
	case c.MaxRefusal < c.PairRefusal || c.MaxRefusal < c.IPRefusal:
		return bad("MaxRefusal", c.MaxRefusal)
	case c.QuietReset <= 0:
		return bad("QuietReset", c.QuietReset)
	case c.AccountWindow <= 0:
		return bad("AccountWindow", c.AccountWindow)
	case c.AccountFreeFailures < 0 || c.AccountFreeFailures > maxRingLen-64:
		return bad("AccountFreeFailures", c.AccountFreeFailures)
	case c.AccountBaseDelay < 0:
		return bad("AccountBaseDelay", c.AccountBaseDelay)
	case c.AccountMaxDelay < c.AccountBaseDelay:
		return bad("AccountMaxDelay", c.AccountMaxDelay)
	case c.KnownTTL < 0:
		return bad("KnownTTL", c.KnownTTL)
	case c.KnownPerAccount < 0:
		return bad("KnownPerAccount", c.KnownPerAccount)
	case c.IPv6PrefixBits < 1 || c.IPv6PrefixBits > 128:
		return bad("IPv6PrefixBits", c.IPv6PrefixBits)
	case c.MaxKeys < 1:
		return bad("MaxKeys", c.MaxKeys)
	}
	return nil
}

// refusal is the period of the refusal numbered level (0 for the first).
func refusal(base, max time.Duration, level int) time.Duration {
	d := base
	for i := 0; i < level && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d
}

// pairRule and ipRule are the limits of an account from one address and of one
// address, in the form both limiters (Memory, Shared) keep them.
func (c Config) pairRule() limitRule {
	return limitRule{failures: c.PairFailures, window: int64(c.PairWindow),
		base: c.PairRefusal, max: c.MaxRefusal, quiet: int64(c.QuietReset)}
}

func (c Config) ipRule() limitRule {
	return limitRule{failures: c.IPFailures, window: int64(c.IPWindow),
		base: c.IPRefusal, max: c.MaxRefusal, quiet: int64(c.QuietReset)}
}

// accountDelay is the delay given to strangers after n recent failures.
func (c Config) accountDelay(n int) time.Duration {
	if n <= c.AccountFreeFailures || c.AccountBaseDelay <= 0 {
		return 0
	}
	return refusal(c.AccountBaseDelay, c.AccountMaxDelay, n-c.AccountFreeFailures-1)
}

// accountRingLen is how many failure times an account must remember: beyond the
// count at which the delay reaches its cap, more do not change the answer.
func (c Config) accountRingLen() int {
	n := c.AccountFreeFailures + 1
	for d := c.AccountBaseDelay; d > 0 && d < c.AccountMaxDelay && n < maxRingLen; d *= 2 {
		n++
	}
	return n
}
