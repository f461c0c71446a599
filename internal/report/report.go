// Package report owns the periodic reports of Điều 7.3, 14.3 and 16.3 (R7.3,
// R16.3): the figures per unit and for the province over a month, quarter,
// year or any dates; their rendering as HTML, CSV and XLSX; and the monthly
// mailing of the report to the People's Committee on the first working day. It
// reads the store's aggregates and never changes an account, a request or a log.
package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	"govmail/internal/clock"
	"govmail/internal/store"
	"govmail/internal/workdays"
)

// DefaultIdleDays is the N of "accounts without a login for over N days": the
// first inactivity reminder (R8.7), so the report shows who is heading for the
// 90-day lock of Điều 8.2a.
const DefaultIdleDays = 60

// Store is what reports read.
type Store interface {
	ListUnits(ctx context.Context) ([]store.Unit, error)
	UnitByLocalPart(ctx context.Context, localPart string) (*store.Unit, error)
	ResolveAddress(ctx context.Context, address string, now time.Time) (*store.Account, error)
	AppendAudit(ctx context.Context, e store.AuditEntry) error
	store.ReportStore
}

// Builder builds reports.
type Builder struct {
	Store    Store
	Clock    clock.Clock
	IdleDays int // 0: DefaultIdleDays
}

// Row is one line of a report: a unit with its sub-units, or the unit's own
// accounts when its sub-units have lines of their own.
type Row struct {
	UnitID    int64
	LocalPart string
	Name      string
	Own       bool // only the unit's own accounts, not its sub-units'
	F         store.UnitFigures
}

// Report is a built report.
type Report struct {
	Period      Period
	Unit        *store.Unit // nil: the whole province
	GeneratedAt time.Time
	// AsOf is the instant the end-of-period states are taken at: the end of
	// the period, or now for a period not over yet.
	AsOf     time.Time
	IdleDays int
	Rows     []Row
	Total    Row
	// Mail counts the province's log rows by direction and status (province
	// reports only: a unit's share is in its rows).
	Mail []store.MailTotal
}

// Errors of Build.
var (
	ErrNoUnit = errors.New("report: no such unit")
	ErrFuture = errors.New("report: the period has not begun")
)

// Build builds the report of period p for the unit with local part unitLP
// (with its sub-units), or for the whole province when unitLP is "".
func (b *Builder) Build(ctx context.Context, p Period, unitLP string) (*Report, error) {
	loc := workdays.Location()
	now := b.Clock.Now()
	idle := b.IdleDays
	if idle <= 0 {
		idle = DefaultIdleDays
	}
	if !now.After(p.Start(loc)) {
		return nil, fmt.Errorf("%w: %s", ErrFuture, p.Key)
	}
	r := &Report{Period: p, GeneratedAt: now, IdleDays: idle}
	units, err := b.Store.ListUnits(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if unitLP != "" {
		u, err := b.Store.UnitByLocalPart(ctx, unitLP)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("%w: %q", ErrNoUnit, unitLP)
			}
			return nil, fmt.Errorf("report: %w", err)
		}
		r.Unit = u
	}
	// A period not over yet is reported as it stands now; "today" is then the
	// day the idle count runs to (R8.2: days fully passed before today).
	until, ref := p.End(loc), p.To.AddDays(1)
	if now.Before(until) {
		until, ref = now, workdays.DateOf(now, loc)
	}
	r.AsOf = until
	// Idle over N days: the last sign of life fell on or before ref−N−1 (C1:
	// the day of the login is not counted).
	lastIdleDay := ref.AddDays(-idle - 1)
	_, off := until.In(loc).Zone()
	figs, err := b.Store.ReportFigures(ctx, store.ReportQuery{
		Since: p.Start(loc), Until: until,
		IdleBefore: lastIdleDay.AddDays(1).In(loc), IdleAbsenceAfter: lastIdleDay.String(),
		RulesInForce: workdays.RulesInForce().In(loc), ZoneOffset: off,
	})
	if err != nil {
		return nil, err
	}
	r.Rows, r.Total = breakdown(units, r.Unit, figs.Units)
	if r.Unit == nil {
		r.Mail = figs.Mail
	}
	return r, nil
}

// breakdown files each unit's figures under its line: the top-level unit for
// a province report; the unit itself or its direct sub-unit for a unit report.
func breakdown(units []store.Unit, scope *store.Unit, figs map[int64]*store.UnitFigures) ([]Row, Row) {
	byID := make(map[int64]store.Unit, len(units))
	children := map[int64][]store.Unit{}
	for _, u := range units {
		byID[u.ID] = u
		children[u.ParentID] = append(children[u.ParentID], u)
	}
	var rows []Row
	line := map[int64]int{} // unit id of a line → index in rows
	total := Row{Name: "Toàn tỉnh"}
	if scope == nil {
		for _, u := range children[0] {
			line[u.ID] = len(rows)
			rows = append(rows, Row{UnitID: u.ID, LocalPart: u.LocalPart, Name: u.Name})
		}
	} else {
		total = Row{UnitID: scope.ID, LocalPart: scope.LocalPart, Name: scope.Name}
		line[scope.ID] = 0
		rows = append(rows, Row{UnitID: scope.ID, LocalPart: scope.LocalPart, Name: scope.Name, Own: len(children[scope.ID]) > 0})
		for _, c := range children[scope.ID] {
			line[c.ID] = len(rows)
			rows = append(rows, Row{UnitID: c.ID, LocalPart: c.LocalPart, Name: c.Name})
		}
	}
	var noUnit *Row
	for id, f := range figs {
		i, ok := lineOf(id, scope, byID, line)
		if !ok {
			continue
		}
		if i < 0 {
			if noUnit == nil {
				noUnit = &Row{Name: "(Không thuộc đơn vị nào / no unit)"}
			}
			addFigures(&noUnit.F, f)
		} else {
			addFigures(&rows[i].F, f)
		}
		addFigures(&total.F, f)
	}
	if noUnit != nil {
		rows = append(rows, *noUnit)
	}
	return rows, total
}

// lineOf finds the line a unit's figures go to: -1 for figures without a unit
// (province reports only); false when the unit is outside the scope.
func lineOf(id int64, scope *store.Unit, byID map[int64]store.Unit, line map[int64]int) (int, bool) {
	if id == 0 {
		return -1, scope == nil
	}
	var prev int64
	// The tree is shallow (R1.1), but a bound keeps a corrupt cycle harmless.
	for cur, i := id, 0; cur != 0 && i < 32; i++ {
		if scope != nil && cur == scope.ID {
			if prev == 0 {
				return line[cur], true
			}
			return line[prev], true // prev is a direct sub-unit of the scope
		}
		u, ok := byID[cur]
		if !ok {
			break
		}
		if scope == nil && u.ParentID == 0 {
			return line[cur], true
		}
		prev, cur = cur, u.ParentID
	}
	if scope == nil {
		// A unit missing from the tree still counts for the province.
		return -1, true
	}
	return 0, false
}

func addFigures(dst, src *store.UnitFigures) {
	dst.Active += src.Active
	dst.Revoked += src.Revoked
	dst.Idle += src.Idle
	dst.UsedBytes += src.UsedBytes
	dst.QuotaBytes += src.QuotaBytes
	dst.NearFull += src.NearFull
	dst.Created += src.Created
	dst.Modified += src.Modified
	dst.RevokedInPeriod += src.RevokedInPeriod
	dst.Restored += src.Restored
	dst.RequestsReceived += src.RequestsReceived
	dst.RequestsDone += src.RequestsDone
	dst.RequestsRejected += src.RequestsRejected
	dst.OverdueOpen += src.OverdueOpen
	dst.OverdueLate += src.OverdueLate
	dst.Received += src.Received
	dst.ReceivedBytes += src.ReceivedBytes
	dst.Sent += src.Sent
	dst.SentBytes += src.SentBytes
	dst.SendFailed += src.SendFailed
	dst.Locked = addMap(dst.Locked, src.Locked)
	dst.LockedInPeriod = addMap(dst.LockedInPeriod, src.LockedInPeriod)
	dst.Held = addMap(dst.Held, src.Held)
}

func addMap(dst, src map[string]int64) map[string]int64 {
	if dst == nil {
		dst = map[string]int64{}
	}
	for k, v := range src {
		dst[k] += v
	}
	return dst
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
