package throttle_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"govmail/internal/clock"
	"govmail/internal/store"
	"govmail/internal/store/postgres"
	"govmail/internal/store/sqlite"
	"govmail/internal/testutil"
	"govmail/internal/throttle"
)

var (
	sharedStart = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	bg          = context.Background()
	quiet       = slog.New(slog.NewTextHandler(io.Discard, nil))
)

func openSQLite(t testing.TB) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(bg, sqlite.Options{Dir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openPostgres(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	st, err := postgres.Open(ctx, postgres.Options{DSN: dsn, MaxConns: 8, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newShared(t testing.TB, cfg throttle.Config, st store.ThrottleStateStore, clk clock.Clock) *throttle.Shared {
	t.Helper()
	s, err := throttle.NewShared(cfg, st, clk)
	if err != nil {
		t.Fatal(err)
	}
	s.Logger = quiet
	return s
}

// limiters returns Memory and Shared (over SQLite) on one fake clock, so that a
// rule test runs against both.
func limiters(t *testing.T, cfg throttle.Config) (map[string]throttle.Limiter, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(sharedStart)
	m, err := throttle.NewMemory(cfg, clk)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]throttle.Limiter{"memory": m, "shared": newShared(t, cfg, openSQLite(t), clk)}, clk
}

const (
	owner    = "nguyenvana@sonla.gov.vn"
	home     = "192.0.2.1"
	attacker = "203.0.113.5"
)

// The main rules of "Failed logins" (REQUIREMENTS, security-level controls), each
// run against Memory and Shared: Shared must answer exactly as Memory does.
func TestSharedRules(t *testing.T) {
	type step func(l throttle.Limiter, clk *clock.Fake)
	fail := func(account, ip string, n int, gap time.Duration) step {
		return func(l throttle.Limiter, clk *clock.Fake) {
			for range n {
				clk.Advance(gap)
				l.Failure(bg, account, ip)
			}
		}
	}
	wait := func(d time.Duration) step { return func(_ throttle.Limiter, clk *clock.Fake) { clk.Advance(d) } }
	success := func(account, ip string) step {
		return func(l throttle.Limiter, _ *clock.Fake) { l.Success(bg, account, ip) }
	}
	// refuseAgain runs one more refusal of the pair: waits out the current one,
	// then 5 more failures.
	refuseAgain := func(after time.Duration) step {
		return func(l throttle.Limiter, clk *clock.Fake) {
			clk.Advance(after)
			fail(owner, home, 5, 0)(l, clk)
		}
	}
	tests := []struct {
		name        string
		steps       []step
		account, ip string
		want        throttle.Decision
	}{
		{"4 pair failures leave the pair allowed (slowed: account)", []step{fail(owner, home, 4, time.Minute)}, owner, home,
			throttle.Decision{Allowed: true, Delay: 250 * time.Millisecond, Reason: throttle.ReasonAccountSlowed}},
		{"5 pair failures in 15 min refuse the pair 15 min", []step{fail(owner, home, 5, time.Minute)}, owner, home,
			throttle.Decision{RetryAfter: 15 * time.Minute, Reason: throttle.ReasonPairRefused}},
		{"5 failures over more than 15 min do not refuse", []step{fail(owner, home, 5, 4*time.Minute)}, owner, home,
			throttle.Decision{Allowed: true, Delay: 250 * time.Millisecond, Reason: throttle.ReasonAccountSlowed}},
		{"R8.6: the pair refusal expires by itself", []step{fail(owner, home, 5, 0), wait(15 * time.Minute)}, owner, "192.0.2.1:4444",
			throttle.Decision{Allowed: true, Reason: throttle.ReasonAllowed}},
		{"the same account from elsewhere is not refused", []step{fail(owner, home, 5, 0)}, owner, "198.51.100.7",
			throttle.Decision{Allowed: true, Delay: 500 * time.Millisecond, Reason: throttle.ReasonAccountSlowed}},
		{"the second refusal lasts 30 min", []step{fail(owner, home, 5, 0), refuseAgain(15 * time.Minute)}, owner, home,
			throttle.Decision{RetryAfter: 30 * time.Minute, Reason: throttle.ReasonPairRefused}},
		{"the refusal doubles up to 12 h", []step{fail(owner, home, 5, 0),
			refuseAgain(15 * time.Minute), refuseAgain(30 * time.Minute), refuseAgain(time.Hour), refuseAgain(2 * time.Hour),
			refuseAgain(4 * time.Hour), refuseAgain(8 * time.Hour), refuseAgain(12 * time.Hour)}, owner, home,
			throttle.Decision{RetryAfter: 12 * time.Hour, Reason: throttle.ReasonPairRefused}},
		{"a quiet day resets the doubling", []step{fail(owner, home, 5, 0), refuseAgain(15 * time.Minute), refuseAgain(24 * time.Hour)}, owner, home,
			throttle.Decision{RetryAfter: 15 * time.Minute, Reason: throttle.ReasonPairRefused}},
		{"19 address failures leave it allowed", []step{fail("x@sonla.gov.vn", attacker, 19, 0)}, "y@sonla.gov.vn", attacker,
			throttle.Decision{Allowed: true, Reason: throttle.ReasonAllowed}},
		{"20 address failures over any accounts refuse the address", []step{
			fail("a@sonla.gov.vn", attacker, 4, time.Second), fail("b@sonla.gov.vn", attacker, 4, time.Second),
			fail("c@sonla.gov.vn", attacker, 4, time.Second), fail("d@sonla.gov.vn", attacker, 4, time.Second),
			fail("e@sonla.gov.vn", attacker, 4, time.Second)}, "f@sonla.gov.vn", attacker,
			throttle.Decision{RetryAfter: 15 * time.Minute, Reason: throttle.ReasonIPRefused}},
		{"an IPv6 /64 counts as one address", []step{fail("a@sonla.gov.vn", "2001:db8:1:2::1", 20, 0)}, "b@sonla.gov.vn", "2001:db8:1:2:ffff::9",
			throttle.Decision{RetryAfter: 15 * time.Minute, Reason: throttle.ReasonIPRefused}},
		{"account failures from many addresses slow strangers, capped at 4 s", []step{
			func(l throttle.Limiter, clk *clock.Fake) {
				for i := range 30 {
					l.Failure(bg, owner, fmt.Sprintf("198.51.100.%d", i))
				}
			}}, owner, "198.51.100.200",
			throttle.Decision{Allowed: true, Delay: 4 * time.Second, Reason: throttle.ReasonAccountSlowed}},
		{"a stranger cannot lock the owner out: known address is neither slowed nor refused", []step{
			success(owner, home), wait(time.Hour),
			func(l throttle.Limiter, clk *clock.Fake) {
				for i := range 30 {
					l.Failure(bg, owner, fmt.Sprintf("198.51.100.%d", i))
				}
			},
			fail("other@sonla.gov.vn", home, 20, 0)}, owner, home,
			throttle.Decision{Allowed: true, Reason: throttle.ReasonKnownClient}},
		{"a known address is remembered 30 days", []step{success(owner, home), wait(30*24*time.Hour - time.Second),
			fail("other@sonla.gov.vn", home, 20, 0)}, owner, home,
			throttle.Decision{Allowed: true, Reason: throttle.ReasonKnownClient}},
		{"and forgotten after", []step{success(owner, home), wait(30 * 24 * time.Hour),
			fail("other@sonla.gov.vn", home, 20, 0)}, owner, home,
			throttle.Decision{RetryAfter: 15 * time.Minute, Reason: throttle.ReasonIPRefused}},
		{"the owner's own failures from a known address still refuse the pair", []step{success(owner, home), fail(owner, home, 5, 0)}, owner, home,
			throttle.Decision{RetryAfter: 15 * time.Minute, Reason: throttle.ReasonPairRefused}},
		{"success forgives the pair", []step{fail(owner, home, 4, 0), success(owner, home), fail(owner, home, 4, 0)}, owner, home,
			throttle.Decision{Allowed: true, Reason: throttle.ReasonKnownClient}},
		{"success does not forgive the address", []step{fail("x@sonla.gov.vn", attacker, 19, 0), success("mine@sonla.gov.vn", attacker),
			fail("y@sonla.gov.vn", attacker, 1, 0)}, "z@sonla.gov.vn", attacker,
			throttle.Decision{RetryAfter: 15 * time.Minute, Reason: throttle.ReasonIPRefused}},
		{"account names compare case-insensitively", []step{fail(owner, home, 5, 0)}, "NguyenVanA@SonLa.gov.vn", home,
			throttle.Decision{RetryAfter: 15 * time.Minute, Reason: throttle.ReasonPairRefused}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls, clk := limiters(t, throttle.DefaultConfig())
			start := clk.Now()
			for _, name := range []string{"memory", "shared"} {
				clk.Set(start)
				l := ls[name]
				for _, s := range tt.steps {
					s(l, clk)
				}
				if got := l.Check(bg, tt.account, tt.ip); got != tt.want {
					t.Errorf("%s: Check = %+v, want %+v", name, got, tt.want)
				}
			}
		})
	}
}

// A random mix of failures, successes and waits, with a small Config so that
// every rule triggers often: after every step Shared answers every Check as
// Memory does.
func TestSharedMatchesMemory(t *testing.T) {
	cfg := throttle.DefaultConfig()
	cfg.PairFailures, cfg.IPFailures = 3, 6
	cfg.MaxRefusal, cfg.QuietReset = 2*time.Hour, 6*time.Hour
	cfg.AccountFreeFailures, cfg.AccountMaxDelay = 2, time.Second
	cfg.KnownTTL, cfg.KnownPerAccount = 3*time.Hour, 2
	ls, clk := limiters(t, cfg)
	mem, sh := ls["memory"], ls["shared"]
	accounts := []string{"a@x.vn", "A@X.vn", "b@x.vn", "c@x.vn"}
	ips := []string{"192.0.2.1", "192.0.2.2", "2001:db8::1", "[2001:db8::2]:993", "198.51.100.1"}
	gaps := []time.Duration{0, time.Second, time.Minute, 5 * time.Minute, 20 * time.Minute, time.Hour, 7 * time.Hour}
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[throttle.Reason]int{}
	steps := 400
	if testing.Short() {
		steps = 100
	}
	for i := range steps {
		a, ip := accounts[r.IntN(len(accounts))], ips[r.IntN(len(ips))]
		switch n := r.IntN(10); {
		case n < 6:
			mem.Failure(bg, a, ip)
			sh.Failure(bg, a, ip)
		case n < 7:
			mem.Success(bg, a, ip)
			sh.Success(bg, a, ip)
		default:
			clk.Advance(gaps[r.IntN(len(gaps))])
		}
		for _, a := range accounts[1:] {
			for _, ip := range ips {
				dm, ds := mem.Check(bg, a, ip), sh.Check(bg, a, ip)
				if dm != ds {
					t.Fatalf("step %d, %s from %s: memory %+v, shared %+v", i, a, ip, dm, ds)
				}
				seen[dm.Reason]++
			}
		}
	}
	for _, r := range []throttle.Reason{throttle.ReasonAllowed, throttle.ReasonAccountSlowed, throttle.ReasonKnownClient,
		throttle.ReasonPairRefused, throttle.ReasonIPRefused} {
		if seen[r] == 0 {
			t.Errorf("the mix never produced %s: %v", r, seen)
		}
	}
}

// Sweep deletes what no longer matters and nothing else.
func TestSharedSweep(t *testing.T) {
	clk := clock.NewFake(sharedStart)
	st := openSQLite(t)
	s := newShared(t, throttle.DefaultConfig(), st, clk)
	for range 5 {
		s.Failure(bg, owner, home)
	}
	s.Success(bg, "other@sonla.gov.vn", home)
	if n, err := s.Sweep(bg, clk.Now()); err != nil || n != 0 {
		t.Fatalf("sweep of live records = %d, %v", n, err)
	}
	clk.Advance(15 * time.Minute)
	// The account's and the address's failures are out of their windows; the
	// pair's refusal is over but its doubling is remembered for the quiet day.
	if n, _ := s.Sweep(bg, clk.Now()); n != 2 {
		t.Errorf("after 15 min swept %d, want 2", n)
	}
	if d := s.Check(bg, owner, home); d.Reason != throttle.ReasonAllowed {
		t.Errorf("check after the refusal = %+v", d)
	}
	clk.Advance(24 * time.Hour)
	if n, _ := s.Sweep(bg, clk.Now()); n != 1 {
		t.Errorf("after a quiet day swept %d, want 1 (the pair)", n)
	}
	if d := s.Check(bg, "other@sonla.gov.vn", home); d.Reason != throttle.ReasonAllowed {
		t.Errorf("check = %+v", d)
	}
	clk.Advance(30 * 24 * time.Hour)
	if n, _ := s.Sweep(bg, clk.Now()); n != 1 { // the known address
		t.Errorf("after 30 days swept %d, want 1", n)
	}
}

// Issue 10: failures counted through one node refuse through another, and
// concurrent failures on two nodes are all counted.
func TestSharedTwoNodes(t *testing.T) {
	dsn := testutil.StartPostgres(t)
	clk := clock.NewFake(sharedStart)
	a := newShared(t, throttle.DefaultConfig(), openPostgres(t, dsn), clk)
	b := newShared(t, throttle.DefaultConfig(), openPostgres(t, dsn), clk)

	for range 5 {
		a.Failure(bg, owner, home)
	}
	if d := b.Check(bg, owner, home); d.Allowed || d.Reason != throttle.ReasonPairRefused || d.RetryAfter != 15*time.Minute {
		t.Fatalf("node b after 5 failures on a: %+v", d)
	}
	b.Success(bg, "other@sonla.gov.vn", home)

	// 20 failures from one address, 10 on each node at once, each for another
	// account: the address is refused only if no update was lost.
	var wg sync.WaitGroup
	for n, l := range []*throttle.Shared{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				l.Failure(bg, fmt.Sprintf("u%d-%d@sonla.gov.vn", n, i), attacker)
			}
		}()
	}
	wg.Wait()
	for name, l := range map[string]*throttle.Shared{"a": a, "b": b} {
		if d := l.Check(bg, "x@sonla.gov.vn", attacker); d.Reason != throttle.ReasonIPRefused {
			t.Errorf("node %s after 20 concurrent failures: %+v", name, d)
		}
		if d := l.Check(bg, "other@sonla.gov.vn", home); d.Reason != throttle.ReasonAllowed {
			t.Errorf("node %s, address known through b: %+v", name, d)
		}
	}
	clk.Advance(48 * time.Hour)
	if n, err := b.Sweep(bg, clk.Now()); err != nil || n == 0 {
		t.Errorf("sweep = %d, %v", n, err)
	}
}
