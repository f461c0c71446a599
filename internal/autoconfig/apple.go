package autoconfig

import (
	"bytes"
	"crypto/sha256"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"govmail/internal/address"
)

// plist is a property-list value as Apple's configuration profiles need it:
// strings, integers, booleans, arrays and dictionaries with ordered keys.
type plist interface {
	write(b *bytes.Buffer, indent string)
}

type pString string
type pInt int
type pBool bool
type pArray []plist
type pDict []pEntry
type pEntry struct {
	Key   string
	Value plist
}

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (s pString) write(b *bytes.Buffer, in string) {
	fmt.Fprintf(b, "%s<string>%s</string>\n", in, esc(string(s)))
}
func (n pInt) write(b *bytes.Buffer, in string) {
	fmt.Fprintf(b, "%s<integer>%d</integer>\n", in, int(n))
}
func (v pBool) write(b *bytes.Buffer, in string) {
	if v {
		fmt.Fprintf(b, "%s<true/>\n", in)
	} else {
		fmt.Fprintf(b, "%s<false/>\n", in)
	}
}
func (a pArray) write(b *bytes.Buffer, in string) {
	fmt.Fprintf(b, "%s<array>\n", in)
	for _, v := range a {
		v.write(b, in+"\t")
	}
	fmt.Fprintf(b, "%s</array>\n", in)
}
func (d pDict) write(b *bytes.Buffer, in string) {
	fmt.Fprintf(b, "%s<dict>\n", in)
	for _, e := range d {
		fmt.Fprintf(b, "%s\t<key>%s</key>\n", in, esc(e.Key))
		e.Value.write(b, in+"\t")
	}
	fmt.Fprintf(b, "%s</dict>\n", in)
}

// stableUUID derives a UUID from its inputs, so that downloading the profile
// again for the same address replaces the installed one instead of adding a
// second account.
func stableUUID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	u := sum[:16]
	u[6] = u[6]&0x0f | 0x50 // version 5 layout (name-based)
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%X-%X-%X-%X-%X", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// reverseDNS turns sonla.gov.vn into vn.gov.sonla for payload identifiers.
func reverseDNS(domain string) string {
	parts := strings.Split(strings.ToLower(domain), ".")
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, ".")
}

// apple serves an unsigned configuration profile with one IMAP account for
// ?email= (iOS, iPadOS, macOS Mail). The device asks for the password itself.
func (h *Handler) apple(w http.ResponseWriter, r *http.Request) {
	email := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("email")))
	if !h.ourAddress(email) {
		http.Error(w, "email: địa chỉ thư của hệ thống / an address of this system is required", http.StatusBadRequest)
		return
	}
	if len(h.s.IMAP) == 0 || len(h.s.SMTP) == 0 {
		http.Error(w, "IMAP and submission are not configured", http.StatusNotFound)
		return
	}
	in, out := h.s.IMAP[0], h.s.SMTP[0]
	domain := address.Domain(email)
	ident := reverseDNS(domain) + ".govmail"
	mailUUID := stableUUID("mail", email)
	mail := pDict{
		{"EmailAccountDescription", pString(email)},
		{"EmailAccountName", pString(email)},
		{"EmailAccountType", pString("EmailTypeIMAP")},
		{"EmailAddress", pString(email)},
		{"IncomingMailServerAuthentication", pString("EmailAuthPassword")},
		{"IncomingMailServerHostName", pString(in.Host)},
		{"IncomingMailServerPortNumber", pInt(in.Port)},
		// Apple's "UseSSL" on a STARTTLS port means STARTTLS; either way no
		// password goes unencrypted (N1).
		{"IncomingMailServerUseSSL", pBool(true)},
		{"IncomingMailServerUsername", pString(email)},
		{"OutgoingMailServerAuthentication", pString("EmailAuthPassword")},
		{"OutgoingMailServerHostName", pString(out.Host)},
		{"OutgoingMailServerPortNumber", pInt(out.Port)},
		{"OutgoingMailServerUseSSL", pBool(true)},
		{"OutgoingMailServerUsername", pString(email)},
		{"OutgoingPasswordSameAsIncomingPassword", pBool(true)},
		{"PayloadDescription", pString("Tài khoản thư " + email)},
		{"PayloadDisplayName", pString(email)},
		{"PayloadIdentifier", pString(ident + ".mail." + mailUUID)},
		{"PayloadType", pString("com.apple.mail.managed")},
		{"PayloadUUID", pString(mailUUID)},
		{"PayloadVersion", pInt(1)},
		{"PreventAppSheet", pBool(false)},
		{"PreventMove", pBool(false)},
		{"SMIMEEnabled", pBool(false)},
	}
	profUUID := stableUUID("profile", email)
	profile := pDict{
		{"PayloadContent", pArray{mail}},
		{"PayloadDescription", pString("Cấu hình thư điện tử cho " + email + " / mail settings for " + email)},
		{"PayloadDisplayName", pString(h.s.DisplayName)},
		{"PayloadIdentifier", pString(ident + "." + profUUID)},
		{"PayloadOrganization", pString(domain)},
		{"PayloadRemovalDisallowed", pBool(false)},
		{"PayloadType", pString("Configuration")},
		{"PayloadUUID", pString(profUUID)},
		{"PayloadVersion", pInt(1)},
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">` + "\n")
	b.WriteString(`<plist version="1.0">` + "\n")
	profile.write(&b, "")
	b.WriteString("</plist>\n")
	w.Header().Set("Content-Type", "application/x-apple-aspen-config")
	w.Header().Set("Content-Disposition", `attachment; filename="govmail.mobileconfig"`)
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b.Bytes())
}
