package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// Issue 8 part 4: personal contacts are kept per account and offered first by
// the address book, matched without diacritics.
func TestPersonalContacts(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", "Abcdef1!x", false)
	b := e.browser()
	b.login("hoant.skhcn@sonla.gov.vn", "Abcdef1!x").wantStatus(t, http.StatusOK)
	b.get("/settings")
	r := b.post("/settings/contacts", url.Values{"name": {"Đối tác Hà Nội"}, "address": {"doitac@example.vn"}})
	r.wantStatus(t, http.StatusOK)
	// The notice rides in the query, not after the #contacts fragment, where
	// the browser would never send it.
	mustContain(t, r.body, "doitac@example.vn", "Đã lưu liên hệ.")
	if r.url.Query().Get("n") != "contact_saved" || r.url.Fragment != "contacts" {
		t.Errorf("redirected to %s", r.url)
	}
	r = b.post("/settings/contacts", url.Values{"name": {"x"}, "address": {"không phải địa chỉ"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	r = b.get("/addressbook/suggest?q=doi+tac+ha+noi")
	r.wantStatus(t, http.StatusOK)
	var got []suggestion
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || len(got) == 0 || got[0].Address != "doitac@example.vn" {
		t.Fatalf("suggest: %v %s", err, r.body)
	}
	r = b.post("/settings/contacts/delete", url.Values{"address": {"doitac@example.vn"}})
	r.wantStatus(t, http.StatusOK)
	mustNotContain(t, r.body, "doitac@example.vn")
	mustContain(t, r.body, "Đã xóa liên hệ.")
}
