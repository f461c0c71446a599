package ldapd

import (
	"strings"

	"govmail/internal/textfold"
)

// attrKey maps an attribute description to the key this server uses: lower
// case, names and OIDs of the same attribute to one key (RFC 4519, 4524, 2798).
// Descriptions with options ("cn;lang-vi") keep their text and so match no
// attribute we have, which is what RFC 4511 4.5.1.7 asks for unrecognised ones.
// A switch rather than a map: the table cannot be changed at run time.
func attrKey(desc string) string {
	k := strings.ToLower(strings.TrimSpace(desc))
	switch k {
	case "commonname", "2.5.4.3":
		return "cn"
	case "surname", "2.5.4.4":
		return "sn"
	case "gn", "2.5.4.42":
		return "givenname"
	case "userid", "0.9.2342.19200300.100.1.1":
		return "uid"
	case "rfc822mailbox", "0.9.2342.19200300.100.1.3":
		return "mail"
	case "organizationalunitname", "2.5.4.11":
		return "ou"
	case "organizationname", "2.5.4.10":
		return "o"
	case "domaincomponent", "0.9.2342.19200300.100.1.25":
		return "dc"
	case "2.16.840.1.113730.3.1.241":
		return "displayname"
	case "2.5.4.0":
		return "objectclass"
	case "2.5.4.13":
		return "description"
	}
	return k
}

// attrName is the name an attribute is sent under.
func attrName(key string) string {
	switch key {
	case "givenname":
		return "givenName"
	case "displayname":
		return "displayName"
	case "objectclass":
		return "objectClass"
	case "namingcontexts":
		return "namingContexts"
	case "supportedldapversion":
		return "supportedLDAPVersion"
	case "supportedextension":
		return "supportedExtension"
	case "supportedcontrol":
		return "supportedControl"
	case "supportedsaslmechanisms":
		return "supportedSASLMechanisms"
	case "vendorname":
		return "vendorName"
	}
	return key
}

// knownAttr tells the attributes this directory serves: a filter on any
// other is Undefined rather than False (RFC 4511 4.5.1.7), so that
// (!(telephoneNumber=1)) does not list the whole province.
func knownAttr(key string) bool {
	switch key {
	case "objectclass", "cn", "sn", "givenname", "displayname", "uid", "mail", "ou", "o", "dc", "description",
		"namingcontexts", "supportedldapversion", "supportedextension", "supportedcontrol", "supportedsaslmechanisms", "vendorname":
		return true
	}
	return false
}

// folded tells the attributes holding Vietnamese text: they match folded
// (R5.1, DESIGN decision 6), so "nguyen van" finds "Nguyễn Văn".
func folded(key string) bool {
	switch key {
	case "cn", "sn", "givenname", "displayname", "ou", "o", "description":
		return true
	}
	return false
}

// normValue is an assertion or attribute value as matching sees it: folded
// for Vietnamese names; otherwise case-ignored with insignificant spaces
// removed (caseIgnoreMatch, caseIgnoreIA5Match for mail and uid).
func normValue(key, v string) string {
	if folded(key) {
		return textfold.Search(v)
	}
	return caseIgnore(v)
}

func caseIgnore(v string) string {
	return strings.ToLower(strings.Join(strings.Fields(v), " "))
}
