package postgres_test

import (
	"testing"

	"govmail/internal/store"
	"govmail/internal/store/storetest"
)

func TestSMIMEStore(t *testing.T) {
	storetest.RunSMIME(t, func(t *testing.T) store.Store {
		return open(t, cluster.Database(t))
	})
}
