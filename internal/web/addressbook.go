package web

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"govmail/internal/mailparse"
	"govmail/internal/store"
	"govmail/internal/textfold"
)

// The provincial directory as compose's address book (issue 8 part 4): one
// endpoint that the small script static/addressbook.js asks as the user types
// in To, Cc or Bcc. It answers active personal and unit mailboxes whose folded
// name or address contains the folded query, and groups — all communes' and
// wards' mailboxes, all provincial agencies' mailboxes, one unit's staff —
// whose members the script puts in the field when the group is chosen, so the
// user sees (and can trim) every address before sending.
//
// Personal contacts (contacts.go) come first.

// maxSuggestions bounds one answer: enough to pick from, small enough to read.
const maxSuggestions = 20

// maxGroupSuggestions bounds the unit groups in an answer: each costs a
// directory query for its members.
const maxGroupSuggestions = 5

// suggestion is one entry of the answer. A group has no Address and lists its
// Members instead.
type suggestion struct {
	Name    string   `json:"name"`
	Address string   `json:"address,omitempty"`
	Unit    string   `json:"unit,omitempty"`
	Members []string `json:"members,omitempty"`
}

func (s *Server) addressBookRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /addressbook/suggest", s.authed(s.handleSuggest))
}

func (s *Server) handleSuggest(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if utf8.RuneCountInString(q) > 100 {
		q = string([]rune(q)[:100])
	}
	out := []suggestion{}
	// Folded once; a query without words (only marks or punctuation) asks
	// nothing, since Query.Match would match everything.
	if words := mailparse.NewQuery(q); len(words) > 0 {
		var err error
		out, err = s.suggest(r.Context(), rc, q, words)
		out = append(s.contactSuggestions(r.Context(), rc, words), out...)
		if len(out) > maxSuggestions {
			out = out[:maxSuggestions]
		}
		if err != nil {
			s.log.Error("address book", "err", err)
			http.Error(w, "error", http.StatusInternalServerError)
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store") // the directory changes; answers are per user
	_ = json.NewEncoder(w).Encode(out)
}

// suggest answers the directory's part; words is q folded, never empty. Every
// word must occur in the folded text, so "tat ca xa" finds "Tất cả UBND xã,
// phường".
func (s *Server) suggest(ctx context.Context, rc *reqCtx, q string, words mailparse.Query) ([]suggestion, error) {
	lq := strings.ToLower(q)
	units, err := s.d.Store.ListUnits(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*store.Unit, len(units))
	for i := range units {
		byID[units[i].ID] = &units[i]
	}
	var out []suggestion
	var unitBoxes map[int64]string // read once, only when a province-wide group matches
	// The province-wide groups: the mailboxes of every commune and ward, and of
	// every provincial agency (top-level units only: their sub-units' mail goes
	// through them).
	for _, g := range []struct {
		key   string
		kinds []store.UnitKind
	}{
		{"addressbook.all_communes", []store.UnitKind{store.UnitCommune, store.UnitWard}},
		{"addressbook.all_agencies", []store.UnitKind{store.UnitProvinceAgency}},
	} {
		vi, en, _ := s.cat.Entry(g.key)
		if !words.Match(textfold.Search(vi)) && !words.Match(textfold.Search(en)) {
			continue
		}
		if unitBoxes == nil {
			if unitBoxes, err = s.unitMailboxes(ctx); err != nil {
				return nil, err
			}
		}
		sg := suggestion{Name: s.cat.T(rc.lang, g.key)}
		for _, u := range units {
			if a := unitBoxes[u.ID]; a != "" && u.ParentID == 0 && slices.Contains(g.kinds, u.Kind) {
				sg.Members = append(sg.Members, a)
			}
		}
		if len(sg.Members) > 0 {
			out = append(out, sg)
		}
	}
	// One unit's staff, for units whose name, label or local part matches.
	groups := 0
	for i := range units {
		u := &units[i]
		if groups >= maxGroupSuggestions {
			break
		}
		if !words.Match(textfold.Search(u.Name)) && !strings.Contains(u.LocalPart, lq) && !strings.Contains(strings.ToLower(u.Abbr), lq) {
			continue
		}
		staff, err := s.d.Store.ListAccounts(ctx, store.AccountFilter{UnitID: u.ID, State: store.StateActive})
		if err != nil {
			return nil, err
		}
		sg := suggestion{Name: s.cat.T(rc.lang, "addressbook.all_staff", u.Name), Unit: unitPath(byID, u.ParentID)}
		for _, a := range staff {
			if a.Kind == store.KindPersonal {
				sg.Members = append(sg.Members, a.Address)
			}
		}
		if len(sg.Members) > 0 {
			out = append(out, sg)
			groups++
		}
	}
	accts, err := s.d.Store.ListAccounts(ctx, store.AccountFilter{State: store.StateActive, Query: q, Limit: maxSuggestions})
	if err != nil {
		return nil, err
	}
	for _, a := range accts {
		sg := suggestion{Name: a.DisplayName, Address: a.Address}
		if u := byID[a.UnitID]; u != nil {
			sg.Unit = u.Name
		}
		if a.Kind == store.KindUnit && sg.Unit == "" {
			sg.Unit = s.cat.T(rc.lang, "addressbook.unit_box")
		}
		out = append(out, sg)
	}
	if len(out) > maxSuggestions {
		out = out[:maxSuggestions]
	}
	return out, nil
}

// unitMailboxes maps each unit to the address of its own active mailbox, in
// one directory read.
func (s *Server) unitMailboxes(ctx context.Context) (map[int64]string, error) {
	accts, err := s.d.Store.ListAccounts(ctx, store.AccountFilter{State: store.StateActive})
	if err != nil {
		return nil, err
	}
	m := map[int64]string{}
	for _, a := range accts {
		if a.Kind == store.KindUnit && a.UnitID != 0 {
			m[a.UnitID] = a.Address
		}
	}
	return m, nil
}

// unitPath names the parent of a sub-unit, so that two "Văn phòng" can be told
// apart; "" for a top-level unit.
func unitPath(byID map[int64]*store.Unit, parent int64) string {
	if p := byID[parent]; p != nil {
		return p.Name
	}
	return ""
}
