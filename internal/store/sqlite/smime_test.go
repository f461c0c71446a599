package sqlite

import (
	"context"
	"testing"

	"govmail/internal/store"
	"govmail/internal/store/storetest"
)

func TestSMIMEStore(t *testing.T) {
	storetest.RunSMIME(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), Options{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
