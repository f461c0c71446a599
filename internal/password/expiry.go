package password

import (
	"slices"
	"time"

	"govmail/internal/workdays"
)

// The calendar arithmetic of rule C2 belongs to workdays, which owns every day count of
// the regulation; this file only applies it to passwords (R6.2), so that the password
// age and the 6-month log retention can never count months differently.

// Location returns Asia/Ho_Chi_Minh, or a fixed UTC+7 zone when the system has no
// time-zone database (workdays.Location).
func Location() *time.Location { return workdays.Location() }

// ExpiresOn returns the last day on which a password set at setAt is valid, counting
// months as rule C2 does: the same day of the month `months` later, or that month's
// last day when it has no such day (set 31 Aug → valid through 30 Nov; set
// 30 Nov 2025 → through 28 Feb 2026). Dates are local to loc (nil: Location()). A
// change is required from the day after.
func ExpiresOn(setAt time.Time, months int, loc *time.Location) workdays.Date {
	return workdays.MonthPeriodEnd(workdays.DateOf(setAt, loc), months)
}

// ExpiresOn is ExpiresOn with the policy's maximum age (R6.2), floors applied.
func (p Policy) ExpiresOn(setAt time.Time, loc *time.Location) workdays.Date {
	return ExpiresOn(setAt, p.effective().MaxAgeMonths, loc)
}

// MustChange reports whether a password set at setAt has expired at now (R6.2): from
// the day after its last valid day the account is treated as in R6.1.
func (p Policy) MustChange(setAt, now time.Time, loc *time.Location) bool {
	return workdays.DateOf(now, loc).After(p.ExpiresOn(setAt, loc))
}

// ReminderDue reports whether the date of now is a reminder day of R6.2 and how many
// days before the last valid day it is. Days are counted to the last valid day, so the
// "1 day before" reminder comes the day before it and leaves the holder a whole day to
// act: set 2026-08-31, valid through 2026-11-30, reminders on 11-16, 11-23 and 11-29.
// Reminder days are ReminderDays, or 14, 7, 1 when the policy has none.
func (p Policy) ReminderDue(setAt, now time.Time, loc *time.Location) (daysBefore int, ok bool) {
	days := p.ReminderDays
	if len(days) == 0 {
		days = DefaultPolicy().ReminderDays
	}
	left := p.ExpiresOn(setAt, loc).Sub(workdays.DateOf(now, loc))
	if left >= 1 && slices.Contains(days, left) {
		return left, true
	}
	return 0, false
}
