package lifecycle

import (
	"context"
	"fmt"
	"strconv"

	"govmail/internal/notify"
	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/workdays"
)

// DailyReport counts what one run of the daily jobs did.
type DailyReport struct {
	Locked, Revoked, Reminders, Overdue int
}

// inactivityStart is the day the 90-day clock counts from (R0.1, R8.2, R8.5):
// the latest of the last login, creation, restore, the rules' entry into force
// and the end of the last absence.
func (s *Service) inactivityStart(a store.AccountLife, absences []store.Absence) workdays.Date {
	l := s.loc()
	var ev []workdays.Date
	if !a.LastLoginAt.IsZero() {
		ev = append(ev, workdays.DateOf(a.LastLoginAt, l))
	}
	if !a.CreatedAt.IsZero() {
		ev = append(ev, workdays.DateOf(a.CreatedAt, l))
	}
	if !a.RestoredAt.IsZero() {
		ev = append(ev, workdays.DateOf(a.RestoredAt, l))
	}
	for _, ab := range absences {
		if d, err := workdays.Parse(ab.Ends); err == nil {
			ev = append(ev, d)
		}
	}
	return workdays.ClockStart(ev...)
}

func absentOn(absences []store.Absence, d workdays.Date) bool {
	for _, ab := range absences {
		st, err1 := workdays.Parse(ab.Starts)
		en, err2 := workdays.Parse(ab.Ends)
		if err1 == nil && err2 == nil && !d.Before(st) && !d.After(en) {
			return true
		}
	}
	return false
}

// RunDaily applies the time rules for today. Running it twice in a day changes
// nothing the second time: locks and revocations are state changes, and every
// notice is recorded before it is sent.
func (s *Service) RunDaily(ctx context.Context) (*DailyReport, error) {
	rep := &DailyReport{}
	today := s.today()
	lives, err := s.Store.AccountLives(ctx, store.StateActive, store.StateLocked)
	if err != nil {
		return nil, err
	}
	for _, a := range lives {
		var err error
		switch a.State {
		case store.StateActive:
			err = s.dailyActive(ctx, a, today, rep)
		case store.StateLocked:
			err = s.dailyLocked(ctx, a, today, rep)
		}
		if err != nil {
			s.Logger.Error("daily job", "account", a.Address, "err", err)
		}
	}
	reqs, err := s.Store.ListRequests(ctx, store.RequestFilter{State: store.RequestReceived})
	if err != nil {
		return rep, err
	}
	for _, r := range reqs {
		if r.Deadline == "" {
			continue
		}
		if d, err := workdays.Parse(r.Deadline); err == nil && today.After(d) {
			rep.Overdue++ // R8.5: flagged in the portal and counted in reports
		}
	}
	s.Logger.Info("daily jobs", "day", today.String(), "locked", rep.Locked, "revoked", rep.Revoked, "reminders", rep.Reminders, "overdue_requests", rep.Overdue)
	return rep, nil
}

func (s *Service) dailyActive(ctx context.Context, a store.AccountLife, today workdays.Date, rep *DailyReport) error {
	absences, err := s.Store.Absences(ctx, a.ID)
	if err != nil {
		return err
	}
	start := s.inactivityStart(a, absences)
	passed := workdays.DaysPassed(start, today)
	// R8.2: locked from day 91 after the start; an absence in force suspends it.
	if !absentOn(absences, today) {
		if !today.Before(workdays.ConsequenceFrom(start, s.Policy.InactivityDays)) {
			if err := s.Lock(ctx, a.ID, store.LockInactivity, fmt.Sprintf("lần đăng nhập/mốc cuối / last login or start: %s", start), "system:inactivity"); err != nil {
				return err
			}
			rep.Locked++
			return nil
		}
		// R8.7: reminders after 60 and 80 days without a login.
		for _, d := range s.Policy.InactivityReminders {
			if passed >= d {
				if sent, err := s.remind(ctx, a.Account, "inactive", strconv.Itoa(d)+":"+start.String(), s.inactivityMsg(a.Account, d, start), true); err != nil {
					return err
				} else if sent {
					rep.Reminders++
				}
			}
		}
	}
	// R6.2: password reminders 14, 7 and 1 days before expiry.
	if !a.MustChange && !a.PasswordSetAt.IsZero() {
		if days, ok := s.Passwords.ReminderDue(a.PasswordSetAt, s.Clock.Now(), s.loc()); ok {
			exp := password.ExpiresOn(a.PasswordSetAt, s.Passwords.MaxAgeMonths, s.loc())
			if sent, err := s.remind(ctx, a.Account, "password", strconv.Itoa(days)+":"+exp.String(), s.passwordMsg(a.Account, days, exp), false); err != nil {
				return err
			} else if sent {
				rep.Reminders++
			}
		}
	}
	return nil
}

func (s *Service) dailyLocked(ctx context.Context, a store.AccountLife, today workdays.Date, rep *DailyReport) error {
	if a.LockedAt.IsZero() {
		return nil
	}
	locked := workdays.DateOf(a.LockedAt, s.loc())
	revokeFrom := workdays.ConsequenceFrom(locked, s.Policy.RevokeAfterDays)
	// R8.4: a restore request received within the 30 days holds the revocation
	// while it waits; once rejected it no longer holds.
	held, err := s.Store.PendingRequestFor(ctx, a.ID, store.RequestRestore, a.LockedAt)
	if err != nil {
		return err
	}
	if held {
		return nil
	}
	if !today.Before(revokeFrom) {
		if err := s.Revoke(ctx, a.ID, "system:revoke-after-lock", fmt.Sprintf("khóa từ / locked since %s, không có đề nghị khôi phục / no restore request", locked)); err != nil {
			return err
		}
		rep.Revoked++
		return nil
	}
	if !today.Before(revokeFrom.AddDays(-s.Policy.RevokeReminderDays)) {
		manager, security := s.unitPeople(ctx, &a.Account)
		msg := notify.Message{Kind: "revoke-reminder",
			SubjectVI: "Sắp thu hồi hộp thư " + a.Address, SubjectEN: "Mailbox " + a.Address + " will soon be revoked",
			BodyVI: fmt.Sprintf("Hộp thư %s bị khóa từ ngày %s. Nếu Sở Khoa học và Công nghệ không nhận được văn bản đề nghị khôi phục, tài khoản sẽ bị thu hồi từ ngày %s và toàn bộ dữ liệu bị xóa vĩnh viễn (Điều 7.2, 8.1).",
				a.Address, dmy(locked), dmy(revokeFrom)),
			BodyEN: fmt.Sprintf("Mailbox %s has been locked since %s. Unless the Department of Science and Technology receives a restore request, it will be revoked from %s and all its data deleted for good (Art. 7.2, 8.1).",
				a.Address, locked, revokeFrom)}
		if first, err := s.Store.MarkNotice(ctx, a.ID, "revoke-reminder", locked.String(), s.Clock.Now()); err != nil {
			return err
		} else if first {
			if err := s.Notify.Send(ctx, msg, manager, security); err != nil {
				return err
			}
			rep.Reminders++
		}
	}
	return nil
}

// remind sends a notice once per key, to the user and, when toManager, to the
// unit manager too.
func (s *Service) remind(ctx context.Context, a store.Account, kind, key string, m notify.Message, toManager bool) (bool, error) {
	first, err := s.Store.MarkNotice(ctx, a.ID, kind, key, s.Clock.Now())
	if err != nil || !first {
		return false, err
	}
	to := []*store.Account{&a}
	if toManager {
		manager, _ := s.unitPeople(ctx, &a)
		to = append(to, manager)
	}
	return true, s.Notify.Send(ctx, m, to...)
}

func (s *Service) inactivityMsg(a store.Account, days int, start workdays.Date) notify.Message {
	lockFrom := workdays.ConsequenceFrom(start, s.Policy.InactivityDays)
	return notify.Message{Kind: "inactivity-reminder",
		SubjectVI: fmt.Sprintf("Hộp thư %s chưa đăng nhập %d ngày", a.Address, days),
		SubjectEN: fmt.Sprintf("Mailbox %s not used for %d days", a.Address, days),
		BodyVI: fmt.Sprintf("Hộp thư %s chưa đăng nhập từ ngày %s. Theo Điều 8.2a, hộp thư không đăng nhập quá %d ngày mà không thông báo lý do sẽ bị khóa từ ngày %s.\nHãy đăng nhập tại %s, hoặc đề nghị thủ trưởng đơn vị thông báo lý do vắng mặt.",
			a.Address, dmy(start), s.Policy.InactivityDays, dmy(lockFrom), s.WebURL),
		BodyEN: fmt.Sprintf("Mailbox %s has not been used since %s. Under Art. 8.2a a mailbox unused for %d days without a declared reason is locked from %s.\nLog in at %s, or ask the head of your unit to declare your absence.",
			a.Address, start, s.Policy.InactivityDays, lockFrom, s.WebURL)}
}

func (s *Service) passwordMsg(a store.Account, days int, exp workdays.Date) notify.Message {
	return notify.Message{Kind: "password-reminder",
		SubjectVI: fmt.Sprintf("Mật khẩu hết hạn sau %d ngày", days),
		SubjectEN: fmt.Sprintf("Your password expires in %d days", days),
		BodyVI: fmt.Sprintf("Mật khẩu của hộp thư %s có hiệu lực đến hết ngày %s (Điều 6: đổi mật khẩu 3 tháng một lần). Hãy đổi mật khẩu tại %s.",
			a.Address, dmy(exp), s.WebURL),
		BodyEN: fmt.Sprintf("The password of %s is valid through %s (Art. 6: change it every 3 months). Change it at %s.", a.Address, exp, s.WebURL)}
}
