package sqlite

import (
	"context"
	"slices"
	"strings"
	"testing"

	"govmail/internal/store"
	"govmail/internal/textfold"
)

// FuzzSearchQuery: whatever a user types into search, the FTS5 query built from
// it is valid (no syntax error reaches them) and matches what it should: the
// one message when every folded word begins a word of its text (or there is no
// word), nothing when an ASCII word begins none. Other words are left to the
// tokenizer, whose notion of a letter is not textfold's.
func FuzzSearchQuery(f *testing.F) {
	for _, s := range []string{"họp", `"quoted" AND OR NOT`, "a*b", "NEAR(x y)", "bao cao", "(", `""`, "-x", "^start", "x:y", "\x00", "Đảng ủy"} {
		f.Add(s)
	}
	st, err := Open(context.Background(), Options{Dir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	a := &store.Account{Address: "f@sonla.gov.vn", QuotaBytes: 1 << 30}
	if err := st.CreateAccount(ctx, a); err != nil {
		f.Fatal(err)
	}
	mb, err := st.MailboxByName(ctx, a.ID, "INBOX")
	if err != nil {
		f.Fatal(err)
	}
	const text = "cuoc hop giao ban dang uy"
	uid, err := st.Append(ctx, mb.ID, &store.NewMessage{Raw: []byte("Subject: x\r\n\r\nx\r\n"), SearchText: text}, nil)
	if err != nil {
		f.Fatal(err)
	}
	begins := func(w string) bool {
		return slices.ContainsFunc(strings.Fields(text), func(x string) bool { return strings.HasPrefix(x, w) })
	}
	ascii := func(w string) bool {
		return !strings.ContainsFunc(w, func(r rune) bool { return r >= 0x80 })
	}
	f.Fuzz(func(t *testing.T, q string) {
		got, err := st.SearchText(ctx, mb.ID, q)
		if err != nil {
			t.Fatalf("SearchText(%q): %v", q, err)
		}
		words := strings.Fields(textfold.Search(q))
		switch {
		case !slices.ContainsFunc(words, func(w string) bool { return !begins(w) }):
			if !slices.Equal(got, []uint32{uid}) {
				t.Errorf("SearchText(%q) = %v, want [%d]: every word %q begins a word of %q", q, got, uid, words, text)
			}
		case slices.ContainsFunc(words, func(w string) bool { return ascii(w) && !begins(w) }):
			if len(got) != 0 {
				t.Errorf("SearchText(%q) = %v, want nothing: a word of %q begins no word of %q", q, got, words, text)
			}
		}
	})
}
