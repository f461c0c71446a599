// Package auth owns the one login decision every protocol asks for (IMAP, POP3,
// SMTP AUTH, webmail, API): throttling (security-level controls, R8.6), the
// password, the account state of Điều 8 (R8.1) and the forced change of Điều 6
// (R6.1, R6.2). A protocol layer only maps the errors here to its own replies; it
// never decides who may log in.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"govmail/internal/clock"
	"govmail/internal/store"
)

// Error is a refusal with the text a person reads, Vietnamese first.
type Error struct {
	Code string // stable code for logs and API clients
	VI   string
	EN   string
	// RetryAfter is set for throttling.
	RetryAfter time.Duration
	base       error
}

func (e *Error) Error() string { return e.VI + " / " + e.EN }

// Unwrap lets errors.Is match the sentinel.
func (e *Error) Unwrap() error { return e.base }

// Sentinels for errors.Is.
var (
	ErrBadCredentials = errors.New("auth: bad credentials")
	ErrMustChange     = errors.New("auth: password must be changed")
	ErrLocked         = errors.New("auth: account locked")
	ErrThrottled      = errors.New("auth: too many failures")
)

func badCredentials() error {
	return &Error{Code: "bad_credentials", base: ErrBadCredentials,
		VI: "Sai địa chỉ thư hoặc mật khẩu.",
		EN: "Wrong address or password."}
}

// LockedError is the refusal of every access to a locked mailbox (R8.1), with
// how to have it restored: a login here, and a credential that is no password
// (an API token) wherever it is checked.
func LockedError() *Error {
	return &Error{Code: "locked", base: ErrLocked,
		VI: "Hộp thư đang bị khóa (Điều 8 Quy chế 115/2025/QĐ-UBND). Đề nghị thủ trưởng đơn vị gửi văn bản yêu cầu khôi phục tới Sở Khoa học và Công nghệ.",
		EN: "This mailbox is locked (Article 8 of Regulation 115/2025). Ask the head of your unit to send a restore request to the Department of Science and Technology."}
}

// Request is one login attempt.
type Request struct {
	Proto    string // imap, pop3, smtp, web, api
	Username string
	Password string
	RemoteIP string
	// Web is true for webmail, which admits a user who must change the password
	// to the change page only (R6.1); protocols refuse the login instead.
	Web bool
}

// Throttle is the failed-login limiter (internal/throttle).
type Throttle interface {
	Check(ctx context.Context, account, ip string) (allowed bool, retryAfter, delay time.Duration)
	Failure(ctx context.Context, account, ip string)
	Success(ctx context.Context, account, ip string)
}

// Verifier checks a password against its stored hash.
type Verifier func(encoded, password string) (bool, error)

// PasswordExpiry tells whether a password set at setAt must be changed at now (R6.2).
type PasswordExpiry func(setAt, now time.Time) bool

// EventLogger records authentication events (R11.2).
type EventLogger interface {
	AuthEvent(ctx context.Context, e Event)
}

// Event is one authentication event for the log of R11.2.
type Event struct {
	Time     time.Time
	Proto    string
	Username string
	RemoteIP string
	Success  bool
	Reason   string
}

// Service decides logins.
type Service struct {
	Store    store.Store
	Clock    clock.Clock
	Verify   Verifier
	Expired  PasswordExpiry // nil: passwords never expire
	Throttle Throttle       // nil: no throttling
	Events   EventLogger    // nil: events only in slog
	Logger   *slog.Logger
	// Sleep waits for the throttle's delay; tests replace it.
	Sleep func(ctx context.Context, d time.Duration)
	// MaxConcurrentHashes bounds password verifications in flight: each argon2id
	// check takes ~19 MiB, so a burst of logins (a thousand phones reconnecting
	// after an outage, or an attacker) must queue rather than exhaust memory.
	// 0 means 2 per CPU.
	MaxConcurrentHashes int

	semOnce sync.Once
	sem     chan struct{}

	relMu    sync.Mutex
	relTimer *time.Timer
}

// releaseSoon hands the hashes' memory back to the system two seconds after the
// last verification of a burst: argon2id is memory-hard by design, and without
// this a server that saw a login storm keeps that memory resident until the
// next collection, which an idle server may not run for a long time.
func (s *Service) releaseSoon() {
	s.relMu.Lock()
	defer s.relMu.Unlock()
	if s.relTimer == nil {
		s.relTimer = time.AfterFunc(2*time.Second, debug.FreeOSMemory)
		return
	}
	s.relTimer.Reset(2 * time.Second)
}

// verify runs Verify under the concurrency bound.
func (s *Service) verify(ctx context.Context, hash, pw string) (bool, error) {
	s.semOnce.Do(func() {
		n := s.MaxConcurrentHashes
		if n <= 0 {
			n = 2 * runtime.NumCPU()
		}
		s.sem = make(chan struct{}, n)
	})
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() {
		<-s.sem
		s.releaseSoon()
	}()
	return s.Verify(hash, pw)
}

// Login returns the account for valid credentials, or an *Error.
func (s *Service) Login(ctx context.Context, r Request) (*store.Account, error) {
	user := strings.ToLower(strings.TrimSpace(r.Username))
	if s.Throttle != nil {
		ok, retry, delay := s.Throttle.Check(ctx, user, r.RemoteIP)
		if !ok {
			s.record(ctx, r, user, false, "throttled")
			return nil, &Error{Code: "throttled", base: ErrThrottled, RetryAfter: retry,
				VI: fmt.Sprintf("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau %d phút.", minutes(retry)),
				EN: fmt.Sprintf("Too many failed logins. Try again in %d minutes.", minutes(retry))}
		}
		if delay > 0 {
			s.sleep(ctx, delay)
		}
	}
	a, err := s.Store.AccountByAddress(ctx, user)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("login: %w", err)
	}
	ok := false
	if a != nil && a.State != store.StateRevoked && a.PasswordHash != "" {
		ok, err = s.verify(ctx, a.PasswordHash, r.Password)
		if err != nil {
			s.Logger.Warn("password hash unreadable", "account", user, "err", err)
			ok = false
		}
		if !r.Web {
			// With 2FA on, mail clients use app passwords; the account password
			// alone would bypass the second factor (R2.1).
			if ok {
				if sec, _, err := s.Store.TOTP(ctx, a.ID); err == nil && sec != "" {
					s.record(ctx, r, user, false, "app_password_required")
					return nil, &Error{Code: "app_password_required", base: ErrBadCredentials,
						VI: "Tài khoản đã bật xác thực hai lớp: hãy dùng mật khẩu ứng dụng (tạo trong webmail) cho chương trình thư.",
						EN: "Two-factor authentication is on: use an app password (made in webmail) in your mail program."}
				}
			} else {
				ok = s.checkAppPassword(ctx, a, r.Password)
			}
		}
	}
	if !ok {
		if s.Throttle != nil {
			s.Throttle.Failure(ctx, user, r.RemoteIP)
		}
		s.record(ctx, r, user, false, "bad_credentials")
		return nil, badCredentials()
	}
	// The password was right: from here on the refusal may say why.
	if s.Throttle != nil {
		s.Throttle.Success(ctx, user, r.RemoteIP)
	}
	if a.State == store.StateLocked {
		s.record(ctx, r, user, false, "locked")
		return nil, LockedError()
	}
	now := s.Clock.Now()
	mustChange := a.MustChange || (s.Expired != nil && s.Expired(a.PasswordSetAt, now))
	if mustChange && !r.Web {
		s.record(ctx, r, user, false, "must_change_password")
		return nil, &Error{Code: "must_change_password", base: ErrMustChange,
			VI: "Mật khẩu phải được đổi trước khi dùng (Điều 6). Hãy đăng nhập webmail để đổi mật khẩu.",
			EN: "The password must be changed first (Article 6). Log in to webmail to change it."}
	}
	// R8.2: a successful authentication over any protocol is a login.
	if err := s.Store.RecordLogin(ctx, a.ID, now); err != nil {
		// A full disk must not lock people out of reading their mail; the
		// next login records the date again.
		s.Logger.Error("login date not recorded", "account", user, "err", err)
	}
	s.record(ctx, r, user, true, "")
	if mustChange {
		a.MustChange = true
	}
	return a, nil
}

func (s *Service) record(ctx context.Context, r Request, user string, ok bool, reason string) {
	s.Logger.Info("authentication", "proto", r.Proto, "user", user, "ip", r.RemoteIP, "success", ok, "reason", reason)
	if s.Events != nil {
		s.Events.AuthEvent(ctx, Event{Time: s.Clock.Now(), Proto: r.Proto, Username: user, RemoteIP: r.RemoteIP, Success: ok, Reason: reason})
	}
}

func (s *Service) sleep(ctx context.Context, d time.Duration) {
	if s.Sleep != nil {
		s.Sleep(ctx, d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func minutes(d time.Duration) int { return int((d + time.Minute - 1) / time.Minute) }

// ResultLabel names a login's outcome for metrics and logs.
func ResultLabel(err error) string {
	switch {
	case err == nil:
		return "success"
	case errors.Is(err, ErrBadCredentials):
		return "bad_credentials"
	case errors.Is(err, ErrThrottled):
		return "throttled"
	case errors.Is(err, ErrMustChange):
		return "must_change"
	case errors.Is(err, ErrLocked):
		return "locked"
	}
	return "error"
}
