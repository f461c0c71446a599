package autoconfig

import (
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"time"
)

// Outlook's "plain old XML" autodiscover (MS-OXDSCLI): the request names the
// address and the response schema it accepts; the answer lists IMAP, POP3
// and SMTP settings.
const (
	nsRequest         = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
	nsResponse        = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
	nsOutlookResponse = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
)

type adRequest struct {
	XMLName xml.Name `xml:"Autodiscover"`
	Request struct {
		EMailAddress             string `xml:"EMailAddress"`
		AcceptableResponseSchema string `xml:"AcceptableResponseSchema"`
	} `xml:"Request"`
}

type adResponse struct {
	XMLName  xml.Name `xml:"Autodiscover"`
	NS       string   `xml:"xmlns,attr"`
	Response adOutlook
}

type adOutlook struct {
	XMLName xml.Name   `xml:"Response"`
	NS      string     `xml:"xmlns,attr"`
	User    *adUser    `xml:"User,omitempty"`
	Account *adAccount `xml:"Account,omitempty"`
	Error   *adError   `xml:"Error,omitempty"`
}

type adUser struct {
	DisplayName string `xml:"DisplayName"`
}

type adAccount struct {
	AccountType string       `xml:"AccountType"`
	Action      string       `xml:"Action"`
	Protocols   []adProtocol `xml:"Protocol"`
}

type adProtocol struct {
	Type           string `xml:"Type"`
	Server         string `xml:"Server"`
	Port           int    `xml:"Port"`
	DomainRequired string `xml:"DomainRequired"`
	LoginName      string `xml:"LoginName"`
	SPA            string `xml:"SPA"`
	SSL            string `xml:"SSL"`
	// Encryption overrides SSL: "SSL" is TLS on connect, "TLS" is STARTTLS.
	Encryption   string `xml:"Encryption"`
	AuthRequired string `xml:"AuthRequired"`
	UsePOPAuth   string `xml:"UsePOPAuth,omitempty"`
	SMTPLast     string `xml:"SMTPLast,omitempty"`
}

type adError struct {
	Time      string `xml:"Time,attr"`
	ID        string `xml:"Id,attr"`
	ErrorCode int    `xml:"ErrorCode"`
	Message   string `xml:"Message"`
	DebugData string `xml:"DebugData"`
}

// adProtocols gives the preferred server of a protocol: Outlook takes the
// first Protocol of each Type and ignores the others.
func adProtocols(typ, login string, list []Server) []adProtocol {
	if len(list) == 0 {
		return nil
	}
	s := list[0]
	enc := "SSL"
	if s.Security == STARTTLS {
		enc = "TLS"
	}
	p := adProtocol{Type: typ, Server: s.Host, Port: s.Port, DomainRequired: "off", LoginName: login, SPA: "off",
		SSL: "on", Encryption: enc, AuthRequired: "on"}
	if typ == "SMTP" {
		p.UsePOPAuth, p.SMTPLast = "on", "off"
	}
	return []adProtocol{p}
}

func (h *Handler) autodiscover(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	var req adRequest
	if err == nil {
		err = xml.Unmarshal(body, &req)
	}
	email := strings.TrimSpace(req.Request.EMailAddress)
	schema := strings.TrimSpace(req.Request.AcceptableResponseSchema)
	if err != nil || !h.ourAddress(email) || (schema != "" && schema != nsOutlookResponse) {
		// Autodiscover answers refusals with 200 and an Error element; 600 is
		// "invalid request" (MS-OXDSCLI 2.2.4.2.1.2).
		h.log.Debug("autodiscover refused", "email", email, "schema", schema, "err", err)
		writeXML(w, h, "text/xml; charset=utf-8", adResponse{NS: nsResponse, Response: adOutlook{NS: nsResponse,
			Error: &adError{Time: time.Now().UTC().Format("15:04:05.0000000"), ID: "1", ErrorCode: 600, Message: "Invalid Request"}}})
		return
	}
	acc := &adAccount{AccountType: "email", Action: "settings"}
	acc.Protocols = append(acc.Protocols, adProtocols("IMAP", email, h.s.IMAP)...)
	acc.Protocols = append(acc.Protocols, adProtocols("POP3", email, h.s.POP3)...)
	acc.Protocols = append(acc.Protocols, adProtocols("SMTP", email, h.s.SMTP)...)
	writeXML(w, h, "text/xml; charset=utf-8", adResponse{NS: nsResponse, Response: adOutlook{NS: nsOutlookResponse,
		User: &adUser{DisplayName: email}, Account: acc}})
}
