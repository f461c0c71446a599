package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"unicode/utf8"

	"govmail/internal/mailparse"
	"govmail/internal/textfold"
)

// Personal contacts (issue 8 part 4): outside addresses a user keeps beside the
// provincial directory. They are a small list per account, kept as one user
// setting, and offered first by the address book.

// contactsKey is the user setting holding the list (JSON).
const contactsKey = "contacts"

// maxContacts bounds the list: a personal address book, not a mailing list.
const maxContacts = 500

// contact is one personal contact.
type contact struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

func (s *Server) contactRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /settings/contacts", s.authed(s.handleContactAdd))
	m.HandleFunc("POST /settings/contacts/delete", s.authed(s.handleContactDelete))
}

func (s *Server) loadContacts(ctx context.Context, accountID int64) []contact {
	raw, err := s.d.Store.UserSetting(ctx, accountID, contactsKey)
	if err != nil || raw == "" {
		return nil
	}
	var cs []contact
	if err := json.Unmarshal([]byte(raw), &cs); err != nil {
		s.log.Error("contacts unreadable", "account", accountID, "err", err)
		return nil
	}
	return cs
}

func (s *Server) saveContacts(ctx context.Context, accountID int64, cs []contact) error {
	b, err := json.Marshal(cs)
	if err != nil {
		return err
	}
	return s.d.Store.SetUserSetting(ctx, accountID, contactsKey, string(b))
}

func (s *Server) handleContactAdd(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	addr := strings.ToLower(strings.TrimSpace(r.PostFormValue("address")))
	if a, err := mail.ParseAddress(addr); err != nil || a.Address != addr || utf8.RuneCountInString(name) > 200 {
		s.renderSettings(w, r, rc, http.StatusUnprocessableEntity, s.cat.T(rc.lang, "contacts.bad", addr), nil)
		return
	}
	cs := s.loadContacts(r.Context(), rc.acct.ID)
	cs = slices.DeleteFunc(cs, func(c contact) bool { return c.Address == addr })
	if len(cs) >= maxContacts {
		s.renderSettings(w, r, rc, http.StatusUnprocessableEntity, s.cat.T(rc.lang, "contacts.full", maxContacts), nil)
		return
	}
	cs = append(cs, contact{Name: name, Address: addr})
	slices.SortFunc(cs, func(a, b contact) int {
		return strings.Compare(textfold.Search(a.Name+" "+a.Address), textfold.Search(b.Name+" "+b.Address))
	})
	if err := s.saveContacts(r.Context(), rc.acct.ID, cs); err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	seeOther(w, r, "/settings#contacts", "contact_saved")
}

func (s *Server) handleContactDelete(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	addr := strings.ToLower(strings.TrimSpace(r.PostFormValue("address")))
	cs := s.loadContacts(r.Context(), rc.acct.ID)
	cs = slices.DeleteFunc(cs, func(c contact) bool { return c.Address == addr })
	if err := s.saveContacts(r.Context(), rc.acct.ID, cs); err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	seeOther(w, r, "/settings#contacts", "contact_deleted")
}

// contactSuggestions are the personal contacts matching every folded word;
// words is never empty.
func (s *Server) contactSuggestions(ctx context.Context, rc *reqCtx, words mailparse.Query) []suggestion {
	var out []suggestion
	for _, c := range s.loadContacts(ctx, rc.acct.ID) {
		if words.Match(textfold.Search(c.Name + " " + c.Address)) {
			out = append(out, suggestion{Name: c.Name, Address: c.Address, Unit: s.cat.T(rc.lang, "contacts.label")})
		}
	}
	return out
}
