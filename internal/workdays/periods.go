package workdays

import "time"

// RulesInForce returns 2025-11-20, the day Quyết định 115/2025/QĐ-UBND took effect
// (R0.1). It is a function, not a variable, so that no caller can move it.
func RulesInForce() Date { return Date{2025, time.November, 20} }

// ClockStart returns the event from which a day period runs: the latest of the given
// dates (zero dates ignored) and RulesInForce. R0.1: no time before the regulation, and
// none before the account existed, counts; R8.2: a later login or the end of a declared
// absence restarts the count. RulesInForce is treated like any other event, so its own
// day is not counted (C1); that reading gives the account one more day, never one less.
func ClockStart(events ...Date) Date {
	start := RulesInForce()
	for _, e := range events {
		if !e.IsZero() && e.After(start) {
			start = e
		}
	}
	return start
}

// PeriodEnd returns the last day of a period of n calendar days after event (C1): the
// day of the event is not counted (Civil Code 2015, Art. 147), so day 1 is the next day
// and the period ends at the end of day n (Art. 148). It is not moved off weekends or
// holidays: the regulation counts calendar days here.
func PeriodEnd(event Date, n int) Date { return event.AddDays(n) }

// ConsequenceFrom returns the first day on which the consequence of an n-day period
// applies (C1): the day after PeriodEnd. Lock for 90 days without login (R8.2) and
// revocation after 30 days locked (R8.4) both take effect from this day.
func ConsequenceFrom(event Date, n int) Date { return event.AddDays(n + 1) }

// DaysPassed returns how many whole days of a period after event have ended when today
// begins. An n-day period is over exactly when DaysPassed(event, today) >= n, so the
// reminders of R8.7 (after 60 and 80 days) and the lock at 90 use one comparison.
func DaysPassed(event, today Date) int {
	if n := today.Sub(event) - 1; n > 0 {
		return n
	}
	return 0
}

// DayPeriodCutoff returns the latest event date whose n-day period is over when today
// begins: events on or before it have their consequence in force today. A daily job can
// select "last login <= cutoff" instead of computing a period per account.
func DayPeriodCutoff(today Date, n int) Date { return today.AddDays(-(n + 1)) }

// AddMonthsClamped returns the same day of the month n months after d, or that month's
// last day when it has no such day (C2). time.AddDate would roll 31 August + 3 months
// over to 1 December and so extend a password's validity by a day.
func AddMonthsClamped(d Date, n int) Date {
	m0 := int(d.m) - 1 + n
	y := d.y + floorDiv(m0, 12)
	m := time.Month(floorMod(m0, 12) + 1)
	day := d.d
	if last := daysIn(y, m); day > last {
		day = last
	}
	return Date{y, m, day}
}

// MonthPeriodEnd returns the last day of a period of n months starting on start (C2):
// a password set on 2026-08-31 with a 3-month maximum age is valid through 2026-11-30.
// Like day periods, it is not extended past weekends or holidays.
func MonthPeriodEnd(start Date, n int) Date { return AddMonthsClamped(start, n) }

// MonthConsequenceFrom returns the first day after an n-month period (C2): the day a
// password change is required (R6.2), or a log entry may be purged (Điều 11, 6 months).
func MonthConsequenceFrom(start Date, n int) Date { return AddMonthsClamped(start, n).AddDays(1) }

// MonthPeriodCutoff returns the latest start date whose n-month period is over when
// today begins, so that a purge can delete "entries dated <= cutoff". Clamping makes
// several start dates share one end (29, 30 and 31 August + 6 months all end on
// 28 February), so the cutoff is the last of them.
func MonthPeriodCutoff(today Date, n int) Date {
	lastEnded := today.AddDays(-1)
	c := AddMonthsClamped(lastEnded, -n)
	if lastEnded.d == daysIn(lastEnded.y, lastEnded.m) {
		c = Date{c.y, c.m, daysIn(c.y, c.m)}
	}
	return c
}
