package api

import (
	"context"
	"encoding/json"

	"govmail/internal/store"
	"govmail/internal/workdays"
)

// The JSON shapes of the API. They are written out field by field, never the
// store's structs, so that nothing private (a password hash) leaks by a new
// field in the store, and so that the OpenAPI document can say exactly what
// comes back.

type personRef struct {
	ID          int64  `json:"id"`
	Address     string `json:"address"`
	DisplayName string `json:"display_name"`
}

type unitJSON struct {
	ID              int64       `json:"id"`
	ParentID        *int64      `json:"parent_id"`
	Parent          string      `json:"parent,omitempty"`
	Kind            string      `json:"kind"`
	Name            string      `json:"name"`
	Abbr            string      `json:"abbr"`
	LocalPart       string      `json:"local_part"`
	Address         string      `json:"address"`
	Code            string      `json:"code"`
	Notes           string      `json:"notes"`
	Manager         *personRef  `json:"manager"`
	SecurityContact *personRef  `json:"security_contact"`
	CreatedAt       *string     `json:"created_at"`
	Children        []*unitJSON `json:"children,omitempty"`
}

type absenceJSON struct {
	ID         int64   `json:"id"`
	Reason     string  `json:"reason"`
	Starts     string  `json:"starts"`
	Ends       string  `json:"ends"`
	DeclaredBy string  `json:"declared_by"`
	DeclaredAt *string `json:"declared_at"`
	InForce    bool    `json:"in_force"`
}

type accountJSON struct {
	ID            int64         `json:"id"`
	Address       string        `json:"address"`
	DisplayName   string        `json:"display_name"`
	Kind          string        `json:"kind"`
	UnitID        *int64        `json:"unit_id"`
	Unit          string        `json:"unit,omitempty"`
	State         string        `json:"state"`
	LockReason    string        `json:"lock_reason,omitempty"`
	Role          string        `json:"role"`
	CreatedAt     *string       `json:"created_at"`
	LastLoginAt   *string       `json:"last_login_at"`
	PasswordSetAt *string       `json:"password_set_at"`
	MustChange    bool          `json:"must_change_password"`
	QuotaBytes    int64         `json:"quota_bytes"`
	UsedBytes     int64         `json:"used_bytes"`
	BirthYear     int           `json:"birth_year,omitempty"`
	AddressNote   string        `json:"address_note,omitempty"`
	Absences      []absenceJSON `json:"absences,omitempty"`
}

type eventJSON struct {
	Time   *string `json:"time"`
	Actor  string  `json:"actor"`
	Action string  `json:"action"`
	Detail string  `json:"detail"`
}

type requestJSON struct {
	ID         int64           `json:"id"`
	Kind       string          `json:"kind"`
	UnitID     int64           `json:"unit_id"`
	Unit       string          `json:"unit"`
	DocNumber  string          `json:"doc_number"`
	DocDate    string          `json:"doc_date"`
	ReceivedAt *string         `json:"received_at"`
	Deadline   string          `json:"deadline,omitempty"`
	Overdue    bool            `json:"overdue"`
	State      string          `json:"state"`
	Reason     string          `json:"reason,omitempty"`
	FiledBy    string          `json:"filed_by"`
	HandledBy  string          `json:"handled_by,omitempty"`
	HandledAt  *string         `json:"handled_at"`
	Payload    json.RawMessage `json:"payload"`
	Targets    []string        `json:"targets"`
	Events     []eventJSON     `json:"events,omitempty"`
}

type delegationJSON struct {
	UnitMailbox string  `json:"unit_mailbox"`
	Delegate    string  `json:"delegate"`
	GrantedBy   string  `json:"granted_by"`
	GrantedAt   *string `json:"granted_at"`
}

type logJSON struct {
	ID           int64  `json:"id"`
	Time         string `json:"time"`
	Direction    string `json:"direction"`
	Proto        string `json:"proto"`
	EnvelopeFrom string `json:"envelope_from"`
	HeaderFrom   string `json:"header_from"`
	Recipient    string `json:"recipient"`
	ClientIP     string `json:"client_ip"`
	Size         int64  `json:"size"`
	MessageID    string `json:"message_id"`
	AuthUser     string `json:"auth_user"`
	Status       string `json:"status"`
	Error        string `json:"error"`
}

// people caches account look-ups within one call (a unit list names many).
type people struct {
	a    *API
	byID map[int64]*personRef
}

func (a *API) people() *people { return &people{a: a, byID: map[int64]*personRef{}} }

func (p *people) ref(ctx context.Context, id int64) *personRef {
	if id == 0 {
		return nil
	}
	if r, ok := p.byID[id]; ok {
		return r
	}
	var r *personRef
	if acc, err := p.a.d.Store.AccountByID(ctx, id); err == nil {
		r = &personRef{ID: acc.ID, Address: acc.Address, DisplayName: acc.DisplayName}
	}
	p.byID[id] = r
	return r
}

func (p *people) address(ctx context.Context, id int64) string {
	if r := p.ref(ctx, id); r != nil {
		return r.Address
	}
	return ""
}

func (a *API) unitJSON(ctx context.Context, u *store.Unit, units map[int64]store.Unit, pp *people) *unitJSON {
	out := &unitJSON{ID: u.ID, Kind: string(u.Kind), Name: u.Name, Abbr: u.Abbr, LocalPart: u.LocalPart,
		Address: u.LocalPart + "@" + a.d.Dir.Domain, Code: u.Code, Notes: u.Notes,
		Manager: pp.ref(ctx, u.ManagerID), SecurityContact: pp.ref(ctx, u.SecurityContactID), CreatedAt: a.ts(u.CreatedAt)}
	if u.ParentID != 0 {
		id := u.ParentID
		out.ParentID = &id
		if p, ok := units[u.ParentID]; ok {
			out.Parent = p.LocalPart
		} else if p, err := a.d.Store.UnitByID(ctx, u.ParentID); err == nil {
			out.Parent = p.LocalPart
		}
	}
	return out
}

func (a *API) accountJSON(ctx context.Context, acc *store.Account, units map[int64]store.Unit) accountJSON {
	out := accountJSON{ID: acc.ID, Address: acc.Address, DisplayName: acc.DisplayName, Kind: string(acc.Kind),
		State: string(acc.State), LockReason: acc.LockReason, Role: acc.Role, CreatedAt: a.ts(acc.CreatedAt),
		LastLoginAt: a.ts(acc.LastLoginAt), PasswordSetAt: a.ts(acc.PasswordSetAt), MustChange: acc.MustChange,
		QuotaBytes: acc.QuotaBytes, UsedBytes: acc.UsedBytes, BirthYear: acc.BirthYear, AddressNote: acc.AddressNote}
	if acc.UnitID != 0 {
		id := acc.UnitID
		out.UnitID = &id
		if u, ok := units[acc.UnitID]; ok {
			out.Unit = u.LocalPart
		}
	}
	return out
}

func (a *API) absenceJSON(ab store.Absence) absenceJSON {
	today := a.today()
	in := false
	if s, err := workdays.Parse(ab.Starts); err == nil {
		if e, err := workdays.Parse(ab.Ends); err == nil {
			in = !today.Before(s) && !today.After(e)
		}
	}
	return absenceJSON{ID: ab.ID, Reason: ab.Reason, Starts: ab.Starts, Ends: ab.Ends, DeclaredBy: ab.DeclaredBy,
		DeclaredAt: a.ts(ab.DeclaredAt), InForce: in}
}

func (a *API) requestJSON(ctx context.Context, r *store.Request, units map[int64]store.Unit, pp *people) requestJSON {
	out := requestJSON{ID: r.ID, Kind: r.Kind, UnitID: r.UnitID, DocNumber: r.DocNumber, DocDate: r.DocDate,
		ReceivedAt: a.ts(r.ReceivedAt), Deadline: r.Deadline, State: r.State, Reason: r.Reason, FiledBy: r.FiledBy,
		HandledBy: r.HandledBy, HandledAt: a.ts(r.HandledAt), Targets: []string{}}
	if u, ok := units[r.UnitID]; ok {
		out.Unit = u.LocalPart
	}
	if r.State == store.RequestReceived && r.Deadline != "" {
		if d, err := workdays.Parse(r.Deadline); err == nil {
			// R8.5: flagged once the third working day has passed.
			out.Overdue = a.today().After(d)
		}
	}
	out.Payload = json.RawMessage(r.Payload)
	if !json.Valid(out.Payload) {
		out.Payload = json.RawMessage("null")
	}
	for _, id := range r.Targets {
		if addr := pp.address(ctx, id); addr != "" {
			out.Targets = append(out.Targets, addr)
		}
	}
	return out
}

func (a *API) logJSON(e store.LogEntry) logJSON {
	return logJSON{ID: e.ID, Time: e.Time.Format("2006-01-02T15:04:05.000000Z07:00"), Direction: e.Direction, Proto: e.Proto,
		EnvelopeFrom: e.EnvelopeFrom, HeaderFrom: e.HeaderFrom, Recipient: e.Recipient, ClientIP: e.ClientIP, Size: e.Size,
		MessageID: e.MessageID, AuthUser: e.AuthUser, Status: e.Status, Error: e.Error}
}
