// Package quota owns the warnings of Điều 11.2 (R11.6): one Vietnamese message
// into the mailbox when usage first crosses 80 % and 90 % upwards, and at 100 %
// the first time a message is refused for quota; falling back below a threshold
// re-arms it. The store enforces the quota itself (R11.7); this package only tells.
package quota

import (
	"context"
	"fmt"
	"log/slog"

	"govmail/internal/notify"
	"govmail/internal/store"
)

// Watcher sends quota warnings.
type Watcher struct {
	Store      store.Store
	Notify     *notify.Notifier
	Thresholds []int // percent, ascending below 100: default 80, 90
	Logger     *slog.Logger
}

// DefaultThresholds are the regulation defaults of R11.6 below 100 %.
func DefaultThresholds() []int { return []int{80, 90} }

// level is the highest threshold at or below usage.
func (w *Watcher) level(a *store.Account) int {
	if a.QuotaBytes <= 0 {
		return 0
	}
	pct := float64(a.UsedBytes) * 100 / float64(a.QuotaBytes)
	lvl := 0
	for _, t := range w.Thresholds {
		if pct >= float64(t) {
			lvl = max(lvl, t)
		}
	}
	return lvl
}

// Check re-reads an account's usage and warns on an upward crossing; it re-arms
// thresholds the usage has fallen below. It is called after deliveries and by
// the daily jobs.
func (w *Watcher) Check(ctx context.Context, accountID int64) error {
	a, err := w.Store.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	lvl := w.level(a)
	switch {
	case lvl > a.QuotaWarned && a.QuotaWarned < 100:
		ok, err := w.Store.SetQuotaWarned(ctx, a.ID, a.QuotaWarned, lvl)
		if err != nil || !ok {
			return err
		}
		return w.Notify.Send(ctx, w.message(a, lvl), a)
	case lvl < a.QuotaWarned:
		_, err := w.Store.SetQuotaWarned(ctx, a.ID, a.QuotaWarned, lvl)
		return err
	}
	return nil
}

// Refused warns at 100 % the first time a message is refused for quota.
func (w *Watcher) Refused(ctx context.Context, accountID int64) error {
	a, err := w.Store.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	if a.QuotaWarned >= 100 {
		return nil
	}
	ok, err := w.Store.SetQuotaWarned(ctx, a.ID, a.QuotaWarned, 100)
	if err != nil || !ok {
		return err
	}
	return w.Notify.Send(ctx, w.message(a, 100), a)
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func (w *Watcher) message(a *store.Account, lvl int) notify.Message {
	m := notify.Message{Kind: fmt.Sprintf("quota-%d", lvl)}
	if lvl >= 100 {
		m.SubjectVI = "Hộp thư đã đầy — thư mới đang bị từ chối"
		m.SubjectEN = "Mailbox full — new mail is being refused"
		m.BodyVI = fmt.Sprintf("Hộp thư %s đã dùng hết dung lượng (%s / %s). Thư gửi đến đang bị từ chối tạm thời; máy chủ của người gửi sẽ gửi lại sau.\nHãy xóa bớt thư (và dọn thư mục Thùng rác), hoặc đề nghị Sở Khoa học và Công nghệ nâng dung lượng (Điều 11.2).",
			a.Address, mb(a.UsedBytes), mb(a.QuotaBytes))
		m.BodyEN = fmt.Sprintf("Mailbox %s is full (%s of %s). Incoming mail is being refused temporarily; senders' servers will retry.\nDelete some mail (and empty the Trash), or ask the Department of Science and Technology for more space (Art. 11.2).",
			a.Address, mb(a.UsedBytes), mb(a.QuotaBytes))
		return m
	}
	m.SubjectVI = fmt.Sprintf("Hộp thư đã dùng %d%% dung lượng", lvl)
	m.SubjectEN = fmt.Sprintf("Mailbox %d%% full", lvl)
	m.BodyVI = fmt.Sprintf("Hộp thư %s đã dùng %s trên tổng %s (hơn %d%%). Khi đầy, thư gửi đến sẽ bị từ chối.\nHãy xóa bớt thư không cần thiết, hoặc đề nghị Sở Khoa học và Công nghệ nâng dung lượng (Điều 11.2).",
		a.Address, mb(a.UsedBytes), mb(a.QuotaBytes), lvl)
	m.BodyEN = fmt.Sprintf("Mailbox %s uses %s of %s (over %d%%). When it is full, incoming mail will be refused.\nDelete mail you no longer need, or ask the Department of Science and Technology for more space (Art. 11.2).",
		a.Address, mb(a.UsedBytes), mb(a.QuotaBytes), lvl)
	return m
}
