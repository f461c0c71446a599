package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"govmail/internal/lifecycle"
	"govmail/internal/store"
	"govmail/internal/workdays"
)

// maxPeople bounds one request's list of people, as for an uploaded list.
const maxPeople = lifecycle.MaxStaffList

func requestKinds() []string {
	return []string{store.RequestCreate, store.RequestModify, store.RequestRevoke, store.RequestRestore}
}

type requestInput struct {
	Kind      string                 `json:"kind"`
	Unit      string                 `json:"unit"`
	DocNumber string                 `json:"doc_number"`
	DocDate   string                 `json:"doc_date"`
	People    []lifecycle.PersonSpec `json:"people"`
	Addresses []string               `json:"addresses"`
	Modify    *lifecycle.ModifySpec  `json:"modify"`
}

// validate checks the request field by field (400); the rules of Điều 7 are
// lifecycle's to apply afterwards (422).
func (in *requestInput) validate(v *invalid, today workdays.Date) {
	switch {
	case in.Kind == "":
		v.required("kind")
	case !slices.Contains(requestKinds(), in.Kind):
		v.add("kind", "invalid", "Loại đề nghị phải là create, modify, revoke hoặc restore.", "Kind must be create, modify, revoke or restore.")
	}
	if strings.TrimSpace(in.Unit) == "" {
		v.required("unit")
	}
	if strings.TrimSpace(in.DocNumber) == "" {
		v.add("doc_number", "required", "Thiếu số, ký hiệu văn bản đề nghị (Điều 7.1c).", "The document number is missing (Art. 7.1c).")
	} else if len(in.DocNumber) > 100 {
		v.add("doc_number", "too_long", "Số, ký hiệu văn bản quá dài.", "The document number is too long.")
	}
	if in.DocDate == "" {
		v.required("doc_date")
	} else if d, err := workdays.Parse(in.DocDate); err != nil {
		v.add("doc_date", "invalid", "Ngày văn bản không hợp lệ (định dạng YYYY-MM-DD).", "The document date is invalid (YYYY-MM-DD).")
	} else if d.After(today) {
		v.add("doc_date", "future", "Ngày văn bản ở tương lai.", "The document date is in the future.")
	}
	if in.Kind == store.RequestCreate {
		if len(in.People) == 0 {
			v.add("people", "required", "Đề nghị cấp mới phải có danh sách cán bộ.", "A create request needs a list of people.")
		}
		if len(in.Addresses) > 0 {
			v.add("addresses", "invalid", "Đề nghị cấp mới không nêu hộp thư có sẵn.", "A create request names no existing mailboxes.")
		}
	} else if in.Kind != "" {
		if len(in.Addresses) == 0 {
			v.add("addresses", "required", "Đề nghị phải nêu các hộp thư liên quan.", "The request must name the mailboxes concerned.")
		}
		if len(in.People) > 0 {
			v.add("people", "invalid", "Chỉ đề nghị cấp mới mới có danh sách cán bộ.", "Only a create request has a list of people.")
		}
	}
	if len(in.People) > maxPeople {
		v.add("people", "too_many", fmt.Sprintf("Tối đa %d người một đề nghị.", maxPeople), fmt.Sprintf("At most %d people per request.", maxPeople))
	}
	for i, p := range in.People {
		if strings.TrimSpace(p.FullName) == "" {
			v.add(fmt.Sprintf("people[%d].full_name", i), "required", "Thiếu họ tên.", "The name is missing.")
		}
		if p.BirthYear != 0 && (p.BirthYear < 1900 || p.BirthYear > today.Year()) {
			v.add(fmt.Sprintf("people[%d].birth_year", i), "range", "Năm sinh không hợp lệ.", "The birth year is out of range.")
		}
	}
	for i, addr := range in.Addresses {
		if !strings.Contains(addr, "@") {
			v.add(fmt.Sprintf("addresses[%d]", i), "invalid", "Địa chỉ thư không hợp lệ.", "Not an e-mail address.")
		}
	}
	if in.Kind == store.RequestModify {
		switch {
		case in.Modify == nil:
			v.add("modify", "required", "Đề nghị điều chỉnh phải nêu nội dung điều chỉnh.", "A modify request must say what changes.")
		case in.Modify.NewUnitLP == "" && in.Modify.QuotaBytes == 0 && strings.TrimSpace(in.Modify.NewName) == "":
			v.add("modify", "empty", "Đề nghị điều chỉnh không thay đổi gì.", "The modify request changes nothing.")
		case in.Modify.QuotaBytes < 0 || in.Modify.QuotaBytes > maxQuota:
			v.add("modify.quota_bytes", "range", "Dung lượng không hợp lệ.", "The quota is out of range.")
		}
	} else if in.Modify != nil && in.Kind != "" {
		v.add("modify", "invalid", "Chỉ đề nghị điều chỉnh mới có nội dung điều chỉnh.", "Only a modify request has changes.")
	}
}

func (a *API) fileRequest(c *call) error {
	var in requestInput
	if err := c.decode(&in); err != nil {
		return err
	}
	return a.file(c, in)
}

// file registers a request (R7.1, R7.7) for the JSON and the CSV routes alike.
func (a *API) file(c *call, in requestInput) error {
	var v invalid
	in.validate(&v, a.today())
	if err := v.err(); err != nil {
		return err
	}
	unit, err := a.lookupUnit(c.ctx, in.Unit)
	if err != nil {
		if isNotFound(err) {
			return refuseField("unit", "no_unit", fmt.Sprintf("Không có đơn vị %q.", in.Unit), fmt.Sprintf("No unit %q.", in.Unit))
		}
		return err
	}
	in.Unit = unit.LocalPart
	// Every person goes to the requesting unit or one of its sub-units: a unit
	// asks for its own staff (Điều 16), never for another unit's.
	within := c.v.Subtree(unit.ID)
	var peopleUnits []int64
	for i, p := range in.People {
		if p.UnitLP == "" {
			continue
		}
		pu, err := a.lookupUnit(c.ctx, p.UnitLP)
		if err != nil || !slices.Contains(within, pu.ID) {
			return refuseField(fmt.Sprintf("people[%d].unit", i), "outside_unit",
				fmt.Sprintf("Đơn vị %q không thuộc %s.", p.UnitLP, unit.Name), fmt.Sprintf("Unit %q is not part of %s.", p.UnitLP, unit.Name))
		}
		in.People[i].UnitLP = pu.LocalPart
		peopleUnits = append(peopleUnits, pu.ID)
	}
	if err := c.v.FileRequest(unit.ID, peopleUnits); err != nil {
		return err
	}
	r, err := a.d.Life.FileRequest(c.ctx, lifecycle.RequestInput{Kind: in.Kind, UnitLP: in.Unit, DocNumber: in.DocNumber,
		DocDate: in.DocDate, People: in.People, Addresses: in.Addresses, Modify: in.Modify, FiledBy: c.actor()})
	if err != nil {
		return err
	}
	return a.sendRequest(c, r.ID, http.StatusCreated, nil)
}

// uploadRequest files a create request from a staff list (R16.2): CSV as the
// body (text/csv, the request's fields as query parameters) or as the "file"
// part of a form (fields as form values).
func (a *API) uploadRequest(c *call) error {
	mt, _, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil {
		mt = ""
	}
	c.r.Body = http.MaxBytesReader(c.w, c.r.Body, maxCSVBody)
	field := c.r.URL.Query().Get
	var body io.Reader
	switch mt {
	case "text/csv", "text/plain":
		body = c.r.Body
	case "multipart/form-data":
		if err := c.r.ParseMultipartForm(maxCSVBody); err != nil {
			return newError(http.StatusBadRequest, "bad_form", "Biểu mẫu tải lên không hợp lệ.", "The upload form is invalid.")
		}
		f, _, err := c.r.FormFile("file")
		if err != nil {
			var v invalid
			v.add("file", "required", "Thiếu tệp danh sách (trường file).", "The list file (field file) is missing.")
			return v.err()
		}
		defer f.Close()
		body = f
		field = func(k string) string {
			if s := c.r.FormValue(k); s != "" {
				return s
			}
			return c.r.URL.Query().Get(k)
		}
	default:
		return newError(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"Gửi tệp CSV (Content-Type: text/csv) hoặc biểu mẫu multipart/form-data.",
			"Send a CSV file (Content-Type: text/csv) or a multipart/form-data form.")
	}
	people, err := readStaffList(body)
	if err != nil {
		return err
	}
	if kind := field("kind"); kind != "" && kind != store.RequestCreate {
		var v invalid
		v.add("kind", "invalid", "Danh sách cán bộ chỉ dùng cho đề nghị cấp mới.", "A staff list is for a create request only.")
		return v.err()
	}
	return a.file(c, requestInput{Kind: store.RequestCreate, Unit: field("unit"), DocNumber: field("doc_number"),
		DocDate: field("doc_date"), People: people})
}

// readStaffList reads an uploaded list with lifecycle's reader (the one the
// portal's upload uses too); what is wrong with the file is a 400 about the
// field "file", line by line in its text.
func readStaffList(r io.Reader) ([]lifecycle.PersonSpec, error) {
	people, err := lifecycle.ReadStaffList(r)
	if err == nil {
		return people, nil
	}
	var mbe *http.MaxBytesError
	var le *lifecycle.Error
	switch {
	case errors.As(err, &mbe):
		return nil, newError(http.StatusRequestEntityTooLarge, "too_large", "Tệp quá lớn.", "The file is too large.")
	case errors.As(err, &le):
		var v invalid
		v.add("file", "invalid", le.VI, le.EN)
		return nil, v.err()
	}
	return nil, err
}

// listRequests lists requests (?unit= with sub-units, ?state=, ?kind=), oldest
// first, each flagged when overdue (R8.5).
func (a *API) listRequests(c *call) error {
	q := c.r.URL.Query()
	var v invalid
	f := store.RequestFilter{State: q.Get("state"), Kind: q.Get("kind")}
	if f.State != "" && !slices.Contains([]string{store.RequestReceived, store.RequestDone, store.RequestRejected}, f.State) {
		v.add("state", "invalid", "Trạng thái phải là received, done hoặc rejected.", "State must be received, done or rejected.")
	}
	if f.Kind != "" && !slices.Contains(requestKinds(), f.Kind) {
		v.add("kind", "invalid", "Loại đề nghị phải là create, modify, revoke hoặc restore.", "Kind must be create, modify, revoke or restore.")
	}
	f.Since, f.Until = a.timeRange(q.Get("since"), q.Get("until"), &v)
	if err := v.err(); err != nil {
		return err
	}
	var units []int64 // nil: every unit
	if key := q.Get("unit"); key != "" {
		u, err := a.lookupUnit(c.ctx, key)
		if err != nil {
			return err
		}
		if err := c.v.ManageUnit(u.ID); err != nil {
			return err
		}
		units = c.v.Subtree(u.ID)
	} else {
		units = c.v.ManagedUnits()
	}
	var reqs []store.Request
	if units == nil {
		var err error
		if reqs, err = a.d.Store.ListRequests(c.ctx, f); err != nil {
			return err
		}
	} else {
		for _, id := range units {
			f.UnitID = id
			part, err := a.d.Store.ListRequests(c.ctx, f)
			if err != nil {
				return err
			}
			reqs = append(reqs, part...)
		}
		slices.SortFunc(reqs, func(x, y store.Request) int {
			if c := x.ReceivedAt.Compare(y.ReceivedAt); c != 0 {
				return c
			}
			return int(x.ID - y.ID)
		})
	}
	pp := a.people()
	out := make([]requestJSON, 0, len(reqs))
	for i := range reqs {
		out = append(out, a.requestJSON(c.ctx, &reqs[i], c.v.Units(), pp))
	}
	return c.json(http.StatusOK, map[string]any{"requests": out})
}

// request finds the request of the path and checks the caller may follow it.
func (c *call) request() (*store.Request, error) {
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, errNotFound("request")
	}
	r, err := c.a.d.Store.RequestByID(c.ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound("request")
	}
	if err != nil {
		return nil, err
	}
	if err := c.v.ReadRequest(r); err != nil {
		return nil, err
	}
	return r, nil
}

func (a *API) getRequest(c *call) error {
	r, err := c.request()
	if err != nil {
		return err
	}
	return a.sendRequest(c, r.ID, http.StatusOK, nil)
}

// outcomeJSON is what carrying out a request did, with the one-time passwords
// of created or restored accounts (also mailed to the unit, R7.2).
type outcomeJSON struct {
	Request   requestJSON       `json:"request"`
	Lines     []string          `json:"lines"`
	Passwords map[string]string `json:"passwords,omitempty"`
}

// sendRequest answers with a request and its audit trail (R7.1), with what
// carrying it out did when out is set.
func (a *API) sendRequest(c *call, id int64, status int, out *lifecycle.Outcome) error {
	r, err := a.d.Store.RequestByID(c.ctx, id)
	if err != nil {
		return err
	}
	units := c.v.Units()
	if _, ok := units[r.UnitID]; !ok {
		// A unit created during this call is not in the view yet.
		if u, err := a.d.Store.UnitByID(c.ctx, r.UnitID); err == nil {
			units = map[int64]store.Unit{u.ID: *u}
		}
	}
	j := a.requestJSON(c.ctx, r, units, a.people())
	evs, err := a.d.Store.RequestEvents(c.ctx, r.ID)
	if err != nil {
		return err
	}
	for _, e := range evs {
		j.Events = append(j.Events, eventJSON{Time: a.ts(e.Time), Actor: e.Actor, Action: e.Action, Detail: e.Detail})
	}
	if out == nil {
		return c.json(status, j)
	}
	o := outcomeJSON{Request: j, Lines: out.Lines, Passwords: out.Passwords}
	if o.Lines == nil {
		o.Lines = []string{}
	}
	return c.json(status, o)
}

// carryRequest carries out a request (R7.5: operators only, by the route's
// gate) and mails the result to the unit (R7.2, in lifecycle).
func (a *API) carryRequest(c *call) error {
	r, err := c.request()
	if err != nil {
		return err
	}
	out, err := a.d.Life.Carry(c.ctx, r.ID, c.actor())
	if err != nil {
		return err
	}
	return a.sendRequest(c, r.ID, http.StatusOK, out)
}

// rejectRequest closes a request with the reason mailed to the unit (R7.1, 7.3).
func (a *API) rejectRequest(c *call) error {
	r, err := c.request()
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := c.decode(&in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Reason) == "" {
		var v invalid
		v.add("reason", "required", "Từ chối phải nêu lý do (Điều 7.3).", "A rejection needs a reason (Art. 7.3).")
		return v.err()
	}
	out, err := a.d.Life.Reject(c.ctx, r.ID, strings.TrimSpace(in.Reason), c.actor())
	if err != nil {
		return err
	}
	return a.sendRequest(c, r.ID, http.StatusOK, out)
}
