// Package sendlimit owns the per-account sending limits of R17.2 (Điều 17,
// Điều 8.2b): messages per hour and recipients per local calendar day. A
// submission that would cross either is not allowed; the caller then holds the
// mail, locks the account with reason "compromised" and tells the unit's
// security contact. It is pure logic over a Clock: it stores nothing and sends
// nothing, so one Limiter per node counts that node's submissions.
package sendlimit

import (
	"fmt"
	"sync"
	"time"

	"govmail/internal/clock"
)

// Config holds the limits; zero fields take the defaults.
type Config struct {
	MessagesPerHour  int
	RecipientsPerDay int
	// Location decides where a "day" starts (Asia/Ho_Chi_Minh, UTC+7).
	Location *time.Location
}

// Defaults are generous for a civil servant's day and far below what a
// spamming script sends.
func Defaults() Config {
	return Config{MessagesPerHour: 100, RecipientsPerDay: 500, Location: time.FixedZone("+07", 7*3600)}
}

// Limit names.
const (
	MessagesPerHour  = "messages_per_hour"
	RecipientsPerDay = "recipients_per_day"
)

// Decision is the answer for one submission.
type Decision struct {
	Allowed bool
	Limit   string // which limit was crossed, when not allowed
	Count   int    // what the count would have become
	Max     int
}

// Evidence is the text recorded with the lock (R8.3).
func (d Decision) Evidence() string {
	switch d.Limit {
	case MessagesPerHour:
		return fmt.Sprintf("%d messages within one hour (limit %d) / %d thư trong một giờ (giới hạn %d)", d.Count, d.Max, d.Count, d.Max)
	case RecipientsPerDay:
		return fmt.Sprintf("%d recipients in one day (limit %d) / %d người nhận trong một ngày (giới hạn %d)", d.Count, d.Max, d.Count, d.Max)
	}
	return ""
}

// Limiter counts submissions per account.
type Limiter struct {
	cfg   Config
	clock clock.Clock

	mu    sync.Mutex
	usage map[string]*usage
	swept time.Time
}

type usage struct {
	sent  []time.Time // times of the messages of the last hour, oldest first
	day   string
	rcpts int
}

// New makes a Limiter.
func New(cfg Config, clk clock.Clock) *Limiter {
	d := Defaults()
	if cfg.MessagesPerHour <= 0 {
		cfg.MessagesPerHour = d.MessagesPerHour
	}
	if cfg.RecipientsPerDay <= 0 {
		cfg.RecipientsPerDay = d.RecipientsPerDay
	}
	if cfg.Location == nil {
		cfg.Location = d.Location
	}
	if clk == nil {
		clk = clock.Real{}
	}
	return &Limiter{cfg: cfg, clock: clk, usage: map[string]*usage{}}
}

// Submit counts one message to recipients recipients from account and says
// whether it stays within the limits. A refused submission is counted too: the
// account is locked anyway, and a restored one starts again from what it sent.
func (l *Limiter) Submit(account string, recipients int) Decision {
	now := l.clock.Now()
	day := now.In(l.cfg.Location).Format("2006-01-02")
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	u := l.usage[account]
	if u == nil {
		u = &usage{}
		l.usage[account] = u
	}
	cut := now.Add(-time.Hour)
	i := 0
	for i < len(u.sent) && !u.sent[i].After(cut) {
		i++
	}
	u.sent = append(u.sent[i:], now)
	if u.day != day {
		u.day, u.rcpts = day, 0
	}
	u.rcpts += recipients
	if len(u.sent) > l.cfg.MessagesPerHour {
		// Keep the window bounded: only the count above the limit matters.
		if len(u.sent) > 2*l.cfg.MessagesPerHour {
			u.sent = u.sent[len(u.sent)-2*l.cfg.MessagesPerHour:]
		}
		return Decision{Limit: MessagesPerHour, Count: len(u.sent), Max: l.cfg.MessagesPerHour}
	}
	if u.rcpts > l.cfg.RecipientsPerDay {
		return Decision{Limit: RecipientsPerDay, Count: u.rcpts, Max: l.cfg.RecipientsPerDay}
	}
	return Decision{Allowed: true}
}

// Reset forgets an account's counts (after an operator restored it, R8.5).
func (l *Limiter) Reset(account string) {
	l.mu.Lock()
	delete(l.usage, account)
	l.mu.Unlock()
}

// sweep drops accounts idle for a day, at most hourly, so that the map holds
// only recent senders.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Hour {
		return
	}
	l.swept = now
	day := now.In(l.cfg.Location).Format("2006-01-02")
	for a, u := range l.usage {
		if u.day != day && (len(u.sent) == 0 || now.Sub(u.sent[len(u.sent)-1]) > time.Hour) {
			delete(l.usage, a)
		}
	}
}
