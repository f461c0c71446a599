package rspamd

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecide_R4_2(t *testing.T) {
	for _, tc := range []struct {
		action string
		score  float64
		th     Thresholds
		want   Disposition
	}{
		{ActionNoAction, -0.1, Thresholds{}, Inbox},
		{ActionGreylist, 4.5, Thresholds{}, Inbox},
		{ActionAddHeader, 6.3, Thresholds{}, Junk},
		{ActionRewriteSubject, 8, Thresholds{}, Junk},
		{ActionSoftReject, 0, Thresholds{}, Defer},
		{ActionReject, 15, Thresholds{}, Reject},
		// govmail's own thresholds make a verdict stricter, never milder.
		{ActionNoAction, 5, Thresholds{Junk: 5, Reject: 12}, Junk},
		{ActionAddHeader, 12, Thresholds{Junk: 5, Reject: 12}, Reject},
		{ActionReject, 15, Thresholds{Junk: 20, Reject: 30}, Reject},
		{ActionNoAction, 4.99, Thresholds{Junk: 5, Reject: 12}, Inbox},
	} {
		got := Decide(&Result{Action: tc.action, Score: tc.score}, tc.th)
		if got != tc.want {
			t.Errorf("Decide(%q, %.2f, %+v) = %v, want %v", tc.action, tc.score, tc.th, got, tc.want)
		}
	}
}

func TestHeaders(t *testing.T) {
	r := &Result{Action: "add header", Score: 7.3, RequiredScore: 15, Symbols: map[string]Symbol{
		"HFILTER_HOSTNAME_UNKNOWN":   {Name: "HFILTER_HOSTNAME_UNKNOWN", Score: 2.5},
		"RDNS_NONE":                  {Name: "RDNS_NONE", Score: 2},
		"ARC_NA":                     {Name: "ARC_NA", Score: 0},
		"MIME_GOOD":                  {Name: "MIME_GOOD", Score: -0.1},
		"HFILTER_HELO_NORES_A_OR_MX": {Name: "HFILTER_HELO_NORES_A_OR_MX", Score: 0.3},
		"R_BAD\r\nX-Injected: 1":     {Name: "R_BAD\r\nX-Injected: 1", Score: 1},
	}}
	h := r.Headers()
	want := "X-Spam-Score: 7.30 / 15.00\r\n" +
		"X-Spam-Action: add header\r\n" +
		"X-Spam-Symbols: HFILTER_HOSTNAME_UNKNOWN(2.50), RDNS_NONE(2.00),\r\n" +
		"\tR_BADX-Injected1(1.00), HFILTER_HELO_NORES_A_OR_MX(0.30), MIME_GOOD(-0.10),\r\n" +
		"\tARC_NA(0.00)\r\n"
	if h != want {
		t.Fatalf("Headers() =\n%q\nwant\n%q", h, want)
	}
	if got := (&Result{Action: "no action"}).Headers(); !strings.HasSuffix(got, "X-Spam-Symbols: none\r\n") {
		t.Errorf("no symbols: %q", got)
	}
}

func TestLearnReply(t *testing.T) {
	for _, tc := range []struct {
		code   int
		status string
		body   string
		want   error
	}{
		{200, "200 OK", `{"success":true}`, nil},
		{200, "200 OK", `{"success":false}`, ErrLearnRefused},
		{208, "208 <a@b> has been already learned as spam, ignore it", `{"error":"<a@b> has been already learned as spam, ignore it"}`, ErrAlreadyLearned},
		{204, "204 all learn conditions denied learning ham in default classifier", ``, ErrLearnRefused},
		{401, "401 Unauthorized", `{"error":"Unauthorized"}`, ErrUnauthorized},
		{403, "403 Forbidden", ``, ErrUnauthorized},
		{500, "500 Internal", `{"error":"Unknown statistics error"}`, ErrUnavailable},
		{404, "404 Not Found", `{"error":"path not found"}`, ErrLearnRefused},
	} {
		err := learnReply("/learnham", tc.code, tc.status, []byte(tc.body))
		if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("%d %q: %v, want %v", tc.code, tc.body, err, tc.want)
		}
	}
	err := learnReply("/learnham", 204, "204 all learn conditions denied learning ham in default classifier", nil)
	if !strings.Contains(err.Error(), "all learn conditions denied") {
		t.Errorf("204 reason lost: %v", err)
	}
}

// FuzzHeaders: whatever rspamd (or something posing as it) answers, the header
// block is CRLF lines of printable ASCII, continuation lines start with a tab,
// and nothing but the three fields appears (no header injection).
func FuzzHeaders(f *testing.F) {
	f.Add([]byte(`{"action":"reject","score":15,"required_score":15,"symbols":{"GTUBE":{"name":"GTUBE","score":15}}}`))
	f.Add([]byte(`{"action":"no action\r\nX-Evil: 1","score":1e308,"symbols":{"A\nB":{"score":-3}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Result
		if json.Unmarshal(b, &r) != nil {
			return
		}
		h := r.Headers()
		if !strings.HasSuffix(h, "\r\n") {
			t.Fatalf("not CRLF-terminated: %q", h)
		}
		fields := 0
		for _, line := range strings.Split(strings.TrimSuffix(h, "\r\n"), "\r\n") {
			for _, c := range []byte(line) {
				if (c < 0x20 && c != '\t') || c > 0x7e {
					t.Fatalf("bad byte %q in %q", c, line)
				}
			}
			if strings.HasPrefix(line, "\t") {
				continue
			}
			fields++
			if !strings.HasPrefix(line, "X-Spam-Score: ") && !strings.HasPrefix(line, "X-Spam-Action: ") && !strings.HasPrefix(line, "X-Spam-Symbols:") {
				t.Fatalf("unexpected field %q", line)
			}
		}
		if fields != 3 {
			t.Fatalf("%d fields in %q", fields, h)
		}
		_ = Decide(&r, Thresholds{Junk: 6, Reject: 15})
	})
}
