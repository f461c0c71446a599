package e2e

import (
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"

	"govmail/internal/testutil"
)

// R3.1, R14.2: webmail answers over HTTPS in Vietnamese with the support
// contact; plain HTTP redirects to HTTPS; the MTA-STS policy is published.
func TestWebmailServedR3_1(t *testing.T) {
	s := testutil.Start(t, testutil.Options{})
	client := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // self-signed test server
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	get := func(url, host string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", url, nil)
		if host != "" {
			req.Host = host
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get("https://"+s.Addr("https")+"/login", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "Đăng nhập") || !strings.Contains(body, "hotro@sonla.gov.vn") {
		t.Fatalf("login page: %d %.300s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src") {
		t.Errorf("no CSP: %q", csp)
	}
	resp, _ = get("http://"+s.Addr("http")+"/", "")
	if resp.StatusCode/100 != 3 || !strings.HasPrefix(resp.Header.Get("Location"), "https://") {
		t.Errorf("plain HTTP: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = get("https://"+s.Addr("https")+"/.well-known/mta-sts.txt", "mta-sts.sonla.gov.vn")
	if resp.StatusCode != 200 || !strings.Contains(body, "mode: enforce") || !strings.Contains(body, "mx: mail.sonla.gov.vn") {
		t.Errorf("MTA-STS policy: %d %q", resp.StatusCode, body)
	}
}
