package throttle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"govmail/internal/clock"
	"govmail/internal/store"
)

// Shared is the Limiter of a cluster (issue 10): the same rules as Memory, with
// the state in the shared database, so that failures counted through one node
// refuse through every other. Each Failure or Success is one store transaction
// that reads, changes and writes the records it touches while holding other
// updates of them off (store.ThrottleStateStore); Check only reads.
//
// Differences from Memory, all in what is kept, none in the answers: there is no
// MaxKeys cap (the database is not the bounded resource memory is; records carry
// their expiry and Sweep purges them), and keys are SHA-256 hashes, so that the
// table neither holds the account names strangers tried nor NUL bytes, which
// PostgreSQL text cannot.
type Shared struct {
	cfg  Config
	st   store.ThrottleStateStore
	clk  clock.Clock
	pair limitRule
	ip   limitRule

	// Logger receives the store's errors, which a login path cannot act on
	// (Limiter); nil means slog.Default().
	Logger *slog.Logger
}

var _ Limiter = (*Shared)(nil)

// NewShared returns a Shared over st. cfg must pass Validate.
func NewShared(cfg Config, st store.ThrottleStateStore, clk clock.Clock) (*Shared, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if clk == nil || st == nil {
		return nil, fmt.Errorf("%w: nil clock or store", ErrInvalidConfig)
	}
	return &Shared{
		cfg:  cfg,
		st:   st,
		clk:  clk,
		pair: cfg.pairRule(),
		ip:   cfg.ipRule(),
	}, nil
}

func (s *Shared) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// sharedKeys are the store keys of one attempt. The prefixes keep the four
// tables of Memory apart in one store table.
type sharedKeys struct{ pair, ip, account, known string }

func hashKey(prefix, k string) string {
	h := sha256.Sum256([]byte(k))
	return prefix + hex.EncodeToString(h[:])
}

func (s *Shared) keys(account, ip string) (sharedKeys, string) {
	a, ipk := accountKey(account), ipKey(ip, s.cfg.IPv6PrefixBits)
	return sharedKeys{
		pair:    hashKey("tp:", pairKey(a, ipk)),
		ip:      hashKey("ti:", ipk),
		account: hashKey("ta:", a),
		known:   hashKey("tk:", a),
	}, ipk
}

// Check implements Limiter with Memory's rules. When the store cannot be read it
// allows the attempt (fails open): verifying the password needs the same
// database, so an outage refuses logins anyway, and failing closed would let a
// database hiccup lock every user out.
func (s *Shared) Check(ctx context.Context, account, ip string) Decision {
	k, ipk := s.keys(account, ip)
	now := s.clk.Now().UnixNano()
	recs, err := s.st.ThrottleStates(ctx, []string{k.pair, k.ip, k.account, k.known})
	if err != nil {
		s.log().Error("throttle: check failed open", "err", err)
		return Decision{Allowed: true, Reason: ReasonAllowed}
	}

	pair, _ := s.limit(recs, k.pair, s.pair)
	addr, _ := s.limit(recs, k.ip, s.ip)
	acct, _ := s.accountEntry(recs, k.account)
	known := false
	if ks, ok := s.knownSet(recs, k.known); ok {
		known = ks.has(ipk, now, int64(s.cfg.KnownTTL))
	}
	return s.cfg.decide(now, pair, addr, acct, known)
}

// Failure implements Limiter: it counts against the pair, the address and the
// account in one transaction, so that two nodes counting at once lose no failure.
func (s *Shared) Failure(ctx context.Context, account, ip string) {
	k, _ := s.keys(account, ip)
	now := s.clk.Now().UnixNano()
	err := s.st.UpdateThrottleStates(ctx, []string{k.pair, k.ip, k.account}, func(cur map[string][]byte) ([]store.ThrottleState, error) {
		out := make([]store.ThrottleState, 0, 3)
		for _, l := range []struct {
			key  string
			rule limitRule
		}{{k.pair, s.pair}, {k.ip, s.ip}} {
			e, _ := s.limit(cur, l.key, l.rule)
			e.fail(now, l.rule)
			st, err := encodeLimit(l.key, e, l.rule)
			if err != nil {
				return nil, err
			}
			out = append(out, st)
		}
		a, _ := s.accountEntry(cur, k.account)
		a.fails.add(now)
		st, err := encodeAccount(k.account, a, int64(s.cfg.AccountWindow))
		if err != nil {
			return nil, err
		}
		return append(out, st), nil
	})
	if err != nil {
		s.log().Error("throttle: failure not counted", "err", err)
	}
}

// Success implements Limiter: it forgets the pair and makes ip known for the
// account, and, as Memory, forgives neither the address nor the account.
func (s *Shared) Success(ctx context.Context, account, ip string) {
	k, ipk := s.keys(account, ip)
	now := s.clk.Now().UnixNano()
	remember := s.cfg.KnownPerAccount > 0 && s.cfg.KnownTTL > 0
	keys := []string{k.pair}
	if remember {
		keys = append(keys, k.known)
	}
	err := s.st.UpdateThrottleStates(ctx, keys, func(cur map[string][]byte) ([]store.ThrottleState, error) {
		out := []store.ThrottleState{{Key: k.pair}} // nil Data: delete
		if !remember {
			return out, nil
		}
		ttl := int64(s.cfg.KnownTTL)
		ks, _ := s.knownSet(cur, k.known)
		// Dropping addresses past their TTL changes no answer (has checks the
		// TTL) and keeps the record from carrying them until the cap pushes them out.
		ks.prune(now, ttl)
		ks.remember(ipk, now, s.cfg.KnownPerAccount)
		st, err := encodeKnown(k.known, ks, ttl)
		if err != nil {
			return nil, err
		}
		return append(out, st), nil
	})
	if err != nil {
		s.log().Error("throttle: success not recorded", "err", err)
	}
}

// Sweep deletes the records that no longer affect any answer at now and returns
// how many it deleted. One node calling it periodically is enough; every node
// calling it is harmless.
func (s *Shared) Sweep(ctx context.Context, now time.Time) (int, error) {
	n, err := s.st.PurgeThrottleStates(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("throttle sweep: %w", err)
	}
	return n, nil
}

// The encodings of the records. Times are Unix nanoseconds, as in Memory;
// failure times are listed oldest first. The JSON names are fixed so that nodes
// of different versions read each other's records during a rolling upgrade.

type limitRecord struct {
	Fails []int64 `json:"f,omitempty"`
	Last  int64   `json:"l,omitempty"`
	Until int64   `json:"u,omitempty"`
	Level int     `json:"v,omitempty"`
}

type accountRecord struct {
	Fails []int64 `json:"f,omitempty"`
}

type knownRecord struct {
	IPs []knownIPRecord `json:"k,omitempty"`
}

type knownIPRecord struct {
	IP string `json:"i"`
	At int64  `json:"a"`
}

// ringTimes lists a ring's times oldest first.
func ringTimes(r *ring) []int64 {
	out := make([]int64, 0, r.n)
	first := 0
	if r.full() {
		first = r.next
	}
	for i := 0; i < r.n; i++ {
		out = append(out, r.t[(first+i)%len(r.t)])
	}
	return out
}

// ringOf rebuilds a ring of size from times oldest first; with more times than
// size (a node with a different Config wrote them) the newest are kept.
func ringOf(size int, times []int64) ring {
	r := newRing(size)
	for _, t := range times {
		r.add(t)
	}
	return r
}

// limit decodes the pair or address record at key; a missing or unreadable one
// is a fresh entry, ok false.
func (s *Shared) limit(recs map[string][]byte, key string, r limitRule) (*limitEntry, bool) {
	e := &limitEntry{fails: newRing(r.failures)}
	b, ok := recs[key]
	if !ok {
		return e, false
	}
	var rec limitRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		s.log().Warn("throttle: unreadable record ignored", "key", key, "err", err)
		return e, false
	}
	e.fails, e.last, e.until, e.level = ringOf(r.failures, rec.Fails), rec.Last, rec.Until, rec.Level
	return e, true
}

func (s *Shared) accountEntry(recs map[string][]byte, key string) (*accountEntry, bool) {
	e := &accountEntry{fails: newRing(s.cfg.accountRingLen())}
	b, ok := recs[key]
	if !ok {
		return e, false
	}
	var rec accountRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		s.log().Warn("throttle: unreadable record ignored", "key", key, "err", err)
		return e, false
	}
	e.fails = ringOf(s.cfg.accountRingLen(), rec.Fails)
	return e, true
}

func (s *Shared) knownSet(recs map[string][]byte, key string) (*knownSet, bool) {
	ks := &knownSet{}
	b, ok := recs[key]
	if !ok {
		return ks, false
	}
	var rec knownRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		s.log().Warn("throttle: unreadable record ignored", "key", key, "err", err)
		return ks, false
	}
	for _, k := range rec.IPs {
		ks.ips = append(ks.ips, knownIP{ip: k.IP, at: k.At})
	}
	return ks, true
}

// encodeLimit stores e with the time at which limitEntry.expired becomes true:
// the end of the refusal, of the failure window and of the quiet period.
func encodeLimit(key string, e *limitEntry, r limitRule) (store.ThrottleState, error) {
	exp := e.until
	if e.fails.n > 0 {
		exp = max(exp, e.fails.newest()+r.window)
	}
	if e.level > 0 {
		exp = max(exp, e.last+r.quiet)
	}
	return encodeState(key, limitRecord{Fails: ringTimes(&e.fails), Last: e.last, Until: e.until, Level: e.level}, exp)
}

func encodeAccount(key string, e *accountEntry, window int64) (store.ThrottleState, error) {
	return encodeState(key, accountRecord{Fails: ringTimes(&e.fails)}, e.fails.newest()+window)
}

func encodeKnown(key string, ks *knownSet, ttl int64) (store.ThrottleState, error) {
	var rec knownRecord
	var newest int64
	for _, k := range ks.ips {
		rec.IPs = append(rec.IPs, knownIPRecord{IP: k.ip, At: k.at})
		newest = max(newest, k.at)
	}
	return encodeState(key, rec, newest+ttl)
}

func encodeState(key string, rec any, expires int64) (store.ThrottleState, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return store.ThrottleState{}, fmt.Errorf("throttle: encode %s: %w", key, err)
	}
	return store.ThrottleState{Key: key, Data: b, Expires: time.Unix(0, expires)}, nil
}
