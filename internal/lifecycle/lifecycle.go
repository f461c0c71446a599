// Package lifecycle owns the account workflow of Điều 7, 8 and 9: requests with
// their document references, lock, restore, revoke, absences, delegation, and the
// daily jobs that apply the time rules (R8.2 inactivity, R8.4 revocation, R6.2
// and R8.7 reminders). Every rule of those articles is enforced here and nowhere
// else; protocols only see the account states this package sets.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"govmail/internal/clock"
	"govmail/internal/directory"
	"govmail/internal/notify"
	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/workdays"
)

// Policy holds the numbers of Điều 7–8, with the regulation's defaults.
type Policy struct {
	InactivityDays      int   // R8.2: 90
	InactivityReminders []int // R8.7: 60, 80
	RevokeAfterDays     int   // R8.4: 30
	RevokeReminderDays  int   // R8.7: 10 days before
	RestoreWorkingDays  int   // R8.5: 3
	QuarantineMonths    int   // R7.6: 12
	QuotaBytes          int64 // R11.4: 2 GB, for the accounts a create request makes
}

// DefaultPolicy returns the regulation's values.
func DefaultPolicy() Policy {
	return Policy{InactivityDays: 90, InactivityReminders: []int{60, 80}, RevokeAfterDays: 30, RevokeReminderDays: 10,
		RestoreWorkingDays: 3, QuarantineMonths: 12, QuotaBytes: 2147483648}
}

// Service runs the lifecycle rules.
type Service struct {
	Store     store.Store
	Clock     clock.Clock
	Calendar  *workdays.Calendar
	Notify    *notify.Notifier
	Directory *directory.Service
	Policy    Policy
	Passwords password.Policy
	Logger    *slog.Logger
	// WebURL is where users change passwords (named in notices).
	WebURL string
	// Support is the contact named in lock notices (R14.2).
	Support string
}

// Error is a refusal with Vietnamese and English text.
type Error struct {
	VI, EN string
	Err    error
}

func (e *Error) Error() string { return e.VI + " / " + e.EN }
func (e *Error) Unwrap() error { return e.Err }

// ErrState is wrapped when an action does not fit the account's state.
var ErrState = errors.New("lifecycle: wrong account state")

// ErrNoDocument is wrapped when a restore or a revocation names no document:
// both follow a written request or decision (Điều 7.1, 8.3a), whichever door
// (portal, API, CLI, a carried request) asks for them.
var ErrNoDocument = errors.New("lifecycle: no document reference")

func (s *Service) loc() *time.Location { return workdays.Location() }

func (s *Service) today() workdays.Date { return workdays.DateOf(s.Clock.Now(), s.loc()) }

func (s *Service) audit(ctx context.Context, actor, action, target, detail string) {
	if err := s.Store.AppendAudit(ctx, store.AuditEntry{Time: s.Clock.Now(), Actor: actor, Action: action, Target: target, Detail: detail}); err != nil {
		s.Logger.Error("audit log", "err", err)
	}
}

// unitPeople returns the unit manager and the security contact of an account's
// top-level unit and own unit (whichever are set), for notices (R8.7, R12.1).
func (s *Service) unitPeople(ctx context.Context, a *store.Account) (manager, security *store.Account) {
	if a.UnitID == 0 {
		return nil, nil
	}
	u, err := s.Store.UnitByID(ctx, a.UnitID)
	for i := 0; err == nil && i < 16; i++ {
		if manager == nil && u.ManagerID != 0 {
			manager, _ = s.Store.AccountByID(ctx, u.ManagerID)
		}
		if security == nil && u.SecurityContactID != 0 {
			security, _ = s.Store.AccountByID(ctx, u.SecurityContactID)
		}
		if u.ParentID == 0 || (manager != nil && security != nil) {
			break
		}
		u, err = s.Store.UnitByID(ctx, u.ParentID)
	}
	return manager, security
}

var reasonVI = map[string]string{
	store.LockInactivity:        "không đăng nhập quá 90 ngày mà không thông báo lý do (Điều 8.2a)",
	store.LockCompromised:       "tài khoản bị nhiễm mã độc, bị chiếm quyền, lộ mật khẩu hoặc phát tán thư rác, mã độc (Điều 8.2b)",
	store.LockProhibitedContent: "sử dụng vào hoạt động bị nghiêm cấm tại Điều 4.2 (Điều 8.2c)",
	store.LockOperator:          "quyết định của Sở Khoa học và Công nghệ",
}

var reasonEN = map[string]string{
	store.LockInactivity:        "no login for 90 days without a declared reason (Art. 8.2a)",
	store.LockCompromised:       "the account was infected, hijacked, its password leaked, or it spread spam or malware (Art. 8.2b)",
	store.LockProhibitedContent: "use for activities prohibited by Art. 4.2 (Art. 8.2c)",
	store.LockOperator:          "a decision of the Department of Science and Technology",
}

// NeedsEvidence reports whether a lock for reason must name the document or
// evidence it rests on: every lock but inactivity (Điều 8.2a), which the daily
// job finds by itself. Lock enforces it; the portal and the API ask it to point
// at the right form field.
func NeedsEvidence(reason string) bool { return reason != store.LockInactivity }

// Lock locks an account (R8.1, R8.3): no access anywhere, mail still arrives.
// The user, the unit manager and the security contact are told (R8.7).
func (s *Service) Lock(ctx context.Context, accountID int64, reason, note, actor string) error {
	if _, ok := reasonVI[reason]; !ok {
		return &Error{VI: fmt.Sprintf("Lý do khóa %q không hợp lệ", reason), EN: fmt.Sprintf("unknown lock reason %q", reason)}
	}
	if NeedsEvidence(reason) && strings.TrimSpace(note) == "" {
		return &Error{VI: "Khóa theo Điều 8.2b, 8.2c hoặc theo quyết định của Sở KHCN phải ghi văn bản hoặc bằng chứng",
			EN: "a lock under Art. 8.2b or 8.2c, or by an operator's decision, needs a document reference or evidence"}
	}
	a, err := s.Store.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	if err := s.Store.LockAccount(ctx, accountID, reason, store.LockInfo{LockedAt: now, Note: note, LockedBy: actor}); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return &Error{VI: "Chỉ khóa được tài khoản đang hoạt động", EN: "only an active account can be locked", Err: ErrState}
		}
		return err
	}
	s.audit(ctx, actor, "account.lock", a.Address, reason+": "+note)
	revokeFrom := workdays.ConsequenceFrom(workdays.DateOf(now, s.loc()), s.Policy.RevokeAfterDays)
	manager, security := s.unitPeople(ctx, a)
	msg := notify.Message{
		Kind:      "lock",
		SubjectVI: "Hộp thư " + a.Address + " đã bị khóa",
		SubjectEN: "Mailbox " + a.Address + " has been locked",
		BodyVI: fmt.Sprintf("Hộp thư %s đã bị khóa từ ngày %s.\nLý do: %s.\n%s\n\nTrong thời gian bị khóa, hộp thư vẫn nhận thư nhưng không thể đăng nhập hay gửi thư (Điều 8.1).\n"+
			"Để khôi phục, thủ trưởng đơn vị gửi văn bản đề nghị tới Sở Khoa học và Công nghệ; Sở sẽ khôi phục trong 3 ngày làm việc (Điều 8.3).\n"+
			"Nếu không có đề nghị khôi phục trong %d ngày, tài khoản sẽ bị thu hồi từ ngày %s và dữ liệu bị xóa vĩnh viễn (Điều 7.2, 8.1).\nLiên hệ hỗ trợ: %s",
			a.Address, notify.DateVI(now.In(s.loc())), reasonVI[reason], noteLine("Ghi chú", note), s.Policy.RevokeAfterDays, dmy(revokeFrom), s.Support),
		BodyEN: fmt.Sprintf("Mailbox %s was locked on %s.\nReason: %s.\n%s\n\nWhile locked it still receives mail but nobody can log in or send from it (Art. 8.1).\n"+
			"To restore it, the head of the unit sends a written request to the Department of Science and Technology, which restores it within 3 working days (Art. 8.3).\n"+
			"Without a restore request within %d days the account is revoked from %s and its data deleted for good (Art. 7.2, 8.1).\nSupport: %s",
			a.Address, now.In(s.loc()).Format("2006-01-02"), reasonEN[reason], noteLine("Note", note), s.Policy.RevokeAfterDays, revokeFrom.String(), s.Support),
	}
	a.State = store.StateLocked
	if err := s.Notify.Send(ctx, msg, a, manager, security); err != nil {
		s.Logger.Error("lock notice", "account", a.Address, "err", err)
	}
	return nil
}

func noteLine(label, note string) string {
	if note == "" {
		return ""
	}
	return label + ": " + note
}

// Restore reactivates a locked account with a one-time password the holder must
// change (R8.5, R6.1); its 90-day clock restarts today. The password is returned
// for the operator to hand over.
func (s *Service) Restore(ctx context.Context, accountID int64, actor, ref string) (string, error) {
	if strings.TrimSpace(ref) == "" {
		return "", &Error{VI: "Khôi phục phải theo văn bản đề nghị của đơn vị (Điều 8.3a)",
			EN: "a restore follows the unit's written request (Art. 8.3a): give its document reference", Err: ErrNoDocument}
	}
	a, err := s.Store.AccountByID(ctx, accountID)
	if err != nil {
		return "", err
	}
	pw := s.Passwords.Generate(password.CheckContext{Address: a.Address, FullName: a.DisplayName})
	hash, err := password.Hash(pw)
	if err != nil {
		return "", err
	}
	if err := s.Store.RestoreAccount(ctx, accountID, hash, s.Clock.Now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", &Error{VI: "Chỉ khôi phục được tài khoản đang bị khóa", EN: "only a locked account can be restored", Err: ErrState}
		}
		return "", err
	}
	s.audit(ctx, actor, "account.restore", a.Address, ref)
	return pw, nil
}

// Revoke deletes the account's mailbox irrecoverably (R7.4) and holds its address
// for the quarantine period (R7.6).
func (s *Service) Revoke(ctx context.Context, accountID int64, actor, ref string) error {
	if strings.TrimSpace(ref) == "" {
		return &Error{VI: "Thu hồi phải theo văn bản (Điều 7.1)",
			EN: "a revocation follows a document (Art. 7.1): give its reference", Err: ErrNoDocument}
	}
	a, err := s.Store.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	until := workdays.MonthConsequenceFrom(workdays.DateOf(now, s.loc()), s.Policy.QuarantineMonths).In(s.loc())
	if err := s.Store.RevokeAccount(ctx, accountID, now, until); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return &Error{VI: "Tài khoản đã bị thu hồi", EN: "the account is already revoked", Err: ErrState}
		}
		return err
	}
	s.audit(ctx, actor, "account.revoke", a.Address, ref)
	return nil
}

// DeclareAbsence records a unit manager's notified reason (R8.2): no inactivity
// lock while it is in force. It does not unlock a locked account.
func (s *Service) DeclareAbsence(ctx context.Context, accountID int64, reason string, ends workdays.Date, actor string) error {
	a, err := s.Store.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	if reason == "" {
		return &Error{VI: "Phải nêu lý do vắng mặt", EN: "a reason is required"}
	}
	today := s.today()
	if ends.Before(today) {
		return &Error{VI: "Ngày kết thúc đã qua", EN: "the end date is in the past"}
	}
	if a.State != store.StateActive {
		return &Error{VI: "Tài khoản đang bị khóa; thông báo vắng mặt không mở khóa — cần văn bản đề nghị khôi phục (Điều 8.3)",
			EN: "the account is locked; an absence does not unlock it — a restore request is needed (Art. 8.3)", Err: ErrState}
	}
	if err := s.Store.AddAbsence(ctx, &store.Absence{AccountID: accountID, Reason: reason, Starts: today.String(), Ends: ends.String(),
		DeclaredBy: actor, DeclaredAt: s.Clock.Now()}); err != nil {
		return err
	}
	s.audit(ctx, actor, "account.absence", a.Address, reason+" until "+ends.String())
	return nil
}

// dmy formats a date the Vietnamese way (27/11/2026).
func dmy(d workdays.Date) string { return fmt.Sprintf("%02d/%02d/%04d", d.Day(), d.Month(), d.Year()) }
