package authz

import (
	"errors"
	"testing"

	"govmail/internal/store"
)

// The tree of the tests: Sở KHCN (headed by 1, security contact 2) with its
// Văn phòng (vp), and xã Chiềng Cơi (headed by 3).
func tree() []store.Unit {
	return []store.Unit{
		{ID: 10, Name: "Sở Khoa học và Công nghệ", LocalPart: "skhcn", ManagerID: 1, SecurityContactID: 2},
		{ID: 11, ParentID: 10, Name: "Văn phòng Sở", LocalPart: "vp.skhcn", Kind: store.UnitSubUnit},
		{ID: 20, Name: "Xã Chiềng Cơi", LocalPart: "chiengcoi", ManagerID: 3},
	}
}

func TestRolesR7_5_R12_1_R16(t *testing.T) {
	op := &store.Account{ID: 9, Role: store.RoleOperator}
	head := &store.Account{ID: 1, UnitID: 10}
	sec := &store.Account{ID: 2, UnitID: 11}
	other := &store.Account{ID: 3, UnitID: 20}
	user := &store.Account{ID: 4, UnitID: 11}
	staffVP := &store.Account{ID: 5, UnitID: 11}
	boxVP := &store.Account{ID: 6, UnitID: 11, Kind: store.KindUnit}
	stranger := &store.Account{ID: 7, UnitID: 20}
	reqSKHCN := &store.Request{UnitID: 11}

	type check struct {
		name string
		f    func(v *View) error
	}
	checks := []check{
		{"read unit vp", func(v *View) error { return v.ReadUnit(11) }},
		{"manage unit vp", func(v *View) error { return v.ManageUnit(11) }},
		{"create unit", func(v *View) error { return v.CreateUnit() }},
		{"name contact in own unit", func(v *View) error {
			return v.UpdateUnit(10, UnitChange{SecurityContact: true, Contact: staffVP})
		}},
		{"name contact from elsewhere", func(v *View) error {
			return v.UpdateUnit(10, UnitChange{SecurityContact: true, Contact: stranger})
		}},
		{"appoint manager", func(v *View) error { return v.UpdateUnit(10, UnitChange{Manager: true}) }},
		{"read account", func(v *View) error { return v.ReadAccount(user) }},
		{"change account", func(v *View) error { return v.ChangeAccount() }},
		{"declare absence", func(v *View) error { return v.DeclareAbsence(user) }},
		{"read request", func(v *View) error { return v.ReadRequest(reqSKHCN) }},
		{"file request", func(v *View) error { return v.FileRequest(10, []int64{11}) }},
		{"file for another unit's people", func(v *View) error { return v.FileRequest(10, []int64{20}) }},
		{"handle request", func(v *View) error { return v.HandleRequest() }},
		{"delegate own staff", func(v *View) error { return v.Delegate(boxVP, staffVP) }},
		{"delegate a stranger", func(v *View) error { return v.Delegate(boxVP, stranger) }},
		{"read log", func(v *View) error { return v.ReadLog() }},
		{"read log counts", func(v *View) error { return v.ReadLogCounts(11) }},
		{"manage outages", func(v *View) error { return v.ManageOutages() }},
		{"edit calendar", func(v *View) error { return v.EditCalendar() }},
	}
	// want lists, per principal, the checks that pass.
	want := map[string]map[string]bool{
		"operator": {"read unit vp": true, "manage unit vp": true, "create unit": true, "name contact in own unit": true,
			"name contact from elsewhere": true, "appoint manager": true, "read account": true, "change account": true,
			"declare absence": true, "read request": true, "file request": true, "file for another unit's people": true,
			"handle request": true, "delegate own staff": true, "delegate a stranger": true, "read log": true, "read log counts": true,
			"manage outages": true, "edit calendar": true},
		// R7.5: a manager files and follows, never carries out.
		"manager": {"read unit vp": true, "manage unit vp": true, "name contact in own unit": true, "read account": true,
			"declare absence": true, "read request": true, "file request": true, "delegate own staff": true, "read log counts": true},
		// R12.1: a security contact reads.
		"security":      {"read unit vp": true, "read account": true, "read log counts": true},
		"other manager": {},
		"user":          {},
	}
	who := map[string]*store.Account{"operator": op, "manager": head, "security": sec, "other manager": other, "user": {ID: 8, UnitID: 11}}
	for name, acct := range who {
		v := New(acct, tree())
		for _, c := range checks {
			err := c.f(v)
			if got := err == nil; got != want[name][c.name] {
				t.Errorf("%s / %s: allowed=%v", name, c.name, got)
			}
			if err != nil && !errors.Is(err, ErrForbidden) {
				t.Errorf("%s / %s: %v is not ErrForbidden", name, c.name, err)
			}
		}
	}
	if v := New(user, tree()); v.ReadAccount(user) != nil {
		t.Error("a user cannot read their own account")
	}
}

func TestRootsAndSubtree(t *testing.T) {
	v := New(&store.Account{ID: 1}, tree())
	roots := v.Roots()
	if len(roots) != 1 || roots[0].ID != 10 {
		t.Fatalf("roots %+v", roots)
	}
	if got := v.Subtree(10); len(got) != 2 || got[0] != 10 || got[1] != 11 {
		t.Errorf("subtree %v", got)
	}
	if !v.Manager() || v.SecurityContact() || v.Operator() || !v.UnitStaff() {
		t.Error("roles")
	}
	if got := New(&store.Account{ID: 9, Role: store.RoleOperator}, tree()).Roots(); len(got) != 2 {
		t.Errorf("operator roots %+v", got)
	}
	if got := New(&store.Account{ID: 4}, tree()); got.UnitStaff() || len(got.Roots()) != 0 {
		t.Error("a user has unit pages")
	}
}
