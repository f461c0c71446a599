package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"govmail/internal/store"
)

func TestAdminQueue(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := testStore(t, dir)
	qs := st.(store.QueueStore)
	m := &store.QueuedMessage{From: "hoant.skhcn@sonla.gov.vn", AuthUser: "hoant.skhcn@sonla.gov.vn", CreatedAt: time.Now(),
		Recipients: []store.QueueRecipient{{Address: "a@example.org", NextAttempt: time.Now().Add(time.Hour)}}}
	if _, err := qs.Enqueue(ctx, &store.NewMessage{Raw: []byte("Subject: x\r\n\r\nx\r\n")}, m, nil); err != nil {
		t.Fatal(err)
	}
	st.Close()
	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if err := cmdAdminQueue(ctx, append(args, "-data", dir), &out, &errb); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errb.String())
		}
		return out.String()
	}
	if out := run("list"); !strings.Contains(out, "a@example.org") || !strings.Contains(out, "queued") {
		t.Errorf("list:\n%s", out)
	}
	run("hold", "1", "--reason", "compromised")
	if out := run("list", "--held"); !strings.Contains(out, "held:compromised") {
		t.Errorf("list --held:\n%s", out)
	}
	if out := run("retry", "all"); !strings.Contains(out, "1 recipients due now") {
		t.Errorf("retry:\n%s", out)
	}
	run("drop", "1")
	if out := run("list"); !strings.Contains(out, "empty") {
		t.Errorf("after drop:\n%s", out)
	}
	var errb bytes.Buffer
	if err := cmdAdminQueue(ctx, []string{"drop", "1", "-data", dir}, &bytes.Buffer{}, &errb); err == nil || !strings.Contains(err.Error(), "no message 1") {
		t.Errorf("second drop: %v", err)
	}
	// R11.1: the drop is in the transaction log.
	st = testStore(t, dir)
	defer st.Close()
	rows, err := st.SearchLog(ctx, store.LogFilter{Address: "a@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || !strings.Contains(rows[0].Error, "dropped") {
		t.Errorf("log: %+v", rows)
	}
}
