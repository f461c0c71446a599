package clamd

import (
	"errors"
	"strings"
	"testing"
)

func TestParseReply(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Result
		wantErr error
	}{
		{"stream: OK", Result{}, nil},
		{"stream: OK\x00", Result{}, nil},
		{"stream: OK\n", Result{}, nil},
		{"stream: Win.Test.EICAR_HDB-1 FOUND", Result{Infected: true, Signature: "Win.Test.EICAR_HDB-1"}, nil},
		{"stream: Local.Govmail-Test-Signature.UNOFFICIAL FOUND\x00", Result{Infected: true, Signature: "Local.Govmail-Test-Signature.UNOFFICIAL"}, nil},
		{"3: stream: OK", Result{}, nil},
		{"3: stream: Eicar FOUND", Result{Infected: true, Signature: "Eicar"}, nil},
		{"INSTREAM size limit exceeded. ERROR", Result{}, ErrSizeLimit},
		{"Can't allocate memory ERROR", Result{}, ErrUnavailable},
		{"ERROR", Result{}, ErrUnavailable},
		{"stream:  FOUND", Result{}, ErrUnavailable},
		{"stream: FOUND", Result{}, ErrUnavailable},
		{"PONG", Result{}, ErrUnavailable},
		{"", Result{}, ErrUnavailable},
		{"stream: ok", Result{}, ErrUnavailable},
		{"UNKNOWN COMMAND", Result{}, ErrUnavailable},
	} {
		got, err := parseReply([]byte(tc.in))
		if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
			t.Errorf("parseReply(%q) error = %v, want %v", tc.in, err, tc.wantErr)
		}
		if got != tc.want {
			t.Errorf("parseReply(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// FuzzParseReply: whatever a peer sends, the parser never panics, and it never
// turns a reply into a clean verdict unless the reply said exactly "OK" (a
// scanner that says something unexpected must defer the message, R4.1).
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"stream: OK", "stream: X FOUND", "INSTREAM size limit exceeded. ERROR",
		"1: stream: OK", "stream: OK FOUND", "stream: \x00 FOUND", "stream: a\nb FOUND", "ERROR ERROR"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := parseReply(b)
		if err != nil {
			if res != (Result{}) {
				t.Fatalf("error with a result: %+v, %v", res, err)
			}
			if !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrSizeLimit) {
				t.Fatalf("error of an unknown kind: %v", err)
			}
			return
		}
		if res.Infected {
			if res.Signature == "" || len(res.Signature) > 200 {
				t.Fatalf("infected with signature %q", res.Signature)
			}
			for _, r := range res.Signature {
				if r < 0x20 || r > 0x7e {
					t.Fatalf("unprintable signature %q", res.Signature)
				}
			}
			return
		}
		s := trimSessionID(strings.TrimRight(string(b), "\x00\r\n "))
		if s != "stream: OK" {
			t.Fatalf("clean verdict from %q", b)
		}
	})
}
