package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"govmail/internal/directory"
	"govmail/internal/notify"
	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/workdays"
)

// PersonSpec is one person of a create request.
type PersonSpec struct {
	FullName  string `json:"full_name"`
	BirthYear int    `json:"birth_year,omitempty"`
	UnitLP    string `json:"unit,omitempty"` // a sub-unit of the requesting unit; default the unit itself
}

// ModifySpec is what a modify request changes.
type ModifySpec struct {
	NewUnitLP  string `json:"new_unit,omitempty"` // transfer (R7.1)
	QuotaBytes int64  `json:"quota_bytes,omitempty"`
	NewName    string `json:"new_name,omitempty"`
}

// RequestInput is a request as a unit files it (R7.1, R7.7).
type RequestInput struct {
	Kind      string       `json:"kind"`
	UnitLP    string       `json:"unit"`
	DocNumber string       `json:"doc_number"` // số và ký hiệu, e.g. "125/SKHCN-VP"
	DocDate   string       `json:"doc_date"`   // YYYY-MM-DD
	People    []PersonSpec `json:"people,omitempty"`
	Addresses []string     `json:"addresses,omitempty"`
	Modify    *ModifySpec  `json:"modify,omitempty"`
	FiledBy   string       `json:"-"`
}

func refuse(vi, en string) error { return &Error{VI: vi, EN: en} }

// FileRequest registers a request on receipt (R7.1): it checks the document
// reference and the targets, and for a restore sets the deadline of 3 working
// days (R8.5, C3).
func (s *Service) FileRequest(ctx context.Context, in RequestInput) (*store.Request, error) {
	switch in.Kind {
	case store.RequestCreate, store.RequestModify, store.RequestRevoke, store.RequestRestore:
	default:
		return nil, refuse(fmt.Sprintf("Loại đề nghị %q không hợp lệ (create, modify, revoke, restore)", in.Kind), fmt.Sprintf("unknown request kind %q", in.Kind))
	}
	in.DocNumber = strings.TrimSpace(in.DocNumber)
	if in.DocNumber == "" {
		return nil, refuse("Thiếu số, ký hiệu văn bản đề nghị (Điều 7.1c)", "the document number is missing (Art. 7.1c)")
	}
	docDate, err := workdays.Parse(in.DocDate)
	if err != nil {
		return nil, refuse("Ngày văn bản không hợp lệ (định dạng YYYY-MM-DD)", "the document date is invalid (YYYY-MM-DD)")
	}
	today := s.today()
	if docDate.After(today) {
		return nil, refuse("Ngày văn bản ở tương lai", "the document date is in the future")
	}
	unit, err := s.Store.UnitByLocalPart(ctx, in.UnitLP)
	if err != nil {
		return nil, refuse(fmt.Sprintf("Không có đơn vị %q", in.UnitLP), fmt.Sprintf("no unit %q", in.UnitLP))
	}
	var targets []int64
	switch in.Kind {
	case store.RequestCreate:
		if len(in.People) == 0 {
			return nil, refuse("Đề nghị cấp mới phải có danh sách cán bộ", "a create request needs a list of people")
		}
		for i, p := range in.People {
			if strings.TrimSpace(p.FullName) == "" {
				return nil, refuse(fmt.Sprintf("Dòng %d: thiếu họ tên", i+1), fmt.Sprintf("row %d: the name is missing", i+1))
			}
			// Điều 16: a unit asks only for its own staff, in itself or its sub-units.
			if p.UnitLP != "" && p.UnitLP != in.UnitLP {
				sub, err := s.Store.UnitByLocalPart(ctx, p.UnitLP)
				if err != nil || !s.within(ctx, sub.ID, unit.ID) {
					return nil, refuse(fmt.Sprintf("Dòng %d: đơn vị %q không thuộc %s (Điều 16)", i+1, p.UnitLP, unit.Name),
						fmt.Sprintf("row %d: unit %q is not part of %s (Art. 16)", i+1, p.UnitLP, unit.Name))
				}
			}
		}
	default:
		if len(in.Addresses) == 0 {
			return nil, refuse("Đề nghị phải nêu các hộp thư liên quan", "the request must name the mailboxes concerned")
		}
		for _, addr := range in.Addresses {
			a, err := s.Store.AccountByAddress(ctx, addr)
			if err != nil {
				return nil, refuse(fmt.Sprintf("Không có hộp thư %s", addr), fmt.Sprintf("no mailbox %s", addr))
			}
			if !s.within(ctx, a.UnitID, unit.ID) {
				return nil, refuse(fmt.Sprintf("Hộp thư %s không thuộc đơn vị %s (Điều 16)", addr, unit.Name), fmt.Sprintf("%s does not belong to %s (Art. 16)", addr, unit.Name))
			}
			if in.Kind == store.RequestRestore && a.State != store.StateLocked {
				return nil, refuse(fmt.Sprintf("Hộp thư %s không bị khóa", addr), fmt.Sprintf("%s is not locked", addr))
			}
			targets = append(targets, a.ID)
		}
		if in.Kind == store.RequestModify && in.Modify == nil {
			return nil, refuse("Đề nghị điều chỉnh phải nêu nội dung điều chỉnh", "a modify request must say what changes")
		}
	}
	payload, _ := json.Marshal(in)
	r := &store.Request{Kind: in.Kind, UnitID: unit.ID, DocNumber: in.DocNumber, DocDate: docDate.String(), ReceivedAt: s.Clock.Now(),
		State: store.RequestReceived, FiledBy: in.FiledBy, Payload: string(payload), Targets: targets}
	if in.Kind == store.RequestRestore {
		r.Deadline = s.Calendar.AddWorkingDays(today, s.Policy.RestoreWorkingDays).String()
	}
	if err := s.Store.CreateRequest(ctx, r, store.RequestEvent{Time: r.ReceivedAt, Actor: in.FiledBy, Action: "received", Detail: in.DocNumber}); err != nil {
		return nil, err
	}
	s.audit(ctx, in.FiledBy, "request.file", unit.LocalPart, fmt.Sprintf("#%d %s %s", r.ID, r.Kind, r.DocNumber))
	return r, nil
}

// within tells whether the unit id is top or one of its sub-units (Điều 16: a
// unit asks only for its own staff).
func (s *Service) within(ctx context.Context, id, top int64) bool {
	for i := 0; id != 0 && i < 16; i++ {
		if id == top {
			return true
		}
		u, err := s.Store.UnitByID(ctx, id)
		if err != nil {
			return false
		}
		id = u.ParentID
	}
	return false
}

// Outcome is the result of handling a request.
type Outcome struct {
	Request *store.Request
	// Passwords are the one-time passwords of created or restored accounts,
	// for the requesting unit to hand over (they must be changed, R6.1).
	Passwords map[string]string
	Lines     []string // what was done, one line per target
}

// Reject closes a request without acting; a reason is required (R7.1, 7.3).
func (s *Service) Reject(ctx context.Context, id int64, reason, operator string) (*Outcome, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, refuse("Từ chối phải nêu lý do (Điều 7.3)", "a rejection needs a reason (Art. 7.3)")
	}
	r, err := s.pending(ctx, id)
	if err != nil {
		return nil, err
	}
	r.State, r.Reason, r.HandledBy, r.HandledAt = store.RequestRejected, reason, operator, s.Clock.Now()
	if err := s.Store.UpdateRequest(ctx, r, store.RequestEvent{Time: r.HandledAt, Actor: operator, Action: "rejected", Detail: reason}); err != nil {
		return nil, err
	}
	out := &Outcome{Request: r}
	s.audit(ctx, operator, "request.reject", fmt.Sprintf("#%d", r.ID), reason)
	s.mailResult(ctx, out)
	return out, nil
}

func (s *Service) pending(ctx context.Context, id int64) (*store.Request, error) {
	r, err := s.Store.RequestByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.State != store.RequestReceived {
		return nil, &Error{VI: fmt.Sprintf("Đề nghị #%d đã được xử lý", id), EN: fmt.Sprintf("request #%d was already handled", id), Err: ErrState}
	}
	return r, nil
}

// Carry carries out a request (only operators do, R7.5) and mails the result to
// the requesting unit (R7.2).
func (s *Service) Carry(ctx context.Context, id int64, operator string) (*Outcome, error) {
	r, err := s.pending(ctx, id)
	if err != nil {
		return nil, err
	}
	var in RequestInput
	if err := json.Unmarshal([]byte(r.Payload), &in); err != nil {
		return nil, fmt.Errorf("request #%d payload: %w", id, err)
	}
	out := &Outcome{Request: r, Passwords: map[string]string{}}
	var errs []string
	switch r.Kind {
	case store.RequestCreate:
		for _, p := range in.People {
			unitLP := p.UnitLP
			if unitLP == "" {
				unitLP = in.UnitLP
			}
			pw := s.Passwords.Generate(password.CheckContext{FullName: p.FullName})
			hash, err := password.Hash(pw)
			if err != nil {
				return nil, err
			}
			a, err := s.Directory.CreatePerson(ctx, directory.NewPerson{UnitLP: unitLP, FullName: p.FullName, BirthYear: p.BirthYear,
				PasswordHash: hash, MustChange: true, QuotaBytes: s.Policy.QuotaBytes}, operator)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", p.FullName, err))
				continue
			}
			r.Targets = append(r.Targets, a.ID)
			out.Passwords[a.Address] = pw
			out.Lines = append(out.Lines, fmt.Sprintf("%s → %s", p.FullName, a.Address))
		}
	default:
		for _, id := range r.Targets {
			a, err := s.Store.AccountByID(ctx, id)
			if err != nil {
				errs = append(errs, fmt.Sprintf("#%d: %v", id, err))
				continue
			}
			line, pw, err := s.carryOne(ctx, r.Kind, a, in.Modify, operator, r.DocNumber)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", a.Address, err))
				continue
			}
			if pw != "" {
				out.Passwords[a.Address] = pw
			}
			out.Lines = append(out.Lines, line)
		}
	}
	if len(out.Lines) == 0 && len(errs) > 0 {
		return nil, &Error{VI: "Không thực hiện được: " + strings.Join(errs, "; "), EN: "nothing could be done: " + strings.Join(errs, "; ")}
	}
	r.State, r.HandledBy, r.HandledAt = store.RequestDone, operator, s.Clock.Now()
	if len(errs) > 0 {
		r.Reason = "một phần / partly: " + strings.Join(errs, "; ")
	}
	if err := s.Store.UpdateRequest(ctx, r, store.RequestEvent{Time: r.HandledAt, Actor: operator, Action: "done", Detail: strings.Join(out.Lines, "; ")}); err != nil {
		return nil, err
	}
	s.audit(ctx, operator, "request.done", fmt.Sprintf("#%d", r.ID), strings.Join(out.Lines, "; "))
	s.mailResult(ctx, out)
	return out, nil
}

func (s *Service) carryOne(ctx context.Context, kind string, a *store.Account, m *ModifySpec, operator, ref string) (line, pw string, err error) {
	switch kind {
	case store.RequestRevoke:
		return a.Address + ": đã thu hồi / revoked", "", s.Revoke(ctx, a.ID, operator, ref)
	case store.RequestRestore:
		pw, err := s.Restore(ctx, a.ID, operator, ref)
		return a.Address + ": đã khôi phục, phải đổi mật khẩu khi đăng nhập / restored, password change required", pw, err
	case store.RequestModify:
		var done []string
		if m.QuotaBytes > 0 {
			if err := s.Store.SetQuota(ctx, a.ID, m.QuotaBytes); err != nil {
				return "", "", err
			}
			done = append(done, fmt.Sprintf("dung lượng / quota %d MB", m.QuotaBytes>>20))
		}
		if m.NewName != "" {
			if err := s.Store.SetDisplayName(ctx, a.ID, m.NewName); err != nil {
				return "", "", err
			}
			done = append(done, "tên / name: "+m.NewName)
		}
		if m.NewUnitLP != "" {
			addr, err := s.transfer(ctx, a, m.NewUnitLP, m.NewName)
			if err != nil {
				return "", "", err
			}
			done = append(done, "chuyển đơn vị, địa chỉ mới / transferred, new address: "+addr)
		}
		s.audit(ctx, operator, "account.modify", a.Address, strings.Join(done, "; "))
		return a.Address + ": " + strings.Join(done, "; "), "", nil
	}
	return "", "", fmt.Errorf("unknown kind %q", kind)
}

// transfer gives a moved person the address the rule gives in the new unit; the
// old one stays an alias for the quarantine period (R7.1, R7.6).
func (s *Service) transfer(ctx context.Context, a *store.Account, newUnitLP, newName string) (string, error) {
	name := a.DisplayName
	if newName != "" {
		name = newName
	}
	sug, err := s.Directory.SuggestPersonal(ctx, newUnitLP, name, a.BirthYear)
	if err != nil {
		return "", err
	}
	u, err := s.Store.UnitByLocalPart(ctx, newUnitLP)
	if err != nil {
		return "", err
	}
	until := workdays.MonthConsequenceFrom(s.today(), s.Policy.QuarantineMonths).In(s.loc())
	if err := s.Store.MoveAccount(ctx, a.ID, sug.Address, u.ID, until); err != nil {
		return "", err
	}
	return sug.Address, nil
}

var kindVI = map[string]string{store.RequestCreate: "cấp mới", store.RequestModify: "điều chỉnh", store.RequestRevoke: "thu hồi", store.RequestRestore: "khôi phục"}

// mailResult tells the requesting unit the result or the reason (R7.2, Điều 7.3):
// to the unit's own mailbox, or its manager when it has none.
func (s *Service) mailResult(ctx context.Context, out *Outcome) {
	r := out.Request
	u, err := s.Store.UnitByID(ctx, r.UnitID)
	if err != nil {
		s.Logger.Error("request result", "request", r.ID, "err", err)
		return
	}
	var to []*store.Account
	if box, err := s.Store.AccountByAddress(ctx, u.LocalPart+"@"+s.Directory.Domain); err == nil {
		to = append(to, box)
	}
	if u.ManagerID != 0 {
		if m, err := s.Store.AccountByID(ctx, u.ManagerID); err == nil {
			to = append(to, m)
		}
	}
	if len(to) == 0 {
		s.Logger.Warn("request result: the unit has no mailbox and no manager", "unit", u.LocalPart, "request", r.ID)
		return
	}
	var vi, en strings.Builder
	if r.State == store.RequestRejected {
		fmt.Fprintf(&vi, "Đề nghị %s tài khoản theo văn bản số %s ngày %s của %s không được thực hiện.\nLý do: %s\n", kindVI[r.Kind], r.DocNumber, r.DocDate, u.Name, r.Reason)
		fmt.Fprintf(&en, "The %s request of document %s dated %s from %s was not carried out.\nReason: %s\n", r.Kind, r.DocNumber, r.DocDate, u.Name, r.Reason)
	} else {
		fmt.Fprintf(&vi, "Sở Khoa học và Công nghệ đã thực hiện đề nghị %s tài khoản theo văn bản số %s ngày %s của %s:\n", kindVI[r.Kind], r.DocNumber, r.DocDate, u.Name)
		fmt.Fprintf(&en, "The Department of Science and Technology carried out the %s request of document %s dated %s from %s:\n", r.Kind, r.DocNumber, r.DocDate, u.Name)
		for _, l := range out.Lines {
			fmt.Fprintf(&vi, "- %s\n", l)
			fmt.Fprintf(&en, "- %s\n", l)
		}
		if len(out.Passwords) > 0 {
			vi.WriteString("\nMật khẩu dùng một lần (người dùng phải đổi ngay khi đăng nhập lần đầu, Điều 6.1):\n")
			en.WriteString("\nOne-time passwords (to be changed at first login, Art. 6.1):\n")
			for addr, pw := range out.Passwords {
				fmt.Fprintf(&vi, "- %s: %s\n", addr, pw)
				fmt.Fprintf(&en, "- %s: %s\n", addr, pw)
			}
		}
		if r.Reason != "" {
			fmt.Fprintf(&vi, "\nGhi chú: %s\n", r.Reason)
			fmt.Fprintf(&en, "\nNote: %s\n", r.Reason)
		}
	}
	msg := notify.Message{Kind: "request-result",
		SubjectVI: fmt.Sprintf("Kết quả xử lý đề nghị #%d (%s)", r.ID, r.DocNumber),
		SubjectEN: fmt.Sprintf("Result of request #%d (%s)", r.ID, r.DocNumber),
		BodyVI:    vi.String(), BodyEN: en.String()}
	if err := s.Notify.Send(ctx, msg, to...); err != nil {
		s.Logger.Error("request result", "request", r.ID, "err", err)
	}
}

// GrantDelegate lets a person use a unit mailbox with their own credentials (R9.1).
func (s *Service) GrantDelegate(ctx context.Context, unitAddr, personAddr, actor string) error {
	box, person, err := s.delegationPair(ctx, unitAddr, personAddr)
	if err != nil {
		return err
	}
	if err := s.Store.GrantDelegation(ctx, store.Delegation{UnitAccountID: box.ID, DelegateID: person.ID, GrantedBy: actor, GrantedAt: s.Clock.Now()}); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil
		}
		return err
	}
	s.audit(ctx, actor, "delegation.grant", box.Address, person.Address)
	return nil
}

// RemoveDelegate takes the access away at once, live sessions included (R9.1).
func (s *Service) RemoveDelegate(ctx context.Context, unitAddr, personAddr, actor string) error {
	box, person, err := s.delegationPair(ctx, unitAddr, personAddr)
	if err != nil {
		return err
	}
	if err := s.Store.RevokeDelegation(ctx, box.ID, person.ID); err != nil {
		return err
	}
	s.audit(ctx, actor, "delegation.remove", box.Address, person.Address)
	return nil
}

func (s *Service) delegationPair(ctx context.Context, unitAddr, personAddr string) (*store.Account, *store.Account, error) {
	box, err := s.Store.AccountByAddress(ctx, unitAddr)
	if err != nil || box.Kind != store.KindUnit {
		return nil, nil, refuse(fmt.Sprintf("%s không phải hộp thư đơn vị", unitAddr), fmt.Sprintf("%s is not a unit mailbox", unitAddr))
	}
	person, err := s.Store.AccountByAddress(ctx, personAddr)
	if err != nil || person.Kind != store.KindPersonal {
		return nil, nil, refuse(fmt.Sprintf("%s không phải hộp thư cá nhân", personAddr), fmt.Sprintf("%s is not a personal mailbox", personAddr))
	}
	return box, person, nil
}
