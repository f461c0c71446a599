package password

import (
	"testing"
	"time"
)

// at returns a local time in loc.
func at(loc *time.Location, y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, loc)
}

// C2, R6.2: every password vector of "Counting time", and the 6-month log vector through
// the same function, in the real zone and in the UTC+7 fallback.
func TestExpiresOn_C2(t *testing.T) {
	for _, loc := range []*time.Location{Location(), time.FixedZone("ICT", 7*3600)} {
		cases := []struct {
			set    time.Time
			months int
			want   string
		}{
			{at(loc, 2026, 8, 31, 9, 0), 3, "2026-11-30"},  // set Mon 2026-08-31 → valid through Mon 2026-11-30
			{at(loc, 2025, 11, 30, 9, 0), 3, "2026-02-28"}, // set Sun 2025-11-30 → through Sat 2026-02-28, no extension
			{at(loc, 2026, 8, 31, 0, 0), 6, "2027-02-28"},  // 6-month log: entry 2026-08-31 → kept through 2027-02-28
			{at(loc, 2027, 11, 30, 9, 0), 3, "2028-02-29"}, // leap year
			{at(loc, 2026, 1, 31, 9, 0), 1, "2026-02-28"},  // stricter 1-month policy
			{at(loc, 2026, 10, 31, 9, 0), 3, "2027-01-31"}, // across the year end
			{at(loc, 2026, 3, 15, 9, 0), 3, "2026-06-15"},
		}
		for _, c := range cases {
			if got := ExpiresOn(c.set, c.months, loc).String(); got != c.want {
				t.Errorf("%s: ExpiresOn(%s, %d) = %s, want %s", loc, c.set, c.months, got, c.want)
			}
		}
	}
}

// C2, R6.2: the change is required from the day after the last valid day, by the local
// calendar of Asia/Ho_Chi_Minh, whatever zone the instants come in.
func TestMustChange_C2_R6_2(t *testing.T) {
	loc := Location()
	p := DefaultPolicy()
	cases := []struct {
		set, now time.Time
		want     bool
	}{
		{at(loc, 2026, 8, 31, 9, 0), at(loc, 2026, 11, 30, 23, 59), false},
		{at(loc, 2026, 8, 31, 9, 0), at(loc, 2026, 12, 1, 0, 0), true}, // change required from 2026-12-01
		{at(loc, 2025, 11, 30, 9, 0), at(loc, 2026, 2, 28, 23, 59), false},
		{at(loc, 2025, 11, 30, 9, 0), at(loc, 2026, 3, 1, 0, 0), true}, // from 2026-03-01
		{at(loc, 2026, 8, 31, 9, 0), at(loc, 2026, 8, 31, 9, 0), false},
		// 2026-08-30 17:30 UTC is 2026-08-31 00:30 in Sơn La: set on the 31st.
		{time.Date(2026, 8, 30, 17, 30, 0, 0, time.UTC), time.Date(2026, 11, 30, 16, 59, 0, 0, time.UTC), false},
		{time.Date(2026, 8, 30, 17, 30, 0, 0, time.UTC), time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC), true},
		// 2026-08-31 17:30 UTC is 2026-09-01 in Sơn La: valid through 2026-12-01.
		{time.Date(2026, 8, 31, 17, 30, 0, 0, time.UTC), at(loc, 2026, 12, 1, 23, 0), false},
	}
	for _, c := range cases {
		if got := p.MustChange(c.set, c.now, loc); got != c.want {
			t.Errorf("MustChange(%s, %s) = %v, want %v", c.set, c.now, got, c.want)
		}
		if got := p.MustChange(c.set, c.now, nil); got != c.want {
			t.Errorf("nil loc: MustChange(%s, %s) = %v, want %v", c.set, c.now, got, c.want)
		}
	}
	// R6.4: a zero or over-long policy still expires at 3 months.
	set, now := at(loc, 2026, 8, 31, 9, 0), at(loc, 2026, 12, 1, 9, 0)
	for _, q := range []Policy{{}, {MaxAgeMonths: 12}} {
		if !q.MustChange(set, now, loc) {
			t.Errorf("%+v: a password older than 3 months must be changed", q)
		}
	}
	if (Policy{MaxAgeMonths: 1}).ExpiresOn(set, loc).String() != "2026-09-30" {
		t.Error("a stricter maximum age is honoured")
	}
}

// R6.2: reminders 14, 7 and 1 days before the last valid day, and on no other day.
func TestReminderDue_R6_2(t *testing.T) {
	loc := Location()
	p := DefaultPolicy()
	set := at(loc, 2026, 8, 31, 9, 0) // valid through 2026-11-30
	due := map[int]int{}
	for d := at(loc, 2026, 8, 31, 12, 0); d.Before(at(loc, 2026, 12, 31, 0, 0)); d = d.AddDate(0, 0, 1) {
		if n, ok := p.ReminderDue(set, d, loc); ok {
			due[d.Day()+100*int(d.Month())] = n
		}
	}
	want := map[int]int{1116: 14, 1123: 7, 1129: 1}
	if len(due) != len(want) {
		t.Fatalf("reminders %v, want %v", due, want)
	}
	for k, v := range want {
		if due[k] != v {
			t.Errorf("reminders %v, want %v", due, want)
		}
	}
	// Configured days; an empty list means the default.
	q := Policy{ReminderDays: []int{3}}
	if n, ok := q.ReminderDue(set, at(loc, 2026, 11, 27, 8, 0), loc); !ok || n != 3 {
		t.Errorf("configured 3 days: %d, %v", n, ok)
	}
	if n, ok := (Policy{}).ReminderDue(set, at(loc, 2026, 11, 23, 8, 0), loc); !ok || n != 7 {
		t.Errorf("default days: %d, %v", n, ok)
	}
}
