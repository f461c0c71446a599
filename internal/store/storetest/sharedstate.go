package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"govmail/internal/store"
)

// RunSharedState checks the web session and throttle records (issue 10). open
// must return a fresh, empty store; RunSharedState closes it.
func RunSharedState(t *testing.T, open Opener) {
	t.Run("WebSessions", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		testWebSessions(t, s)
	})
	t.Run("ThrottleStates", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		testThrottleStates(t, s)
	})
}

func testWebSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	put := func(h string, acc int64, created time.Time) {
		t.Helper()
		if err := s.PutWebSession(ctx, store.WebSession{IDHash: h, AccountID: acc, Data: []byte(`{"x":1}`), Created: created, LastSeen: created}); err != nil {
			t.Fatal(err)
		}
	}
	put("h1", 7, t0)
	put("h2", 7, t0.Add(time.Hour))
	put("h3", 8, t0.Add(time.Hour))
	got, err := s.WebSession(ctx, "h1")
	if err != nil || got.AccountID != 7 || string(got.Data) != `{"x":1}` || !got.Created.Equal(t0) || !got.LastSeen.Equal(t0) {
		t.Fatalf("WebSession = %+v, %v", got, err)
	}
	if err := s.TouchWebSession(ctx, "h1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateWebSessionData(ctx, "h1", []byte(`{"x":2}`)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.WebSession(ctx, "h1")
	if string(got.Data) != `{"x":2}` || !got.LastSeen.Equal(t0.Add(time.Minute)) || !got.Created.Equal(t0) {
		t.Errorf("after touch and update: %+v", got)
	}
	for _, err := range []error{
		s.TouchWebSession(ctx, "nope", t0),
		s.UpdateWebSessionData(ctx, "nope", nil),
		func() error { _, err := s.WebSession(ctx, "nope"); return err }(),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown session: %v, want ErrNotFound", err)
		}
	}
	if err := s.DeleteWebSession(ctx, "nope"); err != nil {
		t.Errorf("deleting an unknown session: %v", err)
	}
	// h1 is last seen at t0+1m: idle before t0+30m purges it, not h2 and h3.
	if n, err := s.PurgeWebSessions(ctx, t0.Add(30*time.Minute), t0.Add(-time.Hour)); err != nil || n != 1 {
		t.Errorf("purge idle = %d, %v", n, err)
	}
	if n, err := s.PurgeWebSessions(ctx, t0, t0.Add(time.Hour+time.Second)); err != nil || n != 2 {
		t.Errorf("purge old = %d, %v", n, err)
	}
	put("h4", 7, t0)
	put("h5", 8, t0)
	if err := s.DeleteWebSessions(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WebSession(ctx, "h4"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session of account 7: %v", err)
	}
	if _, err := s.WebSession(ctx, "h5"); err != nil {
		t.Errorf("session of account 8: %v", err)
	}
}

func testThrottleStates(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	err := s.UpdateThrottleStates(ctx, []string{"a", "b", "a"}, func(cur map[string][]byte) ([]store.ThrottleState, error) {
		if len(cur) != 0 {
			t.Errorf("fresh store holds %v", cur)
		}
		return []store.ThrottleState{{Key: "a", Data: []byte("1"), Expires: t0}, {Key: "b", Data: []byte("2"), Expires: t0.Add(time.Hour)}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ThrottleStates(ctx, []string{"a", "b", "c"})
	if err != nil || len(got) != 2 || string(got["a"]) != "1" || string(got["b"]) != "2" {
		t.Fatalf("ThrottleStates = %q, %v", got, err)
	}
	// A failing fn changes nothing; nil Data deletes; keys not returned stay.
	boom := errors.New("boom")
	if err := s.UpdateThrottleStates(ctx, []string{"a"}, func(map[string][]byte) ([]store.ThrottleState, error) {
		return []store.ThrottleState{{Key: "a"}}, boom
	}); !errors.Is(err, boom) {
		t.Errorf("fn error: %v", err)
	}
	err = s.UpdateThrottleStates(ctx, []string{"a", "b"}, func(cur map[string][]byte) ([]store.ThrottleState, error) {
		if string(cur["a"]) != "1" || string(cur["b"]) != "2" {
			t.Errorf("cur = %q", cur)
		}
		return []store.ThrottleState{{Key: "a"}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = s.ThrottleStates(ctx, []string{"a", "b"})
	if len(got) != 1 || string(got["b"]) != "2" {
		t.Errorf("after delete: %q", got)
	}
	if n, err := s.PurgeThrottleStates(ctx, t0.Add(time.Hour-time.Microsecond)); err != nil || n != 0 {
		t.Errorf("purge before expiry = %d, %v", n, err)
	}
	if n, err := s.PurgeThrottleStates(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("purge at expiry = %d, %v", n, err)
	}
}
