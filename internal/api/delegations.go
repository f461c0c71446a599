package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"govmail/internal/store"
	"govmail/internal/workdays"
)

// listDelegations lists who may use which unit mailbox (R9.1): of one unit
// mailbox (?unit_mailbox=), of one person (?delegate=), or everything the
// caller may see (operators: all; managers: their units' mailboxes; everyone:
// the mailboxes handed to them).
func (a *API) listDelegations(c *call) error {
	q := c.r.URL.Query()
	boxKey, personKey := strings.TrimSpace(q.Get("unit_mailbox")), strings.TrimSpace(q.Get("delegate"))
	var ds []store.Delegation
	switch {
	case boxKey != "":
		box, err := a.lookupAccount(c.ctx, boxKey)
		if err != nil {
			return err
		}
		if err := c.v.ReadDelegations(box); err != nil {
			return err
		}
		if ds, err = a.d.Store.Delegations(c.ctx, box.ID); err != nil {
			return err
		}
		if personKey != "" {
			person, err := a.lookupAccount(c.ctx, personKey)
			if err != nil {
				return err
			}
			ds = slices.DeleteFunc(ds, func(d store.Delegation) bool { return d.DelegateID != person.ID })
		}
	case personKey != "":
		person, err := a.lookupAccount(c.ctx, personKey)
		if err != nil {
			return err
		}
		if err := c.v.ReadDelegationsOf(person); err != nil {
			return err
		}
		if ds, err = a.d.Store.DelegatedTo(c.ctx, person.ID); err != nil {
			return err
		}
	default:
		var err error
		if ds, err = a.d.Store.DelegatedTo(c.ctx, c.p.Account.ID); err != nil {
			return err
		}
		if c.v.Operator() || c.v.Manager() {
			boxes, err := a.d.Store.ListAccounts(c.ctx, store.AccountFilter{})
			if err != nil {
				return err
			}
			for _, b := range boxes {
				if b.Kind != store.KindUnit || c.v.ReadDelegations(&b) != nil {
					continue
				}
				part, err := a.d.Store.Delegations(c.ctx, b.ID)
				if err != nil {
					return err
				}
				for _, d := range part {
					if !slices.Contains(ds, d) {
						ds = append(ds, d)
					}
				}
			}
		}
	}
	pp := a.people()
	out := make([]delegationJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, delegationJSON{UnitMailbox: pp.address(c.ctx, d.UnitAccountID), Delegate: pp.address(c.ctx, d.DelegateID),
			GrantedBy: d.GrantedBy, GrantedAt: a.ts(d.GrantedAt)})
	}
	return c.json(http.StatusOK, map[string]any{"delegations": out})
}

// delegationPair resolves a unit mailbox and a person named in a body; what is
// missing or of the wrong kind is a refusal about that field.
func (a *API) delegationPair(c *call, boxKey, personKey string) (box, person *store.Account, err error) {
	if box, err = a.lookupAccount(c.ctx, boxKey); err != nil {
		if isNotFound(err) {
			return nil, nil, refuseField("unit_mailbox", "no_account", fmt.Sprintf("Không có hộp thư %s.", boxKey), fmt.Sprintf("No mailbox %s.", boxKey))
		}
		return nil, nil, err
	}
	if box.Kind != store.KindUnit {
		return nil, nil, refuseField("unit_mailbox", "not_unit_mailbox", fmt.Sprintf("%s không phải hộp thư đơn vị.", box.Address), fmt.Sprintf("%s is not a unit mailbox.", box.Address))
	}
	if person, err = a.lookupAccount(c.ctx, personKey); err != nil {
		if isNotFound(err) {
			return nil, nil, refuseField("delegate", "no_account", fmt.Sprintf("Không có hộp thư %s.", personKey), fmt.Sprintf("No mailbox %s.", personKey))
		}
		return nil, nil, err
	}
	if person.Kind != store.KindPersonal {
		return nil, nil, refuseField("delegate", "not_personal", fmt.Sprintf("%s không phải hộp thư cá nhân.", person.Address), fmt.Sprintf("%s is not a personal mailbox.", person.Address))
	}
	return box, person, nil
}

// grantDelegation hands a unit mailbox to a person, who uses their own
// credentials (R9.1, Điều 9.2).
func (a *API) grantDelegation(c *call) error {
	var in struct {
		UnitMailbox string `json:"unit_mailbox"`
		Delegate    string `json:"delegate"`
	}
	if err := c.decode(&in); err != nil {
		return err
	}
	var v invalid
	if strings.TrimSpace(in.UnitMailbox) == "" {
		v.required("unit_mailbox")
	}
	if strings.TrimSpace(in.Delegate) == "" {
		v.required("delegate")
	}
	if err := v.err(); err != nil {
		return err
	}
	box, person, err := a.delegationPair(c, in.UnitMailbox, in.Delegate)
	if err != nil {
		return err
	}
	if err := c.v.Delegate(box, person); err != nil {
		return err
	}
	if person.State == store.StateRevoked {
		return refuseField("delegate", "revoked", "Tài khoản đã bị thu hồi.", "The account has been revoked.")
	}
	if err := a.d.Life.GrantDelegate(c.ctx, box.Address, person.Address, c.actor()); err != nil {
		return err
	}
	ds, err := a.d.Store.Delegations(c.ctx, box.ID)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if d.DelegateID == person.ID {
			return c.json(http.StatusCreated, delegationJSON{UnitMailbox: box.Address, Delegate: person.Address, GrantedBy: d.GrantedBy, GrantedAt: a.ts(d.GrantedAt)})
		}
	}
	return fmt.Errorf("delegation %s → %s not found after grant", box.Address, person.Address)
}

// removeDelegation takes the access away at once, live sessions included (R9.1).
func (a *API) removeDelegation(c *call) error {
	box, err := c.account("mailbox")
	if err != nil {
		return err
	}
	person, err := c.account("delegate")
	if err != nil {
		return err
	}
	if err := c.v.Delegate(box, person); err != nil {
		return err
	}
	if err := a.d.Life.RemoveDelegate(c.ctx, box.Address, person.Address, c.actor()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errNotFound("delegation")
		}
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// declareAbsence records a notified reason for not logging in (R8.2): no
// inactivity lock while it is in force.
func (a *API) declareAbsence(c *call) error {
	var in struct {
		Account string `json:"account"`
		Reason  string `json:"reason"`
		Ends    string `json:"ends"`
	}
	if err := c.decode(&in); err != nil {
		return err
	}
	var v invalid
	if strings.TrimSpace(in.Account) == "" {
		v.required("account")
	}
	if strings.TrimSpace(in.Reason) == "" {
		v.add("reason", "required", "Phải nêu lý do vắng mặt (nghỉ phép, đi học, biệt phái …).", "A reason is required (leave, training, secondment …).")
	}
	ends, err := workdays.Parse(in.Ends)
	switch {
	case in.Ends == "":
		v.required("ends")
	case err != nil:
		v.add("ends", "invalid", "Ngày kết thúc không hợp lệ (YYYY-MM-DD).", "The end date is invalid (YYYY-MM-DD).")
	case ends.Before(a.today()):
		v.add("ends", "past", "Ngày kết thúc đã qua.", "The end date is in the past.")
	}
	if err := v.err(); err != nil {
		return err
	}
	acc, err := a.lookupAccount(c.ctx, in.Account)
	if err != nil {
		if isNotFound(err) {
			return refuseField("account", "no_account", fmt.Sprintf("Không có hộp thư %s.", in.Account), fmt.Sprintf("No mailbox %s.", in.Account))
		}
		return err
	}
	if err := c.v.DeclareAbsence(acc); err != nil {
		return err
	}
	if err := a.d.Life.DeclareAbsence(c.ctx, acc.ID, strings.TrimSpace(in.Reason), ends, c.actor()); err != nil {
		return err
	}
	abs, err := a.d.Store.Absences(c.ctx, acc.ID)
	if err != nil {
		return err
	}
	out := struct {
		Account  string        `json:"account"`
		Absences []absenceJSON `json:"absences"`
	}{Account: acc.Address, Absences: []absenceJSON{}}
	for _, ab := range abs {
		out.Absences = append(out.Absences, a.absenceJSON(ab))
	}
	return c.json(http.StatusCreated, out)
}
