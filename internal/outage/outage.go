// Package outage owns the outage notices of Điều 14 (R14.1): when a fault
// forces the service to stop, an operator publishes what stopped, since when
// and when it should be back; the notice is mailed to every unit mailbox of the
// units concerned (their manager for a unit without one) and stays open — the
// webmail banner — until it is closed, which mails the all-clear to the same
// mailboxes. Both steps go to the audit log. It never decides that there is an
// outage; operators do.
package outage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"govmail/internal/clock"
	"govmail/internal/notify"
	"govmail/internal/store"
	"govmail/internal/workdays"
)

// Store is what outage notices need of the store.
type Store interface {
	ListUnits(ctx context.Context) ([]store.Unit, error)
	UnitByLocalPart(ctx context.Context, localPart string) (*store.Unit, error)
	AccountByID(ctx context.Context, id int64) (*store.Account, error)
	AppendAudit(ctx context.Context, e store.AuditEntry) error
	store.OutageStore
}

// Service publishes and closes notices.
type Service struct {
	Store  Store
	Notify *notify.Notifier
	Clock  clock.Clock
	Logger *slog.Logger
}

// Notice is an outage notice.
type Notice struct {
	store.Outage
	// Units and UnitNames are the local parts and names of the units chosen;
	// empty means every unit.
	Units, UnitNames []string
}

// Error is a refusal with Vietnamese and English text.
type Error struct{ VI, EN string }

func (e *Error) Error() string { return e.VI + " / " + e.EN }

// ErrNotOpen is wrapped when a notice to close is unknown or closed already.
var ErrNotOpen = errors.New("outage: no open notice with this id")

// PublishInput is what an operator publishes.
type PublishInput struct {
	What  string
	Since time.Time // since when the service is interrupted
	Until time.Time // expected restoration
	Units []string  // local parts; empty: every unit
	Actor string
}

// Result tells who a notice or its all-clear was mailed to.
type Result struct {
	Notice Notice
	// Recipients are the addresses mailed.
	Recipients []string
	// Unreached lists the units that have neither a unit mailbox nor a
	// manager: nobody there could be told (the portal should list them).
	Unreached []string
}

func (s *Service) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// Publish records an open notice and mails it (R14.1).
func (s *Service) Publish(ctx context.Context, in PublishInput) (*Result, error) {
	in.What = strings.TrimSpace(in.What)
	switch {
	case in.What == "":
		return nil, &Error{VI: "Phải nêu nội dung sự cố", EN: "say what is interrupted"}
	case in.Since.IsZero():
		return nil, &Error{VI: "Phải nêu thời điểm bắt đầu gián đoạn", EN: "say since when"}
	case in.Until.IsZero():
		return nil, &Error{VI: "Phải nêu thời gian dự kiến khôi phục (Điều 14)", EN: "say when service should be restored (Art. 14)"}
	case !in.Until.After(in.Since):
		return nil, &Error{VI: "Thời gian dự kiến khôi phục phải sau thời điểm bắt đầu", EN: "the expected restoration must follow the start"}
	}
	units, err := s.Store.ListUnits(ctx)
	if err != nil {
		return nil, fmt.Errorf("outage: %w", err)
	}
	var chosen []store.Unit
	for _, lp := range in.Units {
		u, err := s.Store.UnitByLocalPart(ctx, strings.TrimSpace(lp))
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, &Error{VI: fmt.Sprintf("Không có đơn vị %q", lp), EN: fmt.Sprintf("no unit %q", lp)}
			}
			return nil, fmt.Errorf("outage: %w", err)
		}
		chosen = append(chosen, *u)
	}
	to, unreached, err := s.recipients(ctx, units, chosen)
	if err != nil {
		return nil, err
	}
	o := store.Outage{What: in.What, Since: in.Since, Until: in.Until, PublishedBy: in.Actor, PublishedAt: s.Clock.Now()}
	for _, u := range chosen {
		o.UnitIDs = append(o.UnitIDs, u.ID)
	}
	for _, a := range to {
		o.Recipients = append(o.Recipients, a.ID)
	}
	if err := s.Store.CreateOutage(ctx, &o); err != nil {
		return nil, fmt.Errorf("outage: %w", err)
	}
	n := notice(o, units)
	s.audit(ctx, in.Actor, "outage.publish", n, fmt.Sprintf("%s; từ/since %s; dự kiến/until %s; đơn vị/units: %s; %d hộp thư/mailboxes",
		n.What, hm(n.Since), hm(n.Until), unitList(n.Units), len(to)))
	res := &Result{Notice: n, Recipients: addresses(to), Unreached: unreached}
	if err := s.Notify.Send(ctx, publishMessage(n), to...); err != nil {
		// The notice stays open (the banner shows it); the operator sees the
		// error and can close and publish again.
		return res, fmt.Errorf("outage #%d recorded but not mailed: %w", n.ID, err)
	}
	s.log().Info("outage notice published", "id", n.ID, "recipients", len(to), "unreached", len(unreached))
	return res, nil
}

// Close closes an open notice and mails the all-clear to the mailboxes the
// notice went to (R14.1).
func (s *Service) Close(ctx context.Context, id int64, actor, note string) (*Result, error) {
	now := s.Clock.Now()
	if err := s.Store.CloseOutage(ctx, id, actor, now, strings.TrimSpace(note)); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: #%d", ErrNotOpen, id)
		}
		return nil, fmt.Errorf("outage: %w", err)
	}
	o, err := s.Store.OutageByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("outage: %w", err)
	}
	units, err := s.Store.ListUnits(ctx)
	if err != nil {
		return nil, fmt.Errorf("outage: %w", err)
	}
	n := notice(*o, units)
	var to []*store.Account
	for _, aid := range o.Recipients {
		a, err := s.Store.AccountByID(ctx, aid)
		if err != nil {
			s.log().Warn("outage all-clear: recipient gone", "account", aid, "err", err)
			continue
		}
		to = append(to, a)
	}
	s.audit(ctx, actor, "outage.close", n, fmt.Sprintf("%s; khôi phục lúc/restored at %s; %s", n.What, hm(now), note))
	res := &Result{Notice: n, Recipients: addresses(to)}
	if err := s.Notify.Send(ctx, closeMessage(n), to...); err != nil {
		return res, fmt.Errorf("outage #%d closed but the all-clear was not mailed: %w", id, err)
	}
	return res, nil
}

// Active returns the open notices, newest first: what webmail shows as a banner.
func (s *Service) Active(ctx context.Context) ([]Notice, error) {
	return s.list(ctx, true)
}

// List returns every notice, newest first.
func (s *Service) List(ctx context.Context) ([]Notice, error) {
	return s.list(ctx, false)
}

// ActiveFor returns the open notices that concern a unit: those for every
// unit, and those chosen for it or for a unit above it.
func (s *Service) ActiveFor(ctx context.Context, unitID int64) ([]Notice, error) {
	all, err := s.Active(ctx)
	if err != nil || len(all) == 0 {
		return all, err
	}
	units, err := s.Store.ListUnits(ctx)
	if err != nil {
		return nil, fmt.Errorf("outage: %w", err)
	}
	parent := map[int64]int64{}
	for _, u := range units {
		parent[u.ID] = u.ParentID
	}
	var out []Notice
	for _, n := range all {
		if len(n.UnitIDs) == 0 || concerns(n.UnitIDs, unitID, parent) {
			out = append(out, n)
		}
	}
	return out, nil
}

func concerns(ids []int64, unitID int64, parent map[int64]int64) bool {
	for cur, i := unitID, 0; cur != 0 && i < 32; cur, i = parent[cur], i+1 {
		for _, id := range ids {
			if id == cur {
				return true
			}
		}
	}
	return false
}

func (s *Service) list(ctx context.Context, openOnly bool) ([]Notice, error) {
	os, err := s.Store.ListOutages(ctx, openOnly)
	if err != nil {
		return nil, fmt.Errorf("outage: %w", err)
	}
	if len(os) == 0 {
		return nil, nil
	}
	units, err := s.Store.ListUnits(ctx)
	if err != nil {
		return nil, fmt.Errorf("outage: %w", err)
	}
	out := make([]Notice, len(os))
	for i, o := range os {
		out[i] = notice(o, units)
	}
	return out, nil
}

// recipients finds who to tell: the unit mailboxes of the chosen units and
// their sub-units (an outage of a department stops its offices too), or of
// every unit; the manager of a unit without a unit mailbox.
func (s *Service) recipients(ctx context.Context, units, chosen []store.Unit) ([]*store.Account, []string, error) {
	in := map[int64]bool{}
	if len(chosen) == 0 {
		for _, u := range units {
			in[u.ID] = true
		}
	} else {
		parent := map[int64]int64{}
		for _, u := range units {
			parent[u.ID] = u.ParentID
		}
		ids := make([]int64, len(chosen))
		for i, c := range chosen {
			ids[i] = c.ID
		}
		for _, u := range units {
			if concerns(ids, u.ID, parent) {
				in[u.ID] = true
			}
		}
	}
	boxes, err := s.Store.UnitMailboxes(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("outage: %w", err)
	}
	hasBox := map[int64]bool{}
	var to []*store.Account
	for i := range boxes {
		if in[boxes[i].UnitID] {
			hasBox[boxes[i].UnitID] = true
			to = append(to, &boxes[i])
		}
	}
	var unreached []string
	seen := map[int64]bool{}
	for _, a := range to {
		seen[a.ID] = true
	}
	for _, u := range units {
		if !in[u.ID] || hasBox[u.ID] {
			continue
		}
		if u.ManagerID == 0 {
			unreached = append(unreached, u.LocalPart)
			continue
		}
		m, err := s.Store.AccountByID(ctx, u.ManagerID)
		if err != nil || m.State == store.StateRevoked {
			unreached = append(unreached, u.LocalPart)
			continue
		}
		if !seen[m.ID] {
			seen[m.ID] = true
			to = append(to, m)
		}
	}
	return to, unreached, nil
}

func (s *Service) audit(ctx context.Context, actor, action string, n Notice, detail string) {
	if err := s.Store.AppendAudit(ctx, store.AuditEntry{Time: s.Clock.Now(), Actor: actor, Action: action,
		Target: fmt.Sprintf("outage#%d", n.ID), Detail: detail}); err != nil {
		s.log().Error("audit log", "err", err)
	}
}

func notice(o store.Outage, units []store.Unit) Notice {
	byID := map[int64]store.Unit{}
	for _, u := range units {
		byID[u.ID] = u
	}
	n := Notice{Outage: o}
	for _, id := range o.UnitIDs {
		n.Units = append(n.Units, byID[id].LocalPart)
		n.UnitNames = append(n.UnitNames, byID[id].Name)
	}
	return n
}

func addresses(as []*store.Account) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Address
	}
	return out
}

func unitList(lps []string) string {
	if len(lps) == 0 {
		return "tất cả / all"
	}
	return strings.Join(lps, ", ")
}

// hm formats an instant the Vietnamese way in the province's time: 08:00 27/11/2026.
func hm(t time.Time) string { return t.In(workdays.Location()).Format("15:04 02/01/2006") }

// BannerVI is the webmail banner text of an open notice.
func (n Notice) BannerVI() string {
	return fmt.Sprintf("Thông báo gián đoạn: %s từ %s; dự kiến khôi phục lúc %s.", n.What, hm(n.Since), hm(n.Until))
}

// BannerEN is the banner in English.
func (n Notice) BannerEN() string {
	loc := workdays.Location()
	return fmt.Sprintf("Service interruption: %s since %s; expected back at %s.", n.What,
		n.Since.In(loc).Format("2006-01-02 15:04"), n.Until.In(loc).Format("2006-01-02 15:04"))
}

func publishMessage(n Notice) notify.Message {
	loc := workdays.Location()
	return notify.Message{Kind: "outage",
		SubjectVI: "Thông báo gián đoạn hệ thống thư điện tử",
		SubjectEN: "E-mail service interruption",
		BodyVI: fmt.Sprintf("Sở Khoa học và Công nghệ thông báo sự cố làm gián đoạn hệ thống thư điện tử của tỉnh (Điều 14).\n\n"+
			"Nội dung: %s\nBắt đầu từ: %s\nDự kiến khôi phục: %s\nPhạm vi: %s\n\n"+
			"Trong thời gian này, thư gửi tới có thể đến chậm; đề nghị các cơ quan, đơn vị thông báo cho cán bộ, công chức biết. "+
			"Sở sẽ gửi thông báo khi hệ thống hoạt động trở lại.\n(Thông báo số %d)",
			n.What, hm(n.Since), hm(n.Until), scopeVI(n), n.ID),
		BodyEN: fmt.Sprintf("The Department of Science and Technology reports an interruption of the province's e-mail service (Art. 14).\n\n"+
			"What: %s\nSince: %s\nExpected restoration: %s\nScope: %s\n\n"+
			"Mail may arrive late meanwhile; please tell your staff. A notice will follow when the service is back.\n(Notice no. %d)",
			n.What, n.Since.In(loc).Format("2006-01-02 15:04"), n.Until.In(loc).Format("2006-01-02 15:04"), scopeEN(n), n.ID),
	}
}

func closeMessage(n Notice) notify.Message {
	loc := workdays.Location()
	note := ""
	if n.CloseNote != "" {
		note = "\n" + n.CloseNote
	}
	return notify.Message{Kind: "outage-closed",
		SubjectVI: "Hệ thống thư điện tử đã hoạt động trở lại",
		SubjectEN: "E-mail service restored",
		BodyVI: fmt.Sprintf("Sở Khoa học và Công nghệ thông báo: sự cố \"%s\" (thông báo số %d, từ %s) đã được khắc phục; hệ thống thư điện tử hoạt động bình thường từ %s.%s",
			n.What, n.ID, hm(n.Since), hm(n.ClosedAt), note),
		BodyEN: fmt.Sprintf("The Department of Science and Technology reports that the interruption \"%s\" (notice no. %d, since %s) is over; the e-mail service has worked normally since %s.%s",
			n.What, n.ID, n.Since.In(loc).Format("2006-01-02 15:04"), n.ClosedAt.In(loc).Format("2006-01-02 15:04"), note),
	}
}

func scopeVI(n Notice) string {
	if len(n.Units) == 0 {
		return "tất cả các cơ quan, đơn vị"
	}
	return strings.Join(n.UnitNames, ", ") + " (kể cả đơn vị trực thuộc)"
}

func scopeEN(n Notice) string {
	if len(n.Units) == 0 {
		return "every unit"
	}
	return strings.Join(n.Units, ", ") + " and their sub-units"
}
