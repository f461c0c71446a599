package sqlite

import (
	"context"
	"testing"

	"govmail/internal/store"
)

// FuzzSearchQuery: whatever a user types into search, the FTS5 query built from
// it is valid (no syntax error reaches them) and matches what it should.
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
	mb, _ := st.MailboxByName(ctx, a.ID, "INBOX")
	st.Append(ctx, mb.ID, &store.NewMessage{Raw: []byte("Subject: x\r\n\r\nx\r\n"), SearchText: "cuoc hop giao ban dang uy"}, nil)
	f.Fuzz(func(t *testing.T, q string) {
		if _, err := st.SearchText(ctx, mb.ID, q); err != nil {
			t.Fatalf("SearchText(%q): %v", q, err)
		}
	})
}
