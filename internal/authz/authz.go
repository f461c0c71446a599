// Package authz owns who may do what with units, accounts, requests,
// delegations and logs: the one set of rules that the operators' portal and the
// unit managers' pages (internal/web) and the REST API (internal/api) ask before
// acting. The roles come from the data, not from a role table:
//
//   - operator (store.RoleOperator, Sở KHCN): everything (Điều 7.2, 14);
//   - unit manager (the account is ManagerID of a unit): that unit and its
//     sub-units — files and follows their requests, declares absences, hands the
//     unit mailboxes to staff, names the security contact (Điều 7.1, 9.2, 16);
//     never carries out a request (R7.5);
//   - security contact (SecurityContactID of a unit): reads that unit's (and its
//     sub-units') accounts and log counts (R12.1);
//   - user: only their own account and their own delegations.
//
// It never authenticates anybody (internal/auth does), never narrows rights by
// credential (API token scopes stay in internal/api) and never changes data.
package authz

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"govmail/internal/store"
)

// ErrForbidden is returned by every refusal, so that callers map it to their
// own reply (a 403 page, a JSON error) in one place.
var ErrForbidden = errors.New("authz: forbidden")

// UnitLister is the part of the store a View is built from.
type UnitLister interface {
	ListUnits(ctx context.Context) ([]store.Unit, error)
}

// View is what one account may reach in the unit tree, worked out once per
// request from the units' ManagerID and SecurityContactID. It is read-only after
// New, so one View may be shared by the goroutines of a request.
type View struct {
	acct     *store.Account
	operator bool
	units    map[int64]store.Unit
	children map[int64][]int64
	manages  map[int64]bool // units headed, with every sub-unit beneath them
	secures  map[int64]bool // units whose security contact this is, with sub-units
}

// Load builds the View of acct from the current unit tree.
func Load(ctx context.Context, ul UnitLister, acct *store.Account) (*View, error) {
	units, err := ul.ListUnits(ctx)
	if err != nil {
		return nil, fmt.Errorf("authz units: %w", err)
	}
	return New(acct, units), nil
}

// New builds the View of acct over units.
func New(acct *store.Account, units []store.Unit) *View {
	v := &View{acct: acct, operator: acct.Role == store.RoleOperator, units: make(map[int64]store.Unit, len(units)),
		children: map[int64][]int64{}, manages: map[int64]bool{}, secures: map[int64]bool{}}
	var headed, secured []int64
	for _, u := range units {
		v.units[u.ID] = u
		v.children[u.ParentID] = append(v.children[u.ParentID], u.ID)
		if u.ManagerID != 0 && u.ManagerID == acct.ID {
			headed = append(headed, u.ID)
		}
		if u.SecurityContactID != 0 && u.SecurityContactID == acct.ID {
			secured = append(secured, u.ID)
		}
	}
	// A head of a sở is head of its phòng too (Điều 16: sub-units included).
	v.spread(headed, v.manages)
	v.spread(secured, v.secures)
	return v
}

func (v *View) spread(roots []int64, into map[int64]bool) {
	for len(roots) > 0 {
		id := roots[0]
		roots = roots[1:]
		if into[id] {
			continue
		}
		into[id] = true
		roots = append(roots, v.children[id]...)
	}
}

func allow(ok bool) error {
	if ok {
		return nil
	}
	return ErrForbidden
}

// Account is the account the View is for.
func (v *View) Account() *store.Account { return v.acct }

// Operator tells whether the account is an operator.
func (v *View) Operator() bool { return v.operator }

// Manager tells whether the account heads any unit.
func (v *View) Manager() bool { return len(v.manages) > 0 }

// SecurityContact tells whether the account is any unit's security contact.
func (v *View) SecurityContact() bool { return len(v.secures) > 0 }

// UnitStaff tells whether the account may see any unit's pages: operators,
// unit managers and security contacts.
func (v *View) UnitStaff() bool { return v.operator || v.Manager() || v.SecurityContact() }

// Unit returns a unit of the tree the View was built from.
func (v *View) Unit(id int64) (store.Unit, bool) {
	u, ok := v.units[id]
	return u, ok
}

// Units is the unit tree the View was built from, by id. Callers read it and
// never change it: the View is shared by the goroutines of a request.
func (v *View) Units() map[int64]store.Unit { return v.units }

// Subtree lists id and every unit beneath it, id first, then breadth first.
func (v *View) Subtree(id int64) []int64 {
	out := []int64{id}
	for i := 0; i < len(out); i++ {
		out = append(out, v.children[out[i]]...)
	}
	return out
}

// Roots lists the units whose pages the account reaches that are not beneath
// another such unit, by name: the entry points of a manager's or a security
// contact's pages. Operators get every top-level unit.
func (v *View) Roots() []store.Unit {
	var out []store.Unit
	for id, u := range v.units {
		reach := v.operator || v.manages[id] || v.secures[id]
		parentReach := u.ParentID != 0 && (v.operator || v.manages[u.ParentID] || v.secures[u.ParentID])
		if reach && !parentReach {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b store.Unit) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Manages tells whether the account heads unitID or a unit above it.
func (v *View) Manages(unitID int64) bool { return v.manages[unitID] }

// ReadUnit: operators, and the unit's managers and security contacts.
func (v *View) ReadUnit(unitID int64) error {
	return allow(v.operator || v.manages[unitID] || v.secures[unitID])
}

// ManageUnit: operators and the unit's managers (file requests, suggest addresses).
func (v *View) ManageUnit(unitID int64) error {
	return allow(v.operator || v.manages[unitID])
}

// CreateUnit: operators only (Điều 7.2: the unit tree is Sở KHCN's).
func (v *View) CreateUnit() error { return allow(v.operator) }

// UnitChange says which fields of a unit an update touches.
type UnitChange struct {
	Name, Code, Notes, Manager, SecurityContact bool
	// Contact is the new security contact, nil when cleared or unchanged.
	Contact *store.Account
}

// UpdateUnit: operators change anything; a unit's manager only names its
// security contact (R12.1), and only a person of the units they head, so that a
// manager cannot hand reading rights over their unit to a stranger. Who heads a
// unit is the operators' decision alone: a manager may not appoint another.
func (v *View) UpdateUnit(unitID int64, ch UnitChange) error {
	if v.operator {
		return nil
	}
	if !v.manages[unitID] || ch.Name || ch.Code || ch.Notes || ch.Manager {
		return ErrForbidden
	}
	if ch.Contact != nil && !v.manages[ch.Contact.UnitID] {
		return ErrForbidden
	}
	return nil
}

// self tells whether a is the View's own account.
func (v *View) self(a *store.Account) bool { return a != nil && a.ID == v.acct.ID }

// ReadAccount: the holder, operators, the unit's managers and security contacts.
func (v *View) ReadAccount(a *store.Account) error {
	return allow(v.self(a) || v.operator || (a.UnitID != 0 && (v.manages[a.UnitID] || v.secures[a.UnitID])))
}

// ChangeAccount: create, reset the password, lock, restore, revoke, set the
// quota — operators only (Điều 7.2, 8.3, 11.2); units ask through requests.
func (v *View) ChangeAccount() error { return allow(v.operator) }

// DeclareAbsence: operators and the account's unit managers (R8.2: "a unit
// manager may declare an absence").
func (v *View) DeclareAbsence(a *store.Account) error {
	return allow(v.operator || (a.UnitID != 0 && v.manages[a.UnitID]))
}

// ReadRequest: operators and the requesting unit's managers (R7.5: they follow
// their own unit's requests).
func (v *View) ReadRequest(r *store.Request) error {
	return allow(v.operator || v.manages[r.UnitID])
}

// FileRequest: operators (for any unit, e.g. a request received on paper) and
// the unit's managers; every person of a create request goes to a unit the
// filer may reach, so that nobody asks for accounts in another's unit.
func (v *View) FileRequest(unitID int64, peopleUnits []int64) error {
	if v.operator {
		return nil
	}
	if !v.manages[unitID] {
		return ErrForbidden
	}
	for _, id := range peopleUnits {
		if !v.manages[id] {
			return ErrForbidden
		}
	}
	return nil
}

// HandleRequest (carry out or reject): operators only (R7.5).
func (v *View) HandleRequest() error { return allow(v.operator) }

// ReadDelegations of a unit mailbox: operators and the unit's managers.
func (v *View) ReadDelegations(box *store.Account) error {
	return allow(v.operator || (box.UnitID != 0 && v.manages[box.UnitID]))
}

// ReadDelegationsOf a person: the person, operators and their unit managers.
func (v *View) ReadDelegationsOf(person *store.Account) error {
	return allow(v.self(person) || v.operator || (person.UnitID != 0 && v.manages[person.UnitID]))
}

// Delegate (grant or remove, R9.1): operators, and the managers of the unit
// mailbox's unit, who hand it to their own staff only.
func (v *View) Delegate(box, person *store.Account) error {
	if v.operator {
		return nil
	}
	return allow(box.UnitID != 0 && v.manages[box.UnitID] && person.UnitID != 0 && v.manages[person.UnitID])
}

// ReadLogCounts of a unit: operators, its managers and its security contacts
// (R12.1). The rows themselves are for operators only (ReadLog).
func (v *View) ReadLogCounts(unitID int64) error { return v.ReadUnit(unitID) }

// ReadLog: searching and exporting the transaction log, operators only (R11.3,
// R14.5).
func (v *View) ReadLog() error { return allow(v.operator) }

// ManageOutages: publishing and closing outage notices is Sở KHCN's (Điều 14).
func (v *View) ManageOutages() error { return allow(v.operator) }

// EditCalendar: the working-day calendar is edited by operators (C3, C4).
func (v *View) EditCalendar() error { return allow(v.operator) }

// ReadAudit: the audit log, operators only (R11.2).
func (v *View) ReadAudit() error { return allow(v.operator) }

// VisibleUnits lists the units whose accounts the account may list, nil
// meaning every unit (operators).
func (v *View) VisibleUnits() []int64 {
	if v.operator {
		return nil
	}
	var out []int64
	for id := range v.units {
		if v.manages[id] || v.secures[id] {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// ReadableUnits lists every unit whose page the account may read (ReadUnit),
// operators included, in id order.
func (v *View) ReadableUnits() []int64 {
	var out []int64
	for id := range v.units {
		if v.operator || v.manages[id] || v.secures[id] {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// ManagedUnits lists the units whose requests the account may list, nil
// meaning every unit (operators).
func (v *View) ManagedUnits() []int64 {
	if v.operator {
		return nil
	}
	var out []int64
	for id := range v.manages {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
