package ldapd

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"govmail/internal/store"
)

// benchEnv adds n active accounts with Vietnamese names to an environment.
func benchEnv(b *testing.B, n int) *testEnv {
	e := newEnv(b, nil)
	units, err := e.rec.ListUnits(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	family := []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Lò", "Cầm", "Quàng"}
	middle := []string{"Văn", "Thị", "Đức", "Ngọc", "Minh", "Thu", "Hữu", "Thanh"}
	given := []string{"An", "Bình", "Cường", "Dũng", "Hoa", "Hương", "Lan", "Mai", "Nam", "Phương", "Sơn", "Tuấn", "Yến", "Ánh"}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 { // concurrent writers share commits (DESIGN decision 5)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				name := fmt.Sprintf("%s %s %s", family[i%len(family)], middle[(i/len(family))%len(middle)], given[(i/7)%len(given)])
				a := &store.Account{Address: fmt.Sprintf("bench%05d@%s", i, testDomain), DisplayName: name,
					Kind: store.KindPersonal, UnitID: units[i%len(units)].ID, QuotaBytes: 1 << 30}
				if err := e.rec.CreateAccount(context.Background(), a); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkSearch compares an address-book lookup as Thunderbird sends it
// (pushed to the store's folded index) with a filter that must read all
// 10,000 accounts. Run: go test -run '^$' -bench Search ./internal/ldapd
func BenchmarkSearch(b *testing.B) {
	e := benchEnv(b, 10000)
	c := e.login("Nguyễn Văn An")
	for _, bc := range []struct{ name, filter string }{
		{"typed-name", "(|(cn=*hoang minh yen*)(mail=*hoang minh yen*)(sn=*hoang minh yen*)(givenName=*hoang minh yen*))"},
		{"full-scan", "(&(objectClass=inetOrgPerson)(!(cn=*hoang minh yen*)))"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				r, err := c.Search(ldap.NewSearchRequest(testBase, ldap.ScopeWholeSubtree, 0, 0, 0, false, bc.filter, []string{"cn", "mail"}, nil))
				if err != nil && code(err) != ldap.LDAPResultSizeLimitExceeded {
					b.Fatal(err)
				}
				if len(r.Entries) == 0 {
					b.Fatal("nothing found")
				}
			}
		})
	}
}
