package workdays

import "testing"

// C1 with the vectors of REQUIREMENTS: R8.2 (90 days without login → lock) and R8.4
// (30 days locked → revoke).
func TestDayPeriods_C1_R8_2_R8_4(t *testing.T) {
	tests := []struct {
		rule      string
		event     string
		n         int
		end       string
		effective string
	}{
		{"R8.2 90 days without login", "2026-01-06", 90, "2026-04-06", "2026-04-07"},
		{"R8.4 30 days locked", "2026-04-07", 30, "2026-05-07", "2026-05-08"},
		{"C1 across a leap day", "2028-02-01", 30, "2028-03-02", "2028-03-03"},
		{"C1 across the new year", "2025-12-15", 30, "2026-01-14", "2026-01-15"},
		// C1: calendar periods are not extended over holidays; day 30 here is in Tết.
		{"C1 no extension over Tết", "2026-01-18", 30, "2026-02-17", "2026-02-18"},
	}
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			ev := d(t, tc.event)
			if got := PeriodEnd(ev, tc.n).String(); got != tc.end {
				t.Errorf("PeriodEnd = %s, want %s", got, tc.end)
			}
			eff := ConsequenceFrom(ev, tc.n)
			if eff.String() != tc.effective {
				t.Errorf("ConsequenceFrom = %s, want %s", eff, tc.effective)
			}
			// DaysPassed reaches n exactly on the day the consequence applies.
			if got := DaysPassed(ev, eff.AddDays(-1)); got != tc.n-1 {
				t.Errorf("DaysPassed on the last day = %d, want %d", got, tc.n-1)
			}
			if got := DaysPassed(ev, eff); got != tc.n {
				t.Errorf("DaysPassed on the effective day = %d, want %d", got, tc.n)
			}
			if got := DayPeriodCutoff(eff, tc.n); got != ev {
				t.Errorf("DayPeriodCutoff(%s) = %s, want the event %s", eff, got, ev)
			}
			if got := DayPeriodCutoff(eff.AddDays(-1), tc.n); !got.Before(ev) {
				t.Errorf("DayPeriodCutoff the day before = %s, must be before %s", got, ev)
			}
		})
	}
	if DaysPassed(d(t, "2026-01-06"), d(t, "2026-01-06")) != 0 || DaysPassed(d(t, "2026-01-06"), d(t, "2026-01-01")) != 0 {
		t.Error("DaysPassed must be 0 on and before the day of the event")
	}
}

// R8.7 reminders after 60 and 80 days use the same count as the lock.
func TestReminderDays_R8_7(t *testing.T) {
	login := d(t, "2026-01-06")
	if got := ConsequenceFrom(login, 60).String(); got != "2026-03-08" {
		t.Errorf("60-day reminder from %s, want 2026-03-08", got)
	}
	if got := ConsequenceFrom(login, 30).AddDays(-10); got != d(t, "2026-01-27") {
		t.Errorf("10 days before a revocation from 2026-02-06: %s", got)
	}
}

// R0.1: the 90-day clock runs from the latest of last login, creation/import and
// 2025-11-20; R8.2: an absence's end date or a restore restarts it.
func TestClockStart_R0_1(t *testing.T) {
	tests := []struct {
		name   string
		events []string
		start  string
		locked string
	}{
		{"login before the regulation", []string{"2025-06-01"}, "2025-11-20", "2026-02-19"},
		{"never logged in, imported before", []string{"", "2025-01-01"}, "2025-11-20", "2026-02-19"},
		{"created after the regulation", []string{"", "2026-01-06"}, "2026-01-06", "2026-04-07"},
		{"login after creation", []string{"2026-01-06", "2025-12-01"}, "2026-01-06", "2026-04-07"},
		{"R8.2 absence ends after the last login", []string{"2026-01-06", "2025-12-01", "2026-03-31"}, "2026-03-31", "2026-06-30"},
		{"no events", nil, "2025-11-20", "2026-02-19"},
	}
	for _, tc := range tests {
		var evs []Date
		for _, s := range tc.events {
			if s == "" {
				evs = append(evs, Date{})
				continue
			}
			evs = append(evs, d(t, s))
		}
		start := ClockStart(evs...)
		if start.String() != tc.start {
			t.Errorf("%s: ClockStart = %s, want %s", tc.name, start, tc.start)
		}
		if got := ConsequenceFrom(start, 90).String(); got != tc.locked {
			t.Errorf("%s: locked from %s, want %s", tc.name, got, tc.locked)
		}
	}
}

// C2 with the vectors of REQUIREMENTS: the 3-month password (R6.2) and the 6-month log
// (Điều 11).
func TestMonthPeriods_C2(t *testing.T) {
	tests := []struct {
		rule      string
		start     string
		n         int
		through   string
		effective string
	}{
		{"C2 3-month password set on the 31st", "2026-08-31", 3, "2026-11-30", "2026-12-01"},
		{"C2 3-month password, no extension past a Saturday", "2025-11-30", 3, "2026-02-28", "2026-03-01"},
		{"C2 6-month log", "2026-08-31", 6, "2027-02-28", "2027-03-01"},
		{"C2 into a leap February", "2027-08-31", 6, "2028-02-29", "2028-03-01"},
		{"C2 ordinary day", "2026-01-15", 3, "2026-04-15", "2026-04-16"},
		{"C2 across the year", "2026-11-30", 3, "2027-02-28", "2027-03-01"},
		{"C2 from 29 February", "2028-02-29", 12, "2029-02-28", "2029-03-01"},
	}
	for _, tc := range tests {
		st := d(t, tc.start)
		if got := MonthPeriodEnd(st, tc.n).String(); got != tc.through {
			t.Errorf("%s: valid through %s, want %s", tc.rule, got, tc.through)
		}
		if got := MonthConsequenceFrom(st, tc.n).String(); got != tc.effective {
			t.Errorf("%s: consequence from %s, want %s", tc.rule, got, tc.effective)
		}
	}
	if got := AddMonthsClamped(d(t, "2026-03-31"), -1).String(); got != "2026-02-28" {
		t.Errorf("AddMonthsClamped backwards = %s, want 2026-02-28", got)
	}
	if got := AddMonthsClamped(d(t, "2026-01-31"), -13).String(); got != "2024-12-31" {
		t.Errorf("AddMonthsClamped -13 = %s, want 2024-12-31", got)
	}
}

// The purge cutoff must select exactly the entries whose 6 months are over (C2,
// Điều 11): checked against MonthConsequenceFrom for every day of two years.
func TestMonthPeriodCutoff_C2(t *testing.T) {
	if got := MonthPeriodCutoff(d(t, "2027-03-01"), 6).String(); got != "2026-08-31" {
		t.Errorf("cutoff on 2027-03-01 = %s, want 2026-08-31", got)
	}
	if got := MonthPeriodCutoff(d(t, "2027-02-28"), 6).String(); got != "2026-08-27" {
		t.Errorf("cutoff on 2027-02-28 = %s, want 2026-08-27", got)
	}
	for _, n := range []int{1, 3, 6} {
		for today := d(t, "2026-01-01"); today.Before(d(t, "2028-12-31")); today = today.AddDays(1) {
			cut := MonthPeriodCutoff(today, n)
			if MonthConsequenceFrom(cut, n).After(today) {
				t.Fatalf("n=%d today=%s: cutoff %s is not yet purgeable", n, today, cut)
			}
			if next := cut.AddDays(1); !MonthConsequenceFrom(next, n).After(today) {
				t.Fatalf("n=%d today=%s: %s after the cutoff %s is already purgeable", n, today, next, cut)
			}
		}
	}
}
