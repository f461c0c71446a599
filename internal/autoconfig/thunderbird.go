package autoconfig

import (
	"encoding/xml"
	"net/http"
	"strings"

	"govmail/internal/address"
)

// Thunderbird's autoconfig format, version 1.1
// (https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat).
type tbConfig struct {
	XMLName  xml.Name   `xml:"clientConfig"`
	Version  string     `xml:"version,attr"`
	Provider tbProvider `xml:"emailProvider"`
}

type tbProvider struct {
	ID        string     `xml:"id,attr"`
	Domains   []string   `xml:"domain"`
	Display   string     `xml:"displayName"`
	Short     string     `xml:"displayShortName"`
	Incoming  []tbServer `xml:"incomingServer"`
	Outgoing  []tbServer `xml:"outgoingServer"`
	Documents []tbDoc    `xml:"documentation,omitempty"`
}

type tbServer struct {
	Type     string `xml:"type,attr"`
	Hostname string `xml:"hostname"`
	Port     int    `xml:"port"`
	Socket   string `xml:"socketType"`
	Auth     string `xml:"authentication"`
	Username string `xml:"username"`
}

type tbDoc struct {
	URL   string `xml:"url,attr"`
	Descr string `xml:"descr"`
}

func tbServers(typ string, list []Server) []tbServer {
	var out []tbServer
	for _, s := range list {
		sock := "SSL"
		if s.Security == STARTTLS {
			sock = "STARTTLS"
		}
		// The password goes in clear inside TLS: every listener requires TLS
		// before AUTH (N1), and the client is told never to try without it.
		out = append(out, tbServer{Type: typ, Hostname: s.Host, Port: s.Port, Socket: sock,
			Auth: "password-cleartext", Username: "%EMAILADDRESS%"})
	}
	return out
}

// thunderbird serves config-v1.1.xml; ?emailaddress= of another domain is 404
// so that Thunderbird goes on to its other sources.
func (h *Handler) thunderbird(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.URL.Query().Get("emailaddress"))
	if email != "" && !h.ourAddress(email) {
		http.Error(w, "unknown domain", http.StatusNotFound)
		return
	}
	id := ""
	if len(h.s.Domains) > 0 {
		id = h.s.Domains[0]
	}
	if email != "" {
		id = address.Domain(email)
	}
	doc := tbConfig{Version: "1.1", Provider: tbProvider{ID: id, Domains: h.s.Domains, Display: h.s.DisplayName, Short: id}}
	doc.Provider.Incoming = append(tbServers("imap", h.s.IMAP), tbServers("pop3", h.s.POP3)...)
	doc.Provider.Outgoing = tbServers("smtp", h.s.SMTP)
	writeXML(w, h, "application/xml; charset=utf-8", doc)
}

func writeXML(w http.ResponseWriter, h *Handler, contentType string, v any) {
	out, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		h.log.Error("autoconfig document", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-cache")
	w.Write([]byte(xml.Header))
	w.Write(out)
	w.Write([]byte("\n"))
}
