package throttle

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"govmail/internal/clock"
)

var start = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func newTest(t testing.TB, mod func(*Config)) (*Memory, *clock.Fake) {
	t.Helper()
	cfg := DefaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	clk := clock.NewFake(start)
	m, err := NewMemory(cfg, clk)
	if err != nil {
		t.Fatal(err)
	}
	return m, clk
}

var ctx = context.Background()

// attempt is what a protocol does: Check, and only when allowed verify the
// password (wrong here) and report the failure. It reports whether the password
// was verified.
func attempt(m *Memory, account, ip string) bool {
	if !m.Check(ctx, account, ip).Allowed {
		return false
	}
	m.Failure(ctx, account, ip)
	return true
}

func failN(m *Memory, account, ip string, n int) {
	for range n {
		m.Failure(ctx, account, ip)
	}
}

// Security-level controls, "Failed logins": 5 failures for one account from one
// client IP within 15 minutes refuse that pair for 15 minutes.
func TestFailedLogins_PairRefusedAfter5FailuresIn15Minutes(t *testing.T) {
	tests := []struct {
		name       string
		gaps       []time.Duration // wait before each failure of (acct, 192.0.2.1)
		after      time.Duration   // wait before the check
		account    string
		ip         string
		want       bool
		wantRetry  time.Duration
		wantReason Reason
	}{
		{
			name: "4 failures in 15 min leave the pair allowed",
			gaps: []time.Duration{0, time.Minute, time.Minute, time.Minute},
			ip:   "192.0.2.1", want: true, wantReason: ReasonAccountSlowed,
		},
		{
			name: "5 failures in 15 min refuse the pair for 15 min",
			gaps: []time.Duration{0, time.Minute, time.Minute, time.Minute, time.Minute},
			ip:   "192.0.2.1", want: false, wantRetry: 15 * time.Minute, wantReason: ReasonPairRefused,
		},
		{
			name: "the refusal counts down",
			gaps: []time.Duration{0, 0, 0, 0, 0}, after: 10 * time.Minute,
			ip: "192.0.2.1", want: false, wantRetry: 5 * time.Minute, wantReason: ReasonPairRefused,
		},
		{
			name: "5 failures spread over more than 15 min do not refuse (sliding window)",
			gaps: []time.Duration{0, 4 * time.Minute, 4 * time.Minute, 4 * time.Minute, 4 * time.Minute},
			ip:   "192.0.2.1", want: true, wantReason: ReasonAccountSlowed,
		},
		{
			name: "R8.6: the refusal expires by itself after 15 min",
			gaps: []time.Duration{0, 0, 0, 0, 0}, after: 15 * time.Minute,
			ip: "192.0.2.1", want: true, wantReason: ReasonAllowed,
		},
		{
			name: "R8.6: no account state: the same account from another address is not refused",
			gaps: []time.Duration{0, 0, 0, 0, 0},
			ip:   "198.51.100.7", want: true, wantReason: ReasonAccountSlowed,
		},
		{
			name: "another account from the same address is not refused by the pair rule",
			gaps: []time.Duration{0, 0, 0, 0, 0}, account: "tranthib@sonla.gov.vn",
			ip: "192.0.2.1", want: true, wantReason: ReasonAllowed,
		},
		{
			name: "account names are compared case-insensitively",
			gaps: []time.Duration{0, 0, 0, 0, 0}, account: "NguyenVanA@SonLa.gov.vn",
			ip: "192.0.2.1", want: false, wantRetry: 15 * time.Minute, wantReason: ReasonPairRefused,
		},
		{
			name: "the client port does not matter",
			gaps: []time.Duration{0, 0, 0, 0, 0},
			ip:   "192.0.2.1:51234", want: false, wantRetry: 15 * time.Minute, wantReason: ReasonPairRefused,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := newTest(t, nil)
			for _, g := range tt.gaps {
				clk.Advance(g)
				m.Failure(ctx, "nguyenvana@sonla.gov.vn", "192.0.2.1")
			}
			clk.Advance(tt.after)
			account := tt.account
			if account == "" {
				account = "nguyenvana@sonla.gov.vn"
			}
			d := m.Check(ctx, account, tt.ip)
			if d.Allowed != tt.want || d.RetryAfter != tt.wantRetry || d.Reason != tt.wantReason {
				t.Errorf("Check = %+v, want Allowed=%v RetryAfter=%v Reason=%v",
					d, tt.want, tt.wantRetry, tt.wantReason)
			}
		})
	}
}

// Security-level controls, "Failed logins": 20 failures from one IP within 15
// minutes, over any accounts, refuse that IP for 15 minutes.
func TestFailedLogins_IPRefusedAfter20FailuresIn15Minutes(t *testing.T) {
	tests := []struct {
		name      string
		ip        string // the 20 (or n) failures come from here
		n         int
		checkIP   string
		want      bool
		wantRetry time.Duration
	}{
		{name: "19 failures leave the address allowed", ip: "203.0.113.5", n: 19, checkIP: "203.0.113.5", want: true},
		{name: "20 failures refuse the address", ip: "203.0.113.5", n: 20, checkIP: "203.0.113.5", wantRetry: 15 * time.Minute},
		{name: "other addresses are not refused", ip: "203.0.113.5", n: 20, checkIP: "203.0.113.6", want: true},
		{name: "IPv4-mapped IPv6 is the same address", ip: "::ffff:203.0.113.5", n: 20, checkIP: "203.0.113.5", wantRetry: 15 * time.Minute},
		{name: "IPv6 counts by /64: another host of the /64 is refused", ip: "2001:db8:1:2::1", n: 20, checkIP: "2001:db8:1:2:ffff::9", wantRetry: 15 * time.Minute},
		{name: "IPv6 counts by /64: rotating hosts inside the /64 does not evade", ip: "", n: 20, checkIP: "2001:db8:1:2::1", wantRetry: 15 * time.Minute},
		{name: "IPv6: another /64 is not refused", ip: "2001:db8:1:2::1", n: 20, checkIP: "2001:db8:1:3::1", want: true},
		{name: "bracketed IPv6 with port and zone", ip: "[fe80::1%eth0]:993", n: 20, checkIP: "fe80::2", wantRetry: 15 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newTest(t, nil)
			for i := range tt.n {
				ip := tt.ip
				if ip == "" {
					ip = fmt.Sprintf("2001:db8:1:2::%x", i+1)
				}
				m.Failure(ctx, fmt.Sprintf("user%d@sonla.gov.vn", i), ip)
			}
			d := m.Check(ctx, "fresh@sonla.gov.vn", tt.checkIP)
			if d.Allowed != tt.want || d.RetryAfter != tt.wantRetry {
				t.Fatalf("Check = %+v, want Allowed=%v RetryAfter=%v", d, tt.want, tt.wantRetry)
			}
			if !tt.want && d.Reason != ReasonIPRefused {
				t.Errorf("Reason = %v, want %v", d.Reason, ReasonIPRefused)
			}
		})
	}
}

// Security-level controls, "Failed logins": "doubling on repetition up to 12
// hours", for both refusals, and the doubling starts again after a quiet day.
func TestFailedLogins_RefusalDoublesUpTo12Hours(t *testing.T) {
	rules := []struct {
		name   string
		failTo func(m *Memory) // enough failures to trigger the rule once
		reason Reason
	}{
		{"pair", func(m *Memory) { failN(m, "nguyenvana", "192.0.2.1", 5) }, ReasonPairRefused},
		{"ip", func(m *Memory) {
			for i := range 20 {
				m.Failure(ctx, fmt.Sprintf("u%d", i), "192.0.2.1")
			}
		}, ReasonIPRefused},
	}
	want := []time.Duration{
		15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour,
		8 * time.Hour, 12 * time.Hour, 12 * time.Hour, 12 * time.Hour,
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			m, clk := newTest(t, nil)
			for i, period := range want {
				r.failTo(m)
				d := m.Check(ctx, "nguyenvana", "192.0.2.1")
				if d.Allowed || d.RetryAfter != period || d.Reason != r.reason {
					t.Fatalf("refusal %d: Check = %+v, want refused for %v (%v)", i+1, d, period, r.reason)
				}
				clk.Advance(period - time.Second)
				if m.Check(ctx, "nguyenvana", "192.0.2.1").Allowed {
					t.Fatalf("refusal %d: allowed 1 s before its end", i+1)
				}
				clk.Advance(time.Second)
				if d := m.Check(ctx, "nguyenvana", "192.0.2.1"); !d.Allowed {
					t.Fatalf("refusal %d: still refused at its end: %+v", i+1, d)
				}
			}
		})
	}
}

func TestFailedLogins_DoublingResetsAfterQuietPeriod(t *testing.T) {
	tests := []struct {
		quiet time.Duration // after the last failure of the first refusal
		want  time.Duration // the second refusal
	}{
		{quiet: 15 * time.Minute, want: 30 * time.Minute},
		{quiet: 23 * time.Hour, want: 30 * time.Minute},
		{quiet: 24 * time.Hour, want: 15 * time.Minute},
		{quiet: 10 * 24 * time.Hour, want: 15 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.quiet.String(), func(t *testing.T) {
			m, clk := newTest(t, nil)
			failN(m, "nguyenvana", "192.0.2.1", 5)
			clk.Advance(tt.quiet)
			m.Sweep(clk.Now()) // sweeping must not forget an escalation that still counts
			failN(m, "nguyenvana", "192.0.2.1", 5)
			if d := m.Check(ctx, "nguyenvana", "192.0.2.1"); d.RetryAfter != tt.want {
				t.Errorf("second refusal = %+v, want %v", d, tt.want)
			}
		})
	}
}

// Security-level controls, "Failed logins": an attacker hammering from one
// address is throttled, whatever accounts he tries.
func TestFailedLogins_1000AttemptsFromOneIPAreThrottled(t *testing.T) {
	tests := []struct {
		name    string
		account func(i int) string
		gap     time.Duration
		want    int // passwords actually verified out of 1,000
	}{
		// 5 verified, refused 15 min; 5 more, refused 30 min (past the end).
		{"one account, one per second", func(int) string { return "nguyenvana" }, time.Second, 10},
		{"one account, all at once", func(int) string { return "nguyenvana" }, 0, 5},
		// 20 verified, refused 15 min; 20 more, refused 30 min.
		{"many accounts, one per second", func(i int) string { return fmt.Sprintf("u%d", i) }, time.Second, 40},
		{"many accounts, all at once", func(i int) string { return fmt.Sprintf("u%d", i) }, 0, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := newTest(t, nil)
			verified := 0
			for i := range 1000 {
				if attempt(m, tt.account(i), "203.0.113.66") {
					verified++
				}
				clk.Advance(tt.gap)
			}
			if verified != tt.want {
				t.Errorf("verified %d of 1000 attempts, want %d", verified, tt.want)
			}
		})
	}
}

// Security-level controls, "Failed logins": failures for one account from many
// IPs slow its answers, 0 for the first 3, then 250 ms doubling up to 4 s.
func TestFailedLogins_AccountFailuresFromManyIPsSlowAnswers(t *testing.T) {
	tests := []struct {
		failures int
		after    time.Duration
		want     time.Duration
	}{
		{0, 0, 0}, {3, 0, 0},
		{4, 0, 250 * time.Millisecond},
		{5, 0, 500 * time.Millisecond},
		{6, 0, time.Second},
		{7, 0, 2 * time.Second},
		{8, 0, 4 * time.Second},
		{500, 0, 4 * time.Second},
		{500, 15 * time.Minute, 0}, // recent failures only
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d failures after %v", tt.failures, tt.after), func(t *testing.T) {
			m, clk := newTest(t, nil)
			for i := range tt.failures {
				m.Failure(ctx, "nguyenvana", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
			}
			clk.Advance(tt.after)
			d := m.Check(ctx, "nguyenvana", "198.51.100.1")
			if !d.Allowed || d.Delay != tt.want {
				t.Errorf("Check = %+v, want allowed with Delay %v", d, tt.want)
			}
			if tt.want > 0 && d.Reason != ReasonAccountSlowed {
				t.Errorf("Reason = %v, want %v", d.Reason, ReasonAccountSlowed)
			}
		})
	}
}

// Security-level controls, "Failed logins": "never refuse a client IP from which
// that account logged in successfully before — so a stranger cannot lock a civil
// servant out".
func TestFailedLogins_StrangerCannotLockOwnerOut(t *testing.T) {
	const owner = "nguyenvana@sonla.gov.vn"
	tests := []struct {
		name      string
		ownerIP   string // the owner logged in from here before
		attack    func(m *Memory, clk *clock.Fake)
		checkIP   string
		want      bool
		wantDelay time.Duration
	}{
		{
			name:    "a thousand failures from a thousand other addresses: known address answers at once",
			ownerIP: "192.0.2.10",
			attack: func(m *Memory, _ *clock.Fake) {
				for i := range 1000 {
					attempt(m, owner, fmt.Sprintf("10.0.%d.%d", i>>8, i&255))
				}
			},
			checkIP: "192.0.2.10", want: true,
		},
		{
			name:    "the same attack, the owner from a new address: slowed, never refused",
			ownerIP: "192.0.2.10",
			attack: func(m *Memory, _ *clock.Fake) {
				for i := range 1000 {
					attempt(m, owner, fmt.Sprintf("10.0.%d.%d", i>>8, i&255))
				}
			},
			checkIP: "198.51.100.20", want: true, wantDelay: 4 * time.Second,
		},
		{
			name:    "a stranger behind the office NAT refuses the address for strangers, not for the owner",
			ownerIP: "192.0.2.10",
			attack: func(m *Memory, _ *clock.Fake) {
				for i := range 1000 {
					attempt(m, fmt.Sprintf("u%d@sonla.gov.vn", i), "192.0.2.10")
				}
			},
			checkIP: "192.0.2.10", want: true,
		},
		{
			name:    "a phone's IPv6 privacy address changes inside its /64 and stays known",
			ownerIP: "2001:db8:aa:bb::1234",
			attack: func(m *Memory, _ *clock.Fake) {
				for i := range 1000 {
					attempt(m, owner, fmt.Sprintf("2001:db8:%x::1", i))
				}
			},
			checkIP: "2001:db8:aa:bb:9f3c::77", want: true,
		},
		{
			name:    "a slow attack over a day does not refuse the owner either",
			ownerIP: "192.0.2.10",
			attack: func(m *Memory, clk *clock.Fake) {
				for i := range 24 * 60 {
					attempt(m, owner, fmt.Sprintf("10.1.%d.%d", i>>8, i&255))
					attempt(m, owner, "203.0.113.9")
					clk.Advance(time.Minute)
				}
			},
			checkIP: "192.0.2.10", want: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := newTest(t, nil)
			m.Success(ctx, owner, tt.ownerIP)
			clk.Advance(time.Hour)
			tt.attack(m, clk)
			d := m.Check(ctx, owner, tt.checkIP)
			if d.Allowed != tt.want || d.Delay != tt.wantDelay {
				t.Errorf("owner's Check = %+v, want Allowed=%v Delay=%v", d, tt.want, tt.wantDelay)
			}
			// The exemption belongs to the owner's account only.
			if s := m.Check(ctx, "stranger@sonla.gov.vn", tt.checkIP); s.Reason == ReasonKnownClient {
				t.Errorf("stranger's Check = %+v: the exemption leaked to another account", s)
			}
		})
	}
}

// The exemption is for addresses the account succeeded from; the owner's own
// failures from there still count for the pair (5 wrong passwords from one device
// are refused like anyone's), and a known address is remembered for 30 days.
func TestFailedLogins_KnownAddressRememberedFor30Days(t *testing.T) {
	tests := []struct {
		after     time.Duration
		wantDelay time.Duration
		wantWhy   Reason
	}{
		{after: 29 * 24 * time.Hour, wantDelay: 0, wantWhy: ReasonKnownClient},
		{after: 30 * 24 * time.Hour, wantDelay: 4 * time.Second, wantWhy: ReasonAccountSlowed},
	}
	for _, tt := range tests {
		t.Run(tt.after.String(), func(t *testing.T) {
			m, clk := newTest(t, nil)
			m.Success(ctx, "nguyenvana", "192.0.2.10")
			clk.Advance(tt.after)
			m.Sweep(clk.Now())
			for i := range 10 {
				m.Failure(ctx, "nguyenvana", fmt.Sprintf("10.0.0.%d", i))
			}
			d := m.Check(ctx, "nguyenvana", "192.0.2.10")
			if !d.Allowed || d.Delay != tt.wantDelay || d.Reason != tt.wantWhy {
				t.Errorf("Check = %+v, want allowed, Delay %v, %v", d, tt.wantDelay, tt.wantWhy)
			}
		})
	}
}

func TestFailedLogins_OwnerFailuresFromKnownAddressStillRefuseThePair(t *testing.T) {
	m, _ := newTest(t, nil)
	m.Success(ctx, "nguyenvana", "192.0.2.10")
	failN(m, "nguyenvana", "192.0.2.10", 5)
	if d := m.Check(ctx, "nguyenvana", "192.0.2.10"); d.Allowed || d.Reason != ReasonPairRefused {
		t.Errorf("Check = %+v, want pair refused", d)
	}
}

func TestFailedLogins_SuccessForgivesThePairNotTheAddress(t *testing.T) {
	m, _ := newTest(t, nil)
	// The pair: 4 failures, a success, 4 more: not refused.
	failN(m, "nguyenvana", "192.0.2.1", 4)
	m.Success(ctx, "nguyenvana", "192.0.2.1")
	failN(m, "nguyenvana", "192.0.2.1", 4)
	if d := m.Check(ctx, "nguyenvana", "192.0.2.1"); !d.Allowed {
		t.Errorf("pair after success: %+v, want allowed", d)
	}
	// The address: an attacker logging into his own account between guesses
	// does not wipe his address's count (if it did, it would never reach 20).
	for i := range 20 {
		m.Failure(ctx, fmt.Sprintf("victim%d", i), "192.0.2.1")
		m.Success(ctx, "attacker", "192.0.2.1")
	}
	if d := m.Check(ctx, "victim99", "192.0.2.1"); d.Allowed || d.Reason != ReasonIPRefused {
		t.Errorf("address after failures between successes: %+v, want refused", d)
	}
}

func TestMemoryIsBounded(t *testing.T) {
	m, clk := newTest(t, func(c *Config) { c.MaxKeys = 100 })
	for i := range 20_000 {
		m.Failure(ctx, fmt.Sprintf("spray%d", i), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
		m.Success(ctx, fmt.Sprintf("own%d", i), "192.0.2.1")
		if i%1000 == 0 {
			clk.Advance(time.Second)
		}
	}
	s := m.Stats()
	if s.Pairs > 100 || s.IPs > 100 || s.Accounts > 100 || s.KnownAccounts > 100 {
		t.Errorf("tables exceed MaxKeys=100: %+v", s)
	}
	if s.LiveEvictions == 0 {
		t.Errorf("LiveEvictions = 0, want the evictions counted")
	}

	// One account logging in from many addresses keeps only KnownPerAccount.
	m, _ = newTest(t, func(c *Config) { c.KnownPerAccount = 3 })
	for i := range 10 {
		m.Success(ctx, "roamer", fmt.Sprintf("10.0.0.%d", i))
	}
	failN(m, "roamer", "198.51.100.1", 10) // slow strangers down
	for i, want := range []time.Duration{4 * time.Second, 0, 0, 0} {
		ip := fmt.Sprintf("10.0.0.%d", 6+i)
		if d := m.Check(ctx, "roamer", ip); d.Delay != want {
			t.Errorf("%s: Delay %v, want %v", ip, d.Delay, want)
		}
	}
}

func TestSweepDropsOnlyWhatNoLongerMatters(t *testing.T) {
	m, clk := newTest(t, nil)
	failN(m, "refused", "192.0.2.1", 5)  // pair refused: kept 24 h for the doubling
	failN(m, "once", "192.0.2.2", 1)     // one failure: kept 15 min
	m.Success(ctx, "owner", "192.0.2.3") // known: kept 30 days

	steps := []struct {
		advance time.Duration
		want    Stats
	}{
		{0, Stats{Pairs: 2, IPs: 2, Accounts: 2, KnownAccounts: 1}},
		{15 * time.Minute, Stats{Pairs: 1, IPs: 0, Accounts: 0, KnownAccounts: 1}},
		{24 * time.Hour, Stats{KnownAccounts: 1}},
		{30 * 24 * time.Hour, Stats{}},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		m.Sweep(clk.Now())
		if got := m.Stats(); got != s.want {
			t.Errorf("after +%v: %+v, want %+v", s.advance, got, s.want)
		}
	}
}

func TestKeys(t *testing.T) {
	accounts := []struct{ in, want string }{
		{"NguyenVanA@SonLa.Gov.VN", "nguyenvana@sonla.gov.vn"},
		{"  spaced  ", "spaced"},
		{"Họp@sonla.gov.vn", "họp@sonla.gov.vn"},
		{"Ho\u0323p@sonla.gov.vn", "họp@sonla.gov.vn"}, // NFD spelling
		{"hop@sonla.gov.vn", "hop@sonla.gov.vn"},       // diacritics are not folded
	}
	for _, tt := range accounts {
		if got := accountKey(tt.in); got != tt.want {
			t.Errorf("accountKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := len(accountKey(string(make([]byte, 1<<20)))); got > maxAccountKey {
		t.Errorf("a 1 MiB account name makes a key of %d bytes", got)
	}

	ips := []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"192.0.2.1:587", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"[::ffff:192.0.2.1]:993", "192.0.2.1"},
		{"2001:DB8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2::9]:143", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"", invalidIP},
		{"not an address", invalidIP},
		{"@\x00", invalidIP},
	}
	for _, tt := range ips {
		if got := ipKey(tt.in, 64); got != tt.want {
			t.Errorf("ipKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig: %v", err)
	}
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"zero config", func(c *Config) { *c = Config{} }},
		{"PairFailures 0", func(c *Config) { c.PairFailures = 0 }},
		{"PairFailures huge", func(c *Config) { c.PairFailures = 1 << 20 }},
		{"IPWindow 0", func(c *Config) { c.IPWindow = 0 }},
		{"MaxRefusal below PairRefusal", func(c *Config) { c.MaxRefusal = time.Minute }},
		{"AccountMaxDelay below base", func(c *Config) { c.AccountMaxDelay = time.Millisecond }},
		{"IPv6PrefixBits 129", func(c *Config) { c.IPv6PrefixBits = 129 }},
		{"MaxKeys 0", func(c *Config) { c.MaxKeys = 0 }},
	}
	for _, tt := range tests {
		cfg := DefaultConfig()
		tt.mod(&cfg)
		if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: Validate = %v, want ErrInvalidConfig", tt.name, err)
		}
		if _, err := NewMemory(cfg, clock.Real{}); err == nil {
			t.Errorf("%s: NewMemory accepted it", tt.name)
		}
	}
	if _, err := NewMemory(DefaultConfig(), nil); err == nil {
		t.Error("NewMemory accepted a nil clock")
	}
}

func TestDecisionSleep(t *testing.T) {
	if err := (Decision{}).Sleep(ctx); err != nil {
		t.Errorf("no delay: %v", err)
	}
	if err := (Decision{Delay: time.Millisecond}).Sleep(ctx); err != nil {
		t.Errorf("1 ms: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := (Decision{Delay: time.Hour}).Sleep(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	m, clk := newTest(t, func(c *Config) { c.MaxKeys = 64 })
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				acct, ip := fmt.Sprintf("a%d", i%50), fmt.Sprintf("10.0.%d.%d", g, i%40)
				if m.Check(ctx, acct, ip).Allowed {
					if i%7 == 0 {
						m.Success(ctx, acct, ip)
					} else {
						m.Failure(ctx, acct, ip)
					}
				}
				if i%100 == 0 {
					clk.Advance(time.Minute)
					m.Sweep(clk.Now())
					_ = m.Stats()
				}
			}
		})
	}
	wg.Wait()
	if s := m.Stats(); s.Pairs > 64 || s.IPs > 64 || s.Accounts > 64 || s.KnownAccounts > 64 {
		t.Errorf("tables exceed MaxKeys: %+v", s)
	}
}

// BenchmarkCheckFailure measures one failed attempt (Check then Failure) over a
// working set larger than MaxKeys, so that eviction is part of the cost.
func BenchmarkCheckFailure(b *testing.B) {
	const n = 1 << 14
	accounts, ips := make([]string, n), make([]string, n)
	for i := range n {
		accounts[i] = fmt.Sprintf("user%d@sonla.gov.vn", i)
		ips[i] = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
	}
	b.Run("serial", func(b *testing.B) {
		m, clk := newTest(b, func(c *Config) { c.MaxKeys = n / 2 })
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			a, ip := accounts[i%n], ips[(i*7)%n]
			m.Check(ctx, a, ip)
			m.Failure(ctx, a, ip)
			if i%1024 == 0 {
				clk.Advance(time.Second)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		m, _ := newTest(b, func(c *Config) { c.MaxKeys = n / 2 })
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				a, ip := accounts[i%n], ips[(i*7)%n]
				m.Check(ctx, a, ip)
				m.Failure(ctx, a, ip)
			}
		})
	})
}
