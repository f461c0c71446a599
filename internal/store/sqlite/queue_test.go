package sqlite

import (
	"context"
	"testing"

	"govmail/internal/store/storetest"
)

func TestQueueConformance(t *testing.T) {
	storetest.RunQueue(t, func(t *testing.T) storetest.QueueBackend {
		s, err := Open(context.Background(), Options{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
