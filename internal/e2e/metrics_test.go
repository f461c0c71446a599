package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"govmail/internal/testutil"
)

// R13.2: health and Prometheus metrics on the HTTP port.
func TestMetricsAndHealthR13_2(t *testing.T) {
	s := testutil.Start(t, testutil.Options{})
	a := s.AddAccount(t, "m.skhcn@sonla.gov.vn", pw)
	if err := sendPlain(s.Addr("smtp"), "x@example.org", a.Address, "Subject: x\r\n\r\nx\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := sendPlain(s.Addr("smtp"), "x@example.org", "nobody@sonla.gov.vn", "Subject: x\r\n\r\nx\r\n"); codeOf(err) != 550 || enhOf(err) != "5.1.1" {
		t.Fatalf("unknown recipient: %v, want 550 5.1.1", err)
	}
	get := func(path string) string {
		resp, err := http.Get("http://" + s.Addr("http") + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	if h := get("/healthz"); strings.TrimSpace(h) != "ok" {
		t.Errorf("health: %q", h)
	}
	m := get("/metrics")
	for _, want := range []string{
		`govmail_deliveries_total{result="delivered"} 1`,
		`govmail_deliveries_total{result="refused"} 1`,
		`govmail_connections_total{service="smtp"} 2`,
		"govmail_delivery_seconds_count 1",
		"govmail_store_bytes",
		"go_goroutines",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
