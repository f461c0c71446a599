// Package directory owns the organisation behind the mailboxes (Điều 1, 5, 12):
// the unit tree, the addresses the rules of Điều 5 give to units and people, and
// the one namespace they share (R5.7). It asks internal/address for the rules
// themselves and the store for what is taken; it never stores anything the store
// does not know about.
package directory

import (
	"context"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"govmail/internal/address"
	"govmail/internal/clock"
	"govmail/internal/store"
)

// ProvinceUnits is the province's unit list as shipped (Sơn La, 2025 reorganisation):
// what `govmail admin unit import` loads when no file is named.
//
//go:embed units-sonla.csv
var ProvinceUnits []byte

// Service applies the directory rules.
type Service struct {
	Store  store.Store
	Clock  clock.Clock
	Rules  address.Rules
	Domain string
	Logger *slog.Logger
}

// Error is a refusal with Vietnamese and English text.
type Error struct {
	VI, EN string
	Err    error
}

func (e *Error) Error() string { return e.VI + " / " + e.EN }
func (e *Error) Unwrap() error { return e.Err }

func (d *Service) now() time.Time { return d.Clock.Now() }

func (d *Service) addr(lp string) string { return lp + "@" + d.Domain }

// taken is the namespace predicate address rules need (R5.7, R7.6).
func (d *Service) taken(ctx context.Context) address.Taken {
	return func(lp string) bool {
		use, err := d.Store.AddressUse(ctx, d.addr(lp), d.now())
		return err != nil || use != store.UseNone // on error, say taken: never hand out twice
	}
}

// CreateUnit adds a unit. For a commune or ward the local part is the folded
// place name (R5.6); otherwise abbr, or the suggestion of R5.5 when empty; a
// sub-unit's local part is abbr.parent (R5.1c). A clash is refused with the
// suggestion of adding letters (R5.5).
func (d *Service) CreateUnit(ctx context.Context, name string, kind store.UnitKind, parentLP, abbr, actor string) (*store.Unit, error) {
	if !kind.Valid() {
		return nil, &Error{VI: fmt.Sprintf("Loại đơn vị %q không hợp lệ", kind), EN: fmt.Sprintf("unknown unit kind %q", kind)}
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, &Error{VI: "Tên đơn vị trống", EN: "the unit name is empty"}
	}
	u := &store.Unit{Kind: kind, Name: name}
	var err error
	switch {
	case abbr != "":
		u.Abbr = address.Canonical(abbr)
	case kind == store.UnitCommune || kind == store.UnitWard:
		u.Abbr, err = address.CommuneSlug(name)
	default:
		u.Abbr, err = address.SuggestAbbreviation(name, kind == store.UnitSubUnit)
	}
	if err != nil {
		return nil, err
	}
	u.LocalPart = u.Abbr
	if kind == store.UnitSubUnit {
		if parentLP == "" {
			return nil, &Error{VI: "Đơn vị trực thuộc phải có đơn vị cấp trên", EN: "a sub-unit needs a parent unit"}
		}
		parent, err := d.Store.UnitByLocalPart(ctx, parentLP)
		if err != nil {
			return nil, &Error{VI: fmt.Sprintf("Không có đơn vị %q", parentLP), EN: fmt.Sprintf("no unit %q", parentLP), Err: err}
		}
		u.ParentID = parent.ID
		if u.LocalPart, err = d.Rules.SubUnitLocalPart(u.Abbr, parent.LocalPart); err != nil {
			return nil, err
		}
	} else if parentLP != "" {
		return nil, &Error{VI: "Chỉ đơn vị trực thuộc mới có đơn vị cấp trên", EN: "only a sub-unit has a parent"}
	}
	if err := d.Rules.CheckNew(u.LocalPart, d.taken(ctx)); err != nil {
		if errors.Is(err, address.ErrTaken) {
			return nil, &Error{
				VI:  fmt.Sprintf("Địa chỉ %s đã được dùng; hãy thêm chữ vào tên viết tắt (Điều 5.1a, ví dụ snv → sngv)", d.addr(u.LocalPart)),
				EN:  fmt.Sprintf("%s is taken; add letters to the abbreviation (Article 5.1a, e.g. snv → sngv)", d.addr(u.LocalPart)),
				Err: err,
			}
		}
		return nil, err
	}
	if err := d.Store.CreateUnit(ctx, u); err != nil {
		return nil, fmt.Errorf("create unit %s: %w", u.LocalPart, err)
	}
	d.audit(ctx, actor, "unit.create", u.LocalPart, fmt.Sprintf("%s (%s)", u.Name, u.Kind))
	return u, nil
}

func (d *Service) audit(ctx context.Context, actor, action, target, detail string) {
	if err := d.Store.AppendAudit(ctx, store.AuditEntry{Time: d.now(), Actor: actor, Action: action, Target: target, Detail: detail}); err != nil && d.Logger != nil {
		d.Logger.Error("audit log", "err", err)
	}
}

// ImportResult counts what an import did.
type ImportResult struct {
	Created, Existing int
	Errors            []string
}

// ImportUnits loads units from CSV with the header kind,name_vi,local_part[,notes]
// (the format of units-sonla.csv). Rows whose local part exists are counted, not
// changed, so that an import can be run again.
func (d *Service) ImportUnits(ctx context.Context, r io.Reader, actor string) (*ImportResult, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("unit CSV: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, need := range []string{"kind", "name_vi", "local_part"} {
		if _, ok := col[need]; !ok {
			return nil, &Error{VI: "Tệp CSV thiếu cột " + need, EN: "the CSV file has no column " + need}
		}
	}
	res := &ImportResult{}
	line := 1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line++
		if err != nil {
			return res, fmt.Errorf("unit CSV line %d: %w", line, err)
		}
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		kind := store.UnitKind(get("kind"))
		lp := address.Canonical(get("local_part"))
		if _, err := d.Store.UnitByLocalPart(ctx, lp); err == nil {
			res.Existing++
			continue
		}
		parent := ""
		abbr := lp
		if kind == store.UnitSubUnit {
			if i := strings.IndexByte(lp, '.'); i > 0 {
				abbr, parent = lp[:i], lp[i+1:]
			}
		}
		u, err := d.CreateUnit(ctx, get("name_vi"), kind, parent, abbr, actor)
		if err != nil {
			res.Errors = append(res.Errors, fmt.Sprintf("dòng/line %d (%s): %v", line, lp, err))
			continue
		}
		if notes := get("notes"); notes != "" {
			u.Notes = notes
			if i := strings.IndexAny(notes, ";, "); i > 0 && isDigits(notes[:i]) {
				u.Code = notes[:i]
			}
			if err := d.Store.UpdateUnit(ctx, u); err != nil {
				return res, err
			}
		}
		res.Created++
	}
	return res, nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// ExportUnits writes every unit as CSV (UTF-8), in the import format plus ids.
func (d *Service) ExportUnits(ctx context.Context, w io.Writer) error {
	units, err := d.Store.ListUnits(ctx)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"kind", "name_vi", "local_part", "notes", "address", "parent"})
	byID := map[int64]store.Unit{}
	for _, u := range units {
		byID[u.ID] = u
	}
	for _, u := range units {
		parent := ""
		if p, ok := byID[u.ParentID]; ok {
			parent = p.LocalPart
		}
		cw.Write([]string{string(u.Kind), u.Name, u.LocalPart, u.Notes, d.addr(u.LocalPart), parent})
	}
	cw.Flush()
	return cw.Error()
}

// TopUnit returns the top-level unit of u: the unit part of a personal address
// is the sở or the xã/phường, also for staff of a phòng (R5.8).
func (d *Service) TopUnit(ctx context.Context, u *store.Unit) (*store.Unit, error) {
	for i := 0; u.ParentID != 0 && i < 16; i++ {
		p, err := d.Store.UnitByID(ctx, u.ParentID)
		if err != nil {
			return nil, err
		}
		u = p
	}
	return u, nil
}

// Suggestion is the address the rule of Điều 5.2 gives a person.
type Suggestion struct {
	LocalPart string
	Address   string
	Base      string
	Review    bool // one-token name: an operator should check it (R5.2)
}

// SuggestPersonal applies R5.2–R5.4 and R5.8 for a person of unit unitLP.
func (d *Service) SuggestPersonal(ctx context.Context, unitLP, fullName string, birthYear int) (*Suggestion, error) {
	u, err := d.Store.UnitByLocalPart(ctx, unitLP)
	if err != nil {
		return nil, &Error{VI: fmt.Sprintf("Không có đơn vị %q", unitLP), EN: fmt.Sprintf("no unit %q", unitLP), Err: err}
	}
	top, err := d.TopUnit(ctx, u)
	if err != nil {
		return nil, err
	}
	base, review, err := address.PersonalBase(fullName)
	if err != nil {
		return nil, err
	}
	lp, err := d.Rules.PersonalLocalPart(base, top.LocalPart, birthYear, d.taken(ctx))
	if err != nil {
		return nil, err
	}
	return &Suggestion{LocalPart: lp, Address: d.addr(lp), Base: base, Review: review}, nil
}

// NewPerson describes a personal account to create.
type NewPerson struct {
	UnitLP       string
	FullName     string
	BirthYear    int
	Override     string // an operator's own local part instead of the rule's (R5.4)
	PasswordHash string
	MustChange   bool
	QuotaBytes   int64
}

// CreatePerson creates a personal account with the rule's address, or the
// operator's override (checked against R5.1's character set, R5.10, R5.11 and
// the namespace; recorded).
func (d *Service) CreatePerson(ctx context.Context, p NewPerson, actor string) (*store.Account, error) {
	u, err := d.Store.UnitByLocalPart(ctx, p.UnitLP)
	if err != nil {
		return nil, &Error{VI: fmt.Sprintf("Không có đơn vị %q", p.UnitLP), EN: fmt.Sprintf("no unit %q", p.UnitLP), Err: err}
	}
	var lp, note string
	if p.Override != "" {
		lp = address.Canonical(p.Override)
		if err := d.Rules.CheckNew(lp, d.taken(ctx)); err != nil {
			return nil, err
		}
		note = "override by " + actor
	} else {
		s, err := d.SuggestPersonal(ctx, p.UnitLP, p.FullName, p.BirthYear)
		if err != nil {
			return nil, err
		}
		lp = s.LocalPart
		if s.Review {
			note = "review: one-token name"
		}
	}
	now := d.now()
	a := &store.Account{
		Address: d.addr(lp), DisplayName: strings.Join(strings.Fields(p.FullName), " "), Kind: store.KindPersonal,
		UnitID: u.ID, PasswordHash: p.PasswordHash, MustChange: p.MustChange, PasswordSetAt: now,
		QuotaBytes: p.QuotaBytes, BirthYear: p.BirthYear, AddressNote: note,
	}
	if err := d.Store.CreateAccount(ctx, a); err != nil {
		return nil, fmt.Errorf("create %s: %w", a.Address, err)
	}
	d.audit(ctx, actor, "account.create", a.Address, fmt.Sprintf("%s, unit %s %s", a.DisplayName, u.LocalPart, note))
	return a, nil
}

// CreateUnitMailbox creates the mailbox of a unit, at the unit's own address.
func (d *Service) CreateUnitMailbox(ctx context.Context, unitLP, passwordHash string, quota int64, actor string) (*store.Account, error) {
	u, err := d.Store.UnitByLocalPart(ctx, unitLP)
	if err != nil {
		return nil, &Error{VI: fmt.Sprintf("Không có đơn vị %q", unitLP), EN: fmt.Sprintf("no unit %q", unitLP), Err: err}
	}
	a := &store.Account{Address: d.addr(u.LocalPart), DisplayName: u.Name, Kind: store.KindUnit, UnitID: u.ID,
		PasswordHash: passwordHash, MustChange: true, PasswordSetAt: d.now(), QuotaBytes: quota}
	if err := d.Store.CreateAccount(ctx, a); err != nil {
		return nil, fmt.Errorf("create %s: %w", a.Address, err)
	}
	d.audit(ctx, actor, "account.create", a.Address, "unit mailbox of "+u.Name)
	return a, nil
}
