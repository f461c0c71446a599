// Package vacation is the out-of-office responder of webmail settings (issue 8
// part 6): while a user has it on, a message delivered to them is answered once
// per sender per seven days with the text they wrote. It follows RFC 3834: never
// answer a bounce, an automatic message, a mailing list or mail filed as junk or
// held, and mark the reply Auto-Submitted: auto-replied so other responders
// stay silent in turn.
//
// The settings live in the store's per-account settings (store.UserSettingsStore)
// under the Key* names; webmail edits them with Load and Save. The responder is
// wired as delivery.Deliverer.AfterDeliver and hands each reply to Send, which
// the app points at local delivery or the outgoing queue.
package vacation

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"govmail/internal/clock"
	"govmail/internal/delivery"
	"govmail/internal/store"
)

// Setting keys in store.UserSettingsStore.
const (
	KeyOn      = "vacation.on"      // "1" when on
	KeySubject = "vacation.subject" // subject of the reply; "" gives "Re: <subject>"
	KeyMessage = "vacation.message" // text of the reply
	KeyUntil   = "vacation.until"   // last day it answers, YYYY-MM-DD; "" no end
)

// NoticeKind is the kind under which replies are recorded with store.MarkNotice.
const NoticeKind = "vacation"

// Period is how long one sender gets one reply.
const Period = 7 * 24 * time.Hour

// MaxMessage bounds the text of the reply (a settings form field).
const MaxMessage = 4000

// DateLayout is the layout of KeyUntil.
const DateLayout = time.DateOnly

// Settings is a user's responder.
type Settings struct {
	On      bool
	Subject string
	Message string
	Until   string // YYYY-MM-DD, last day included; "" for no end
}

// Load reads the settings of an account.
func Load(ctx context.Context, st store.UserSettingsStore, accountID int64) (Settings, error) {
	var s Settings
	var on string
	for _, f := range []struct {
		key string
		dst *string
	}{{KeyOn, &on}, {KeySubject, &s.Subject}, {KeyMessage, &s.Message}, {KeyUntil, &s.Until}} {
		v, err := st.UserSetting(ctx, accountID, f.key)
		if err != nil {
			return Settings{}, err
		}
		*f.dst = v
	}
	s.On = on == "1"
	return s, nil
}

// ErrBadDate is returned by Save for an Until that is not YYYY-MM-DD.
var ErrBadDate = errors.New("vacation: date is not YYYY-MM-DD")

// Save writes the settings of an account.
func Save(ctx context.Context, st store.UserSettingsStore, accountID int64, s Settings) error {
	s.Until = strings.TrimSpace(s.Until)
	if s.Until != "" {
		if _, err := time.Parse(DateLayout, s.Until); err != nil {
			return ErrBadDate
		}
	}
	on := ""
	if s.On {
		on = "1"
	}
	for _, kv := range [][2]string{{KeyOn, on}, {KeySubject, strings.TrimSpace(s.Subject)}, {KeyMessage, s.Message}, {KeyUntil, s.Until}} {
		if err := st.SetUserSetting(ctx, accountID, kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// Active tells whether the responder answers at now: on, and Until (a whole
// day in loc) not yet over.
func (s Settings) Active(now time.Time, loc *time.Location) bool {
	if !s.On {
		return false
	}
	if s.Until == "" {
		return true
	}
	if loc == nil {
		loc = time.Local
	}
	day, err := time.ParseInLocation(DateLayout, s.Until, loc)
	if err != nil {
		return false // a broken date must not answer forever
	}
	return now.Before(day.AddDate(0, 0, 1))
}

// Store is what the responder needs of the store.
type Store interface {
	store.UserSettingsStore
	AccountByID(ctx context.Context, id int64) (*store.Account, error)
	MarkNotice(ctx context.Context, accountID int64, kind, key string, at time.Time) (bool, error)
}

// Responder answers delivered messages for users who are away.
type Responder struct {
	Store    Store
	Clock    clock.Clock
	Location *time.Location // of the Until dates; nil: time.Local
	Logger   *slog.Logger
	Hostname string // right-hand side of the replies' Message-IDs
	// Send hands a reply on: local recipients to delivery, remote ones to the
	// queue. from is the away user's address, to the original envelope sender.
	Send func(ctx context.Context, from, to string, raw []byte) error
}

// Hook is the function for delivery.Deliverer.AfterDeliver: it answers off the
// SMTP reply's path, in its own goroutine, with a context that outlives the
// session (the message is already committed; the reply is a courtesy).
func (r *Responder) Hook(ctx context.Context, env *delivery.Envelope, delivered []delivery.Delivered, raw []byte) {
	if skipSender(env.From) {
		return // the common case of bounces costs no goroutine
	}
	envCopy := *env
	ctx = context.WithoutCancel(ctx)
	go func() {
		if err := r.Handle(ctx, &envCopy, delivered, raw); err != nil {
			r.Logger.Error("vacation reply", "err", err)
		}
	}()
}

// Handle sends the replies due for one delivered message, synchronously.
func (r *Responder) Handle(ctx context.Context, env *delivery.Envelope, delivered []delivery.Delivered, raw []byte) error {
	sender := strings.ToLower(strings.TrimSpace(env.From))
	if skipSender(sender) {
		return nil
	}
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return nil // an unreadable header is no conversation to answer
	}
	if automatic(h) {
		return nil
	}
	now := r.Clock.Now()
	var errs []error
	seen := map[int64]bool{}
	for _, d := range delivered {
		id := d.Recipient.AccountID
		if d.Err != nil || d.Held || d.Junk || strings.EqualFold(d.Recipient.Mailbox, "Junk") || seen[id] {
			continue
		}
		seen[id] = true
		if err := r.answer(ctx, id, sender, mail.Header{Header: message.Header{Header: h}}, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *Responder) answer(ctx context.Context, accountID int64, sender string, orig mail.Header, now time.Time) error {
	// Almost no recipient is away: one read of the switch, not of every
	// setting, for each recipient of each delivered message.
	if on, err := r.Store.UserSetting(ctx, accountID, KeyOn); err != nil || on != "1" {
		return err
	}
	s, err := Load(ctx, r.Store, accountID)
	if err != nil {
		return err
	}
	if !s.Active(now, r.Location) {
		return nil
	}
	acct, err := r.Store.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	if acct.State != store.StateActive || strings.EqualFold(acct.Address, sender) {
		return nil // never answer oneself (a copy to self, a loop)
	}
	week := now.Unix() / int64(Period/time.Second)
	first, err := r.Store.MarkNotice(ctx, accountID, NoticeKind, fmt.Sprintf("%s:%d", sender, week), now)
	if err != nil || !first {
		return err
	}
	raw, err := r.build(acct, sender, orig, s, now)
	if err != nil {
		return err
	}
	if err := r.Send(ctx, acct.Address, sender, raw); err != nil {
		return fmt.Errorf("send to %s: %w", sender, err)
	}
	return nil
}

// skipSender is RFC 3834 section 2's list of senders never answered: the null
// sender of bounces and the addresses of robots and list software.
func skipSender(from string) bool {
	local, _, ok := strings.Cut(strings.ToLower(strings.TrimSpace(from)), "@")
	if !ok || local == "" {
		return true
	}
	switch local {
	case "mailer-daemon", "postmaster", "noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply", "listserv", "majordomo":
		return true
	}
	return strings.HasPrefix(local, "owner-") || strings.HasSuffix(local, "-request") ||
		strings.HasPrefix(local, "bounce") || strings.HasPrefix(local, "noreply")
}

// automatic tells messages that must not be answered from their header: an
// automatic message of any kind (RFC 3834), a mailing list (RFC 2369, 2919) or
// bulk mail.
func automatic(h textproto.Header) bool {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		return true
	}
	for _, k := range []string{"List-Id", "List-Unsubscribe", "List-Post", "X-Auto-Response-Suppress"} {
		if h.Has(k) {
			return true
		}
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "list", "junk":
		return true
	}
	return false
}

// build writes the reply: Vietnamese first, as everything this system says.
func (r *Responder) build(acct *store.Account, to string, orig mail.Header, s Settings, now time.Time) ([]byte, error) {
	var h mail.Header
	h.SetDate(now)
	h.SetAddressList("From", []*mail.Address{{Name: acct.DisplayName, Address: acct.Address}})
	h.SetAddressList("To", []*mail.Address{{Address: to}})
	subj := s.Subject
	if subj == "" {
		os, _ := orig.Subject()
		subj = reSubject(os)
	}
	h.SetSubject(subj)
	host := r.Hostname
	if host == "" {
		host = "localhost"
	}
	if err := h.GenerateMessageIDWithHostname(host); err != nil {
		return nil, err
	}
	if id, err := orig.MessageID(); err == nil && id != "" {
		h.SetMsgIDList("In-Reply-To", []string{id})
		refs, _ := orig.MsgIDList("References")
		h.SetMsgIDList("References", append(refs, id))
	}
	h.Set("Auto-Submitted", "auto-replied")
	h.Set("X-Auto-Response-Suppress", "All")
	h.Set("MIME-Version", "1.0")
	h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	text := strings.TrimRight(s.Message, "\r\n \t")
	if text == "" {
		text = "Tôi đang vắng mặt và sẽ trả lời thư của bạn khi trở lại.\n\nI am away and will answer your message when I am back."
	}
	text += "\n\n-- \nĐây là thư trả lời tự động. / This is an automatic reply.\n"
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n")
	var buf bytes.Buffer
	w, err := mail.CreateSingleInlineWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write([]byte(text)); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// reSubject prefixes "Re: " once.
func reSubject(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "Trả lời tự động / Auto reply"
	}
	l := strings.ToLower(s)
	if strings.HasPrefix(l, "re:") || strings.HasPrefix(l, "tl:") || strings.HasPrefix(l, "trả lời:") {
		return s
	}
	return "Re: " + s
}
