package autoconfig

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"govmail/internal/config"
)

func production() config.Config {
	cfg := config.Defaults("/tmp/x")
	both := func(port string) []string { return []string{"0.0.0.0:" + port, "[::]:" + port} }
	cfg.Listen.IMAP, cfg.Listen.IMAPTLS = both("143"), both("993")
	cfg.Listen.POP3, cfg.Listen.POP3TLS = both("110"), both("995")
	cfg.Listen.Submission, cfg.Listen.SubmissionTLS = both("587"), both("465")
	return cfg
}

func serve(t *testing.T, h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	h.(*Handler).Register(mux)
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

func TestPortsFromListeners(t *testing.T) {
	for _, tc := range []struct {
		name             string
		cfg              config.Config
		imap, pop3, smtp string
	}{
		// Production listeners: the standard implicit-TLS ports first (N1).
		{"production", production(), "993/tls 143/starttls", "995/tls 110/starttls", "465/tls 587/starttls"},
		// The embedded default listens on unprivileged loopback ports: advertise those.
		{"embedded", config.Defaults("/tmp/x"), "9930/tls 1430/starttls", "9950/tls 1100/starttls", "4650/tls 5870/starttls"},
		// 993 is used when one of several listeners has it.
		{"mixed", func() config.Config {
			c := production()
			c.Listen.IMAPTLS = []string{"10.0.0.1:9930", "10.0.0.2:993"}
			c.Listen.POP3TLS, c.Listen.POP3 = nil, nil
			c.Listen.SubmissionTLS = nil
			return c
		}(), "993/tls 143/starttls", "", "587/starttls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := FromConfig(tc.cfg)
			str := func(l []Server) string {
				var p []string
				for _, x := range l {
					if x.Host != tc.cfg.Hostname {
						t.Errorf("host %q", x.Host)
					}
					p = append(p, fmt.Sprintf("%d/%s", x.Port, x.Security))
				}
				return strings.Join(p, " ")
			}
			if got := str(s.IMAP); got != tc.imap {
				t.Errorf("IMAP %q, want %q", got, tc.imap)
			}
			if got := str(s.POP3); got != tc.pop3 {
				t.Errorf("POP3 %q, want %q", got, tc.pop3)
			}
			if got := str(s.SMTP); got != tc.smtp {
				t.Errorf("SMTP %q, want %q", got, tc.smtp)
			}
		})
	}
}

func TestThunderbird(t *testing.T) {
	h := New(FromConfig(production()), nil)
	for _, target := range []string{
		PathWellKnown,
		PathWellKnown + "?emailaddress=duyenct.skhcn%40sonla.gov.vn",
		PathThunderbird + "?emailaddress=duyenct.skhcn@sonla.gov.vn",
	} {
		rec := serve(t, h, "GET", target, "")
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/xml") {
			t.Fatalf("%s: %d %s", target, rec.Code, rec.Header().Get("Content-Type"))
		}
		var doc struct {
			Version  string `xml:"version,attr"`
			Provider struct {
				ID       string   `xml:"id,attr"`
				Domains  []string `xml:"domain"`
				Display  string   `xml:"displayName"`
				Incoming []struct {
					Type     string `xml:"type,attr"`
					Hostname string `xml:"hostname"`
					Port     int    `xml:"port"`
					Socket   string `xml:"socketType"`
					Auth     string `xml:"authentication"`
					Username string `xml:"username"`
				} `xml:"incomingServer"`
				Outgoing []struct {
					Type   string `xml:"type,attr"`
					Port   int    `xml:"port"`
					Socket string `xml:"socketType"`
				} `xml:"outgoingServer"`
			} `xml:"emailProvider"`
		}
		if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatalf("%s: %v\n%s", target, err, rec.Body)
		}
		p := doc.Provider
		if doc.Version != "1.1" || p.ID != "sonla.gov.vn" || len(p.Domains) != 1 || p.Domains[0] != "sonla.gov.vn" || p.Display == "" {
			t.Errorf("provider %+v", p)
		}
		if len(p.Incoming) != 4 || p.Incoming[0].Type != "imap" || p.Incoming[0].Port != 993 || p.Incoming[0].Socket != "SSL" ||
			p.Incoming[0].Hostname != "mail.sonla.gov.vn" || p.Incoming[0].Username != "%EMAILADDRESS%" ||
			p.Incoming[0].Auth != "password-cleartext" || p.Incoming[1].Socket != "STARTTLS" || p.Incoming[1].Port != 143 ||
			p.Incoming[2].Type != "pop3" || p.Incoming[2].Port != 995 {
			t.Errorf("incoming %+v", p.Incoming)
		}
		if len(p.Outgoing) != 2 || p.Outgoing[0].Port != 465 || p.Outgoing[0].Socket != "SSL" || p.Outgoing[1].Port != 587 || p.Outgoing[1].Socket != "STARTTLS" {
			t.Errorf("outgoing %+v", p.Outgoing)
		}
	}
	// Another domain: Thunderbird must look elsewhere.
	if rec := serve(t, h, "GET", PathThunderbird+"?emailaddress=a@gmail.com", ""); rec.Code != 404 {
		t.Errorf("foreign domain: %d", rec.Code)
	}
}

const adReq = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>%s</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>`

type adResp struct {
	XMLName  xml.Name
	Response struct {
		XMLName xml.Name
		Account struct {
			AccountType string `xml:"AccountType"`
			Action      string `xml:"Action"`
			Protocols   []struct {
				Type       string `xml:"Type"`
				Server     string `xml:"Server"`
				Port       int    `xml:"Port"`
				LoginName  string `xml:"LoginName"`
				SSL        string `xml:"SSL"`
				Encryption string `xml:"Encryption"`
			} `xml:"Protocol"`
		} `xml:"Account"`
		Error *struct {
			ErrorCode int `xml:"ErrorCode"`
		} `xml:"Error"`
	} `xml:"Response"`
}

func TestAutodiscover(t *testing.T) {
	cfg := production()
	cfg.Listen.IMAPTLS = nil // STARTTLS only: Encryption TLS
	h := New(FromConfig(cfg), nil)
	for _, path := range []string{PathAutodiscover, PathAutodiscoverCap} {
		rec := serve(t, h, "POST", path, fmt.Sprintf(adReq, "hoant88.skhcn@sonla.gov.vn"))
		if rec.Code != 200 {
			t.Fatalf("%s: %d", path, rec.Code)
		}
		var r adResp
		if err := xml.Unmarshal(rec.Body.Bytes(), &r); err != nil {
			t.Fatalf("%v\n%s", err, rec.Body)
		}
		if r.XMLName.Space != nsResponse || r.Response.XMLName.Space != nsOutlookResponse {
			t.Errorf("namespaces %q %q", r.XMLName.Space, r.Response.XMLName.Space)
		}
		a := r.Response.Account
		if a.AccountType != "email" || a.Action != "settings" || len(a.Protocols) != 3 || r.Response.Error != nil {
			t.Fatalf("account %+v", a)
		}
		got := map[string]string{}
		for _, p := range a.Protocols {
			if p.Server != "mail.sonla.gov.vn" || p.LoginName != "hoant88.skhcn@sonla.gov.vn" || p.SSL != "on" {
				t.Errorf("protocol %+v", p)
			}
			got[p.Type] = fmt.Sprintf("%d/%s", p.Port, p.Encryption)
		}
		if got["IMAP"] != "143/TLS" || got["POP3"] != "995/SSL" || got["SMTP"] != "465/SSL" {
			t.Errorf("protocols %v", got)
		}
	}
	// A foreign address, a bad body, or GET: refused.
	for _, body := range []string{fmt.Sprintf(adReq, "a@example.com"), "<not xml"} {
		rec := serve(t, h, "POST", PathAutodiscover, body)
		var r adResp
		if err := xml.Unmarshal(rec.Body.Bytes(), &r); err != nil || r.Response.Error == nil || r.Response.Error.ErrorCode != 600 {
			t.Errorf("refusal: %v %s", err, rec.Body)
		}
	}
	if rec := serve(t, h, "GET", PathAutodiscover, ""); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", rec.Code)
	}
}

// parsePlist reads the subset of Apple's plist XML the profile uses.
func parsePlist(t *testing.T, r io.Reader) any {
	t.Helper()
	dec := xml.NewDecoder(r)
	var value func(start xml.StartElement) any
	text := func() string {
		var s string
		for {
			tok, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			switch v := tok.(type) {
			case xml.CharData:
				s += string(v)
			case xml.EndElement:
				return s
			}
		}
	}
	next := func() (xml.StartElement, bool) {
		for {
			tok, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			switch v := tok.(type) {
			case xml.StartElement:
				return v, true
			case xml.EndElement:
				return xml.StartElement{}, false
			}
		}
	}
	value = func(start xml.StartElement) any {
		switch start.Name.Local {
		case "string", "integer":
			return text()
		case "true", "false":
			dec.Skip()
			return start.Name.Local == "true"
		case "array":
			var out []any
			for {
				el, ok := next()
				if !ok {
					return out
				}
				out = append(out, value(el))
			}
		case "dict":
			out := map[string]any{}
			for {
				el, ok := next()
				if !ok {
					return out
				}
				if el.Name.Local != "key" {
					t.Fatalf("dict: %s where a key belongs", el.Name.Local)
				}
				k := text()
				v, _ := next()
				out[k] = value(v)
			}
		}
		t.Fatalf("plist element %s", start.Name.Local)
		return nil
	}
	for {
		el, ok := next()
		if !ok {
			t.Fatal("no plist")
		}
		if el.Name.Local == "plist" {
			inner, _ := next()
			return value(inner)
		}
	}
}

func TestAppleProfile(t *testing.T) {
	h := New(FromConfig(production()), nil)
	rec := serve(t, h, "GET", PathApple+"?email=Duyenct.SKHCN@sonla.gov.vn", "")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/x-apple-aspen-config" {
		t.Fatalf("%d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	first := rec.Body.String()
	top := parsePlist(t, strings.NewReader(first)).(map[string]any)
	if top["PayloadType"] != "Configuration" || top["PayloadVersion"] != "1" || top["PayloadUUID"] == "" {
		t.Errorf("profile %v", top)
	}
	content := top["PayloadContent"].([]any)
	if len(content) != 1 {
		t.Fatalf("payloads %v", content)
	}
	m := content[0].(map[string]any)
	want := map[string]any{
		"PayloadType": "com.apple.mail.managed", "EmailAccountType": "EmailTypeIMAP",
		"EmailAddress": "duyenct.skhcn@sonla.gov.vn", "IncomingMailServerUsername": "duyenct.skhcn@sonla.gov.vn",
		"IncomingMailServerHostName": "mail.sonla.gov.vn", "IncomingMailServerPortNumber": "993", "IncomingMailServerUseSSL": true,
		"OutgoingMailServerHostName": "mail.sonla.gov.vn", "OutgoingMailServerPortNumber": "465", "OutgoingMailServerUseSSL": true,
		"IncomingMailServerAuthentication": "EmailAuthPassword", "OutgoingPasswordSameAsIncomingPassword": true,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if _, ok := m["IncomingPassword"]; ok {
		t.Error("a profile never carries a password")
	}
	// The same address gives the same profile: installing it again replaces it.
	if again := serve(t, h, "GET", PathApple+"?email=duyenct.skhcn@sonla.gov.vn", "").Body.String(); again != first {
		t.Error("profile not stable")
	}
	other := parsePlist(t, serve(t, h, "GET", PathApple+"?email=hoant.skhcn@sonla.gov.vn", "").Body).(map[string]any)
	if other["PayloadUUID"] == top["PayloadUUID"] {
		t.Error("two addresses share a profile UUID")
	}
	for _, q := range []string{"", "?email=a@example.com", "?email=nobody"} {
		if rec := serve(t, h, "GET", PathApple+q, ""); rec.Code != 400 {
			t.Errorf("%q: %d", q, rec.Code)
		}
	}
}
