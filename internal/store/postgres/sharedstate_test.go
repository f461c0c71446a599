package postgres_test

import (
	"testing"

	"govmail/internal/store"
	"govmail/internal/store/storetest"
)

func TestSharedStateConformance(t *testing.T) {
	storetest.RunSharedState(t, func(t *testing.T) store.Store {
		return open(t, cluster.Database(t))
	})
}
