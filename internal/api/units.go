package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"govmail/internal/authz"
	"govmail/internal/store"
)

// me tells the caller who they are to the API and what they may reach.
func (a *API) me(c *call) error {
	out := struct {
		Account          accountJSON `json:"account"`
		Via              string      `json:"via"`
		Scopes           []string    `json:"scopes"`
		Operator         bool        `json:"operator"`
		Manages          []string    `json:"manages"`
		SecurityContacts []string    `json:"security_contact_of"`
	}{Account: a.accountJSON(c.ctx, c.p.Account, c.v.Units()), Via: c.p.Via, Operator: c.v.Operator(),
		Scopes: []string{}, Manages: []string{}, SecurityContacts: []string{}}
	for _, s := range Scopes() {
		if c.p.HasScope(s) {
			out.Scopes = append(out.Scopes, s)
		}
	}
	// The units the caller is named for; their sub-units come with them.
	for _, u := range c.v.Units() {
		if u.ManagerID == c.p.Account.ID {
			out.Manages = append(out.Manages, u.LocalPart)
		}
		if u.SecurityContactID == c.p.Account.ID {
			out.SecurityContacts = append(out.SecurityContacts, u.LocalPart)
		}
	}
	slices.Sort(out.Manages)
	slices.Sort(out.SecurityContacts)
	return c.json(http.StatusOK, out)
}

// listUnits lists the units the caller may see, flat or as a tree (?tree=true);
// ?without_security_contact=true lists the units R12.1 says need one.
func (a *API) listUnits(c *call) error {
	q := c.r.URL.Query()
	var v invalid
	tree := boolParam(q.Get("tree"), "tree", &v)
	noContact := boolParam(q.Get("without_security_contact"), "without_security_contact", &v)
	kind := store.UnitKind(q.Get("kind"))
	if kind != "" && !kind.Valid() {
		v.add("kind", "invalid", "Loại đơn vị không hợp lệ.", "Unknown unit kind.")
	}
	if err := v.err(); err != nil {
		return err
	}
	visible := c.v.VisibleUnits()
	pp := a.people()
	var list []*unitJSON
	byID := map[int64]*unitJSON{}
	// ListUnits orders parents before children, which the tree relies on.
	units, err := a.d.Store.ListUnits(c.ctx)
	if err != nil {
		return err
	}
	for i := range units {
		u := &units[i]
		if visible != nil && !slices.Contains(visible, u.ID) {
			continue
		}
		if kind != "" && u.Kind != kind {
			continue
		}
		if noContact && u.SecurityContactID != 0 {
			continue
		}
		j := a.unitJSON(c.ctx, u, c.v.Units(), pp)
		byID[u.ID] = j
		if tree && u.ParentID != 0 {
			if parent, ok := byID[u.ParentID]; ok {
				parent.Children = append(parent.Children, j)
				continue
			}
		}
		list = append(list, j)
	}
	if list == nil {
		list = []*unitJSON{}
	}
	return c.json(http.StatusOK, map[string]any{"units": list})
}

func (a *API) getUnit(c *call) error {
	u, err := c.unit("unit")
	if err != nil {
		return err
	}
	if err := c.v.ReadUnit(u.ID); err != nil {
		return err
	}
	return c.json(http.StatusOK, a.unitJSON(c.ctx, u, c.v.Units(), a.people()))
}

type unitInput struct {
	Name            *string `json:"name"`
	Kind            string  `json:"kind"`
	Parent          string  `json:"parent"`
	Abbr            string  `json:"abbr"`
	Code            *string `json:"code"`
	Notes           *string `json:"notes"`
	Manager         *string `json:"manager"`
	SecurityContact *string `json:"security_contact"`
}

// unitPerson resolves the manager or security contact named in a unit input:
// a personal mailbox that is active. "" clears it (nil account, no error).
func (a *API) unitPerson(ctx context.Context, field, addr string) (*store.Account, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return nil, nil
	}
	acc, err := a.lookupAccount(ctx, addr)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || isNotFound(err) {
			return nil, refuseField(field, "no_account", fmt.Sprintf("Không có hộp thư %s.", addr), fmt.Sprintf("No mailbox %s.", addr))
		}
		return nil, err
	}
	if acc.Kind != store.KindPersonal || acc.State != store.StateActive {
		return nil, refuseField(field, "not_a_person",
			"Phải là hộp thư cá nhân đang hoạt động (Điều 12: người và hộp thư cụ thể).",
			"Must be an active personal mailbox (Article 12: a person and their mailbox).")
	}
	return acc, nil
}

func isNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// refuseField is a rule refusal (422) about one field.
func refuseField(field, code, vi, en string) *Error {
	e := newError(http.StatusUnprocessableEntity, code, vi, en)
	e.Fields = map[string]FieldError{field: {Code: code, VI: vi, EN: en}}
	return e
}

// createUnit adds a unit (R1.2: units are data; operators create them) with the
// address rules of Điều 5 applied by directory.
func (a *API) createUnit(c *call) error {
	var in unitInput
	if err := c.decode(&in); err != nil {
		return err
	}
	var v invalid
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		v.required("name")
	}
	kind := store.UnitKind(in.Kind)
	switch {
	case in.Kind == "":
		v.required("kind")
	case !kind.Valid():
		v.add("kind", "invalid", "Loại đơn vị không hợp lệ (province_agency, commune, ward, sub_unit, other).",
			"Unknown unit kind (province_agency, commune, ward, sub_unit, other).")
	case kind == store.UnitSubUnit && in.Parent == "":
		v.add("parent", "required", "Đơn vị trực thuộc phải có đơn vị cấp trên.", "A sub-unit needs a parent unit.")
	case kind != store.UnitSubUnit && in.Parent != "":
		v.add("parent", "invalid", "Chỉ đơn vị trực thuộc mới có đơn vị cấp trên.", "Only a sub-unit has a parent.")
	}
	if err := v.err(); err != nil {
		return err
	}
	var manager, contact *store.Account
	var err error
	if in.Manager != nil {
		if manager, err = a.unitPerson(c.ctx, "manager", *in.Manager); err != nil {
			return err
		}
	}
	if in.SecurityContact != nil {
		if contact, err = a.unitPerson(c.ctx, "security_contact", *in.SecurityContact); err != nil {
			return err
		}
	}
	u, err := a.d.Dir.CreateUnit(c.ctx, *in.Name, kind, in.Parent, in.Abbr, c.actor())
	if err != nil {
		// The only look-up CreateUnit makes is the parent's.
		if errors.Is(err, store.ErrNotFound) {
			return atField("parent", err)
		}
		return atField("abbr", err)
	}
	if in.Code != nil || in.Notes != nil || manager != nil || contact != nil {
		if in.Code != nil {
			u.Code = strings.TrimSpace(*in.Code)
		}
		if in.Notes != nil {
			u.Notes = strings.TrimSpace(*in.Notes)
		}
		if manager != nil {
			u.ManagerID = manager.ID
		}
		if contact != nil {
			u.SecurityContactID = contact.ID
		}
		if err := a.d.Store.UpdateUnit(c.ctx, u); err != nil {
			return fmt.Errorf("unit %s: %w", u.LocalPart, err)
		}
		if err := c.audit("unit.update", u.LocalPart, a.unitDetail(c.ctx, u)); err != nil {
			return err
		}
	}
	return c.json(http.StatusCreated, a.unitJSON(c.ctx, u, nil, a.people()))
}

func (a *API) unitDetail(ctx context.Context, u *store.Unit) string {
	pp := a.people()
	return fmt.Sprintf("name=%q code=%q manager=%s security_contact=%s", u.Name, u.Code, pp.address(ctx, u.ManagerID), pp.address(ctx, u.SecurityContactID))
}

// updateUnit changes a unit's name, code, notes, manager or security contact.
// Who may change which field is authz's updateUnit.
func (a *API) updateUnit(c *call) error {
	u, err := c.unit("unit")
	if err != nil {
		return err
	}
	var in unitInput
	if err := c.decode(&in); err != nil {
		return err
	}
	var v invalid
	if in.Kind != "" {
		v.add("kind", "immutable", "Không đổi được loại đơn vị.", "The unit kind cannot be changed.")
	}
	if in.Parent != "" {
		v.add("parent", "immutable", "Không đổi được đơn vị cấp trên (địa chỉ phụ thuộc vào nó).", "The parent cannot be changed (the address depends on it).")
	}
	if in.Abbr != "" {
		v.add("abbr", "immutable", "Không đổi được tên viết tắt (là địa chỉ thư của đơn vị).", "The abbreviation cannot be changed (it is the unit's address).")
	}
	if in.Name != nil && strings.TrimSpace(*in.Name) == "" {
		v.add("name", "required", "Tên đơn vị trống.", "The unit name is empty.")
	}
	if err := v.err(); err != nil {
		return err
	}
	ch := authz.UnitChange{Name: in.Name != nil, Code: in.Code != nil, Notes: in.Notes != nil, Manager: in.Manager != nil,
		SecurityContact: in.SecurityContact != nil}
	// The gate let managers in; whether this manager may change these fields of
	// this unit is decided before anything is looked up on their behalf.
	if err := c.v.UpdateUnit(u.ID, authz.UnitChange{Name: ch.Name, Code: ch.Code, Notes: ch.Notes, Manager: ch.Manager}); err != nil {
		return err
	}
	var manager, contact *store.Account
	if in.Manager != nil {
		if manager, err = a.unitPerson(c.ctx, "manager", *in.Manager); err != nil {
			return err
		}
	}
	if in.SecurityContact != nil {
		if contact, err = a.unitPerson(c.ctx, "security_contact", *in.SecurityContact); err != nil {
			return err
		}
		ch.Contact = contact
	}
	if err := c.v.UpdateUnit(u.ID, ch); err != nil {
		return err
	}
	if in.Name != nil {
		u.Name = strings.Join(strings.Fields(*in.Name), " ")
	}
	if in.Code != nil {
		u.Code = strings.TrimSpace(*in.Code)
	}
	if in.Notes != nil {
		u.Notes = strings.TrimSpace(*in.Notes)
	}
	if in.Manager != nil {
		u.ManagerID = 0
		if manager != nil {
			u.ManagerID = manager.ID
		}
	}
	if in.SecurityContact != nil {
		u.SecurityContactID = 0
		if contact != nil {
			u.SecurityContactID = contact.ID
		}
	}
	if err := a.d.Store.UpdateUnit(c.ctx, u); err != nil {
		return fmt.Errorf("unit %s: %w", u.LocalPart, err)
	}
	if err := c.audit("unit.update", u.LocalPart, a.unitDetail(c.ctx, u)); err != nil {
		return err
	}
	return c.json(http.StatusOK, a.unitJSON(c.ctx, u, c.v.Units(), a.people()))
}

func boolParam(s, name string, v *invalid) bool {
	switch strings.ToLower(s) {
	case "", "0", "false", "no":
		return false
	case "1", "true", "yes":
		return true
	}
	v.add(name, "invalid", "Giá trị phải là true hoặc false.", "Must be true or false.")
	return false
}
