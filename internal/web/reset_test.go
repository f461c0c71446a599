package web

import (
	"context"
	"strings"
	"testing"
	"time"
)

// R6.1: a password reset by an operator, through whichever door (here the
// lifecycle call the API and the CLI make, not the portal page), ends the
// sessions opened with the old password; a session opened after it lives.
func TestResetEndsOlderSessionsR6_1(t *testing.T) {
	pe := newPortalEnv(t)
	old := pe.signedIn(pe.an)
	if r := old.get("/"); r.url.Path == "/login" {
		t.Fatal("the session does not work before the reset")
	}
	pe.clk.Advance(time.Minute)
	if _, _, err := pe.life.ResetPassword(context.Background(), pe.an.ID, "", pe.op.Address); err != nil {
		t.Fatal(err)
	}
	if r := old.get("/"); r.url.Path != "/login" || !strings.Contains(r.url.RawQuery, "expired") {
		t.Fatalf("a session older than the reset still works: %s", r.url)
	}
	pe.clk.Advance(time.Minute)
	if r := pe.signedIn(pe.an).get("/"); r.url.Path == "/login" {
		t.Fatalf("a session opened after the reset is refused: %s", r.url)
	}
}
