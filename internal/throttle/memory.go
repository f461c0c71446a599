package throttle

import (
	"context"
	"fmt"
	"sync"
	"time"

	"govmail/internal/clock"
)

// Memory is the Limiter of one node: all state in memory, lost on restart (a
// restart forgets refusals, which is the lenient direction and acceptable for a
// temporary measure). It is safe for concurrent use and bounded in size by
// Config.MaxKeys.
type Memory struct {
	cfg  Config
	clk  clock.Clock
	pair limitRule
	ip   limitRule

	mu            sync.Mutex
	pairs         lru[*limitEntry]   // account NUL ip-key
	ips           lru[*limitEntry]   // ip-key
	accounts      lru[*accountEntry] // account key
	known         lru[*knownSet]     // account key
	liveEvictions uint64
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns an empty Memory. cfg must pass Validate.
func NewMemory(cfg Config, clk clock.Clock) (*Memory, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if clk == nil {
		return nil, fmt.Errorf("%w: nil clock", ErrInvalidConfig)
	}
	return &Memory{
		cfg:      cfg,
		clk:      clk,
		pair:     cfg.pairRule(),
		ip:       cfg.ipRule(),
		pairs:    newLRU[*limitEntry](cfg.MaxKeys),
		ips:      newLRU[*limitEntry](cfg.MaxKeys),
		accounts: newLRU[*accountEntry](cfg.MaxKeys),
		known:    newLRU[*knownSet](cfg.MaxKeys),
	}, nil
}

// Check implements Limiter. In order: a refused pair is refused (even from a
// known address: those are the account's own failures from there); a refused
// address is refused unless the account logged in from it before; otherwise the
// attempt is allowed, after a delay if the account has many recent failures and
// the address is not a known one.
func (m *Memory) Check(_ context.Context, account, ip string) Decision {
	a, ipk := accountKey(account), ipKey(ip, m.cfg.IPv6PrefixBits)
	now := m.clk.Now().UnixNano()

	m.mu.Lock()
	defer m.mu.Unlock()

	var pair, addr *limitEntry
	var acct *accountEntry
	if n, ok := m.pairs.get(pairKey(a, ipk)); ok {
		pair = n.val
	}
	if n, ok := m.ips.get(ipk); ok {
		addr = n.val
	}
	if n, ok := m.accounts.get(a); ok {
		acct = n.val
	}
	return m.cfg.decide(now, pair, addr, acct, m.isKnown(a, ipk, now))
}

// decide is Check's rule, once for both limiters: each reads its own state
// (nil where there is none) and hands it here.
func (c Config) decide(now int64, pair, ip *limitEntry, acct *accountEntry, known bool) Decision {
	if pair != nil && pair.refused(now) {
		return Decision{RetryAfter: time.Duration(pair.until - now), Reason: ReasonPairRefused}
	}
	d := Decision{Allowed: true, Reason: ReasonAllowed}
	if ip != nil && ip.refused(now) {
		if !known {
			return Decision{RetryAfter: time.Duration(ip.until - now), Reason: ReasonIPRefused}
		}
		d.Reason = ReasonKnownClient
	}
	if acct != nil {
		recent := acct.fails.countSince(now - int64(c.AccountWindow))
		if delay := c.accountDelay(recent); delay > 0 {
			if known {
				d.Reason = ReasonKnownClient
			} else {
				d.Delay, d.Reason = delay, ReasonAccountSlowed
			}
		}
	}
	return d
}

// Failure implements Limiter. It counts against the pair, the address and the
// account alike, also when the address is a known one.
func (m *Memory) Failure(_ context.Context, account, ip string) {
	a, ipk := accountKey(account), ipKey(ip, m.cfg.IPv6PrefixBits)
	now := m.clk.Now().UnixNano()

	m.mu.Lock()
	defer m.mu.Unlock()

	m.failLimit(&m.pairs, pairKey(a, ipk), m.pair, now)
	m.failLimit(&m.ips, ipk, m.ip, now)

	window := int64(m.cfg.AccountWindow)
	n, ok := m.accounts.get(a)
	if !ok {
		var evicted *node[*accountEntry]
		n, evicted = m.accounts.add(a, &accountEntry{fails: newRing(m.cfg.accountRingLen())})
		if evicted != nil && !evicted.val.expired(now, window) {
			m.liveEvictions++
		}
	}
	m.accounts.touch(n)
	n.val.fails.add(now)
	trimTail(&m.accounts, func(e *accountEntry) bool { return e.expired(now, window) })
}

// Success implements Limiter. It forgets the pair's failures and refusals (the
// owner has shown the password) and makes ip known for the account. It does not
// forgive the address or the account: an attacker with one valid account of his
// own must not wipe his address's record by logging into it between guesses.
func (m *Memory) Success(_ context.Context, account, ip string) {
	a, ipk := accountKey(account), ipKey(ip, m.cfg.IPv6PrefixBits)
	now := m.clk.Now().UnixNano()

	m.mu.Lock()
	defer m.mu.Unlock()

	if n, ok := m.pairs.get(pairKey(a, ipk)); ok {
		m.pairs.remove(n)
	}
	if m.cfg.KnownPerAccount == 0 || m.cfg.KnownTTL == 0 {
		return
	}
	ttl := int64(m.cfg.KnownTTL)
	n, ok := m.known.get(a)
	if !ok {
		var evicted *node[*knownSet]
		n, evicted = m.known.add(a, &knownSet{})
		if evicted != nil && !evicted.val.expired(now, ttl) {
			m.liveEvictions++
		}
	}
	m.known.touch(n)
	n.val.remember(ipk, now, m.cfg.KnownPerAccount)
	trimTail(&m.known, func(s *knownSet) bool { return s.expired(now, ttl) })
}

// Sweep drops every entry that no longer affects any answer at now and returns
// how many it dropped. The owner calls it periodically (each minute is plenty);
// Failure and Success also drop a few expired entries as they go, so memory stays
// bounded by Config.MaxKeys even if Sweep is never called.
func (m *Memory) Sweep(now time.Time) int {
	t := now.UnixNano()
	aw, ttl := int64(m.cfg.AccountWindow), int64(m.cfg.KnownTTL)

	m.mu.Lock()
	defer m.mu.Unlock()

	removed := sweep(&m.pairs, func(e *limitEntry) bool { return e.expired(t, m.pair) })
	removed += sweep(&m.ips, func(e *limitEntry) bool { return e.expired(t, m.ip) })
	removed += sweep(&m.accounts, func(e *accountEntry) bool { return e.expired(t, aw) })
	removed += sweep(&m.known, func(s *knownSet) bool {
		s.prune(t, ttl)
		return len(s.ips) == 0
	})
	return removed
}

// Stats describes the tables, for metrics.
type Stats struct {
	Pairs, IPs, Accounts, KnownAccounts int
	// LiveEvictions counts entries evicted by the MaxKeys cap while they still
	// mattered. If it grows, MaxKeys is too small for the traffic or someone is
	// spraying to make the throttle forget.
	LiveEvictions uint64
}

// Stats returns the current sizes and the eviction count.
func (m *Memory) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Stats{
		Pairs:         m.pairs.len(),
		IPs:           m.ips.len(),
		Accounts:      m.accounts.len(),
		KnownAccounts: m.known.len(),
		LiveEvictions: m.liveEvictions,
	}
}

func (m *Memory) isKnown(a, ipk string, now int64) bool {
	n, ok := m.known.get(a)
	return ok && n.val.has(ipk, now, int64(m.cfg.KnownTTL))
}

func (m *Memory) failLimit(t *lru[*limitEntry], key string, r limitRule, now int64) {
	n, ok := t.get(key)
	if !ok {
		var evicted *node[*limitEntry]
		n, evicted = t.add(key, &limitEntry{fails: newRing(r.failures)})
		if evicted != nil && !evicted.val.expired(now, r) {
			m.liveEvictions++
		}
	}
	t.touch(n)
	n.val.fail(now, r)
	trimTail(t, func(e *limitEntry) bool { return e.expired(now, r) })
}

// lazyTrim is how many least-recent entries an update looks at for expiry.
const lazyTrim = 2

func trimTail[V any](t *lru[V], expired func(V) bool) {
	for i := 0; i < lazyTrim && t.tail != nil && t.tail != t.head && expired(t.tail.val); i++ {
		t.remove(t.tail)
	}
}

func sweep[V any](t *lru[V], expired func(V) bool) int {
	removed := 0
	t.each(func(n *node[V]) {
		if expired(n.val) {
			t.remove(n)
			removed++
		}
	})
	return removed
}

// limitRule is one refusal rule in the units the entries use.
type limitRule struct {
	failures  int
	window    int64 // ns
	base, max time.Duration
	quiet     int64 // ns
}

// limitEntry is the record of a pair or an address.
type limitEntry struct {
	fails ring  // recent failure times, at most rule.failures
	last  int64 // newest failure, for the quiet reset
	until int64 // refused while now < until
	level int   // refusals so far in this escalation
}

func (e *limitEntry) refused(now int64) bool { return now < e.until }

func (e *limitEntry) fail(now int64, r limitRule) {
	if e.level > 0 && now-e.last >= r.quiet {
		e.level = 0
	}
	e.last = now
	if e.refused(now) {
		// Admitted before the refusal began (concurrent attempts): counting it
		// would start the next refusal early.
		return
	}
	e.fails.add(now)
	if e.fails.full() && now-e.fails.oldest() < r.window {
		e.until = now + int64(refusal(r.base, r.max, e.level))
		if e.level < 64 {
			e.level++
		}
		e.fails.reset()
	}
}

func (e *limitEntry) expired(now int64, r limitRule) bool {
	return !e.refused(now) &&
		(e.fails.n == 0 || now-e.fails.newest() >= r.window) &&
		(e.level == 0 || now-e.last >= r.quiet)
}

// accountEntry is the record of an account's failures from anywhere.
type accountEntry struct {
	fails ring
}

func (e *accountEntry) expired(now, window int64) bool {
	return e.fails.n == 0 || now-e.fails.newest() >= window
}

// knownSet is the client addresses an account logged in from, most recent last.
type knownSet struct {
	ips []knownIP
}

type knownIP struct {
	ip string
	at int64 // last successful login
}

func (s *knownSet) has(ipk string, now, ttl int64) bool {
	for _, k := range s.ips {
		if k.ip == ipk {
			return now-k.at < ttl
		}
	}
	return false
}

func (s *knownSet) remember(ipk string, now int64, max int) {
	for i, k := range s.ips {
		if k.ip == ipk {
			s.ips = append(s.ips[:i], s.ips[i+1:]...)
			break
		}
	}
	if len(s.ips) >= max {
		s.ips = append(s.ips[:0], s.ips[len(s.ips)-max+1:]...)
	}
	s.ips = append(s.ips, knownIP{ip: ipk, at: now})
}

func (s *knownSet) prune(now, ttl int64) {
	kept := s.ips[:0]
	for _, k := range s.ips {
		if now-k.at < ttl {
			kept = append(kept, k)
		}
	}
	clear(s.ips[len(kept):])
	s.ips = kept
}

func (s *knownSet) expired(now, ttl int64) bool {
	for _, k := range s.ips {
		if now-k.at < ttl {
			return false
		}
	}
	return true
}

// ring holds the newest failure times; "n failures within w" holds exactly when
// the ring of size n is full and its oldest time is within w.
type ring struct {
	t    []int64
	next int // where the next time goes; the oldest when full
	n    int
}

func newRing(size int) ring { return ring{t: make([]int64, size)} }

func (r *ring) add(t int64) {
	r.t[r.next] = t
	r.next = (r.next + 1) % len(r.t)
	if r.n < len(r.t) {
		r.n++
	}
}

func (r *ring) full() bool { return r.n == len(r.t) }

func (r *ring) oldest() int64 {
	if r.full() {
		return r.t[r.next]
	}
	return r.t[0]
}

func (r *ring) newest() int64 {
	return r.t[(r.next-1+len(r.t))%len(r.t)]
}

func (r *ring) reset() { r.n, r.next = 0, 0 }

// countSince counts the times after since.
func (r *ring) countSince(since int64) int {
	c := 0
	for i := 0; i < r.n; i++ {
		if r.t[i] > since {
			c++
		}
	}
	return c
}
