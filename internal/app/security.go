package app

import (
	"context"
	"fmt"
	"os"

	"govmail/internal/clamd"
	"govmail/internal/contentpolicy"
	"govmail/internal/delivery"
	"govmail/internal/filter"
	"govmail/internal/notify"
	"govmail/internal/rspamd"
	"govmail/internal/store"
)

// debianClamdSocket is where Debian's clamav-daemon listens.
const debianClamdSocket = "/var/run/clamav/clamd.ctl"

// newFilter builds the content checks of Điều 4 from the configuration.
func (a *App) newFilter() (*filter.Filter, error) {
	sec := a.Cfg.Security
	f := &filter.Filter{Thresholds: rspamd.Thresholds{Junk: sec.JunkScore, Reject: sec.RejectScore}, SpamFailOpen: sec.SpamFailOpen,
		Logger: a.Log.With("component", "filter")}
	addr := sec.Clamd
	if addr == "" {
		if _, err := os.Stat(debianClamdSocket); err == nil {
			addr = "unix:" + debianClamdSocket
		}
	}
	switch addr {
	case "", "off":
		a.Log.Warn("no virus scanner configured: messages are NOT scanned (Điều 4.2e, R4.1); set security.clamd")
	default:
		c, err := clamd.New(addr)
		if err != nil {
			return nil, fmt.Errorf("security.clamd: %w", err)
		}
		f.Clamd = c
	}
	if sec.RspamdURL != "" {
		f.Spam = &rspamd.Client{URL: sec.RspamdURL, ControllerURL: sec.RspamdController, Password: sec.RspamdPassword}
	}
	p, err := contentpolicy.New(sec.ContentPolicy)
	if err != nil {
		return nil, fmt.Errorf("security.content_policy: %w", err)
	}
	f.Policy = p
	return f, nil
}

// onHeld tells a user that a message was held and why (R4.2, R4.3).
func (a *App) onHeld(ctx context.Context, r delivery.Recipient, v contentpolicy.Verdict) {
	acc, err := a.Store.AccountByID(ctx, r.AccountID)
	if err != nil {
		return
	}
	msg := notify.Message{Kind: "held",
		SubjectVI: "Một thư gửi đến bạn đã được cách ly", SubjectEN: "A message to you was held",
		BodyVI: v.ReasonVI + "\n\nThư được giữ lại, không chuyển vào Hộp thư đến. Nếu đây là thư công vụ cần nhận, hãy đề nghị quản trị hệ thống (Sở Khoa học và Công nghệ) giải phóng thư.",
		BodyEN: v.ReasonEN + "\n\nThe message is held, not delivered to your inbox. If it is official mail you need, ask the system operators (Department of Science and Technology) to release it."}
	if err := a.Notify.Send(ctx, msg, acc); err != nil {
		a.Log.Error("held-mail notice", "account", acc.Address, "err", err)
	}
}

// onInfected locks an account that submitted an infected message (Điều 8.2b,
// R4.1, R8.3); the lock tells the user, the unit manager and the security contact.
func (a *App) onInfected(ctx context.Context, acc *store.Account, sig string) {
	if err := a.Life.Lock(context.WithoutCancel(ctx), acc.ID, store.LockCompromised, "virus: "+sig, "system:antivirus"); err != nil {
		a.Log.Error("lock after infected submission", "account", acc.Address, "err", err)
	}
}

// onReport forwards a message a user reported as suspicious (moved to the
// "Báo cáo" folder, or the webmail report action) to the unit's security contact
// and the operators, with the message attached (Điều 13, R13.1).
func (a *App) onReport(accountID int64, raw []byte) {
	ctx := context.Background()
	acc, err := a.Store.AccountByID(ctx, accountID)
	if err != nil {
		return
	}
	to := a.securityContacts(ctx, acc)
	ops, _ := a.Store.ListAccounts(ctx, store.AccountFilter{State: store.StateActive})
	for i := range ops {
		if ops[i].Role == store.RoleOperator {
			to = append(to, &ops[i])
		}
	}
	msg := notify.Message{Kind: "incident-report", Attached: raw,
		SubjectVI: "Báo cáo thư đáng ngờ từ " + acc.Address, SubjectEN: "Suspicious message reported by " + acc.Address,
		BodyVI: "Người dùng " + acc.Address + " báo cáo thư đính kèm là đáng ngờ (Điều 13 Quy chế). Đề nghị đầu mối an toàn thông tin của đơn vị và quản trị hệ thống xem xét, xử lý.",
		BodyEN: "User " + acc.Address + " reported the attached message as suspicious (Article 13). The unit's security contact and the operators should review it."}
	if err := a.Notify.Send(ctx, msg, to...); err != nil {
		a.Log.Error("incident report", "account", acc.Address, "err", err)
	}
	a.Store.AppendAudit(ctx, store.AuditEntry{Time: a.Clock.Now(), Actor: acc.Address, Action: "incident.report", Target: acc.Address})
}

// securityContacts are the security contacts of the account's unit and its parents.
func (a *App) securityContacts(ctx context.Context, acc *store.Account) []*store.Account {
	var out []*store.Account
	id := acc.UnitID
	for i := 0; id != 0 && i < 16; i++ {
		u, err := a.Store.UnitByID(ctx, id)
		if err != nil {
			break
		}
		if u.SecurityContactID != 0 {
			if c, err := a.Store.AccountByID(ctx, u.SecurityContactID); err == nil {
				out = append(out, c)
			}
		}
		id = u.ParentID
	}
	return out
}
