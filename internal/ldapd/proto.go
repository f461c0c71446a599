package ldapd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// LDAP result codes (RFC 4511 appendix A) this server sends.
const (
	resultSuccess                  = 0
	resultOperationsError          = 1
	resultProtocolError            = 2
	resultTimeLimitExceeded        = 3
	resultSizeLimitExceeded        = 4
	resultAuthMethodNotSupported   = 7
	resultAdminLimitExceeded       = 11
	resultUnavailableCriticalExt   = 12
	resultConfidentialityRequired  = 13
	resultNoSuchObject             = 32
	resultInvalidDNSyntax          = 34
	resultInvalidCredentials       = 49
	resultInsufficientAccessRights = 50
	resultUnavailable              = 52
	resultUnwillingToPerform       = 53
	resultOther                    = 80
)

// Object identifiers of extended operations.
const (
	oidStartTLS              = "1.3.6.1.4.1.1466.20037"  // RFC 4511 4.14
	oidWhoAmI                = "1.3.6.1.4.1.4203.1.11.3" // RFC 4532
	oidPasswordModify        = "1.3.6.1.4.1.4203.1.11.1" // RFC 3062
	oidNoticeOfDisconnection = "1.3.6.1.4.1.1466.20036"  // RFC 4511 4.4.1
)

// Application tags of protocol operations (RFC 4511 4.2–4.14).
const (
	appBindRequest       ber.Tag = 0
	appBindResponse      ber.Tag = 1
	appUnbindRequest     ber.Tag = 2
	appSearchRequest     ber.Tag = 3
	appSearchResultEntry ber.Tag = 4
	appSearchResultDone  ber.Tag = 5
	appModifyRequest     ber.Tag = 6
	appAddRequest        ber.Tag = 8
	appDelRequest        ber.Tag = 10
	appModifyDNRequest   ber.Tag = 12
	appCompareRequest    ber.Tag = 14
	appAbandonRequest    ber.Tag = 16
	appExtendedRequest   ber.Tag = 23
	appExtendedResponse  ber.Tag = 24
)

// Search scopes.
const (
	scopeBase = 0
	scopeOne  = 1
	scopeSub  = 2
)

// maxMessageID is maxInt of RFC 4511 4.1.1, the bound of every LDAP integer.
const maxMessageID = 1<<31 - 1

// maxRequestBytes bounds one request. Binds and searches are a few hundred
// bytes; Outlook's widest filters a few kilobytes. The bound is what keeps a
// client from making us allocate what its length field claims before it has
// sent anything (the flaw that ruled out vjeantet/ldapserver: a 6-byte header
// made it allocate 2 GB), and it bounds the BER tree the decoder builds.
const maxRequestBytes = 64 << 10

// errProtocol marks a request we cannot decode: the session ends with a
// Notice of Disconnection (RFC 4511 4.4.1), since what follows on the stream
// can no longer be trusted to be framed right.
var errProtocol = errors.New("ldapd: protocol error")

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errProtocol}, args...)...)
}

// readFrame reads one LDAPMessage (a definite-length SEQUENCE) whole. It
// reads the header itself rather than through ber.ReadPacket so that the size
// limit holds before anything is allocated, without touching the ber
// package's global limits, which other users of the package share.
func readFrame(br *bufio.Reader, max int) ([]byte, error) {
	tag, err := br.ReadByte()
	if err != nil {
		return nil, err
	}
	if tag != 0x30 {
		return nil, protoErr("message tag %#x, want SEQUENCE", tag)
	}
	l0, err := br.ReadByte()
	if err != nil {
		return nil, unexpected(err)
	}
	hdr := []byte{tag, l0}
	var n int
	switch {
	case l0 < 0x80:
		n = int(l0)
	case l0 == 0x80:
		return nil, protoErr("indefinite length")
	default:
		k := int(l0 & 0x7f)
		if k > 4 {
			return nil, protoErr("length of %d octets", k)
		}
		for range k {
			b, err := br.ReadByte()
			if err != nil {
				return nil, unexpected(err)
			}
			hdr = append(hdr, b)
			n = n<<8 | int(b)
		}
	}
	if n > max {
		return nil, protoErr("message of %d bytes exceeds %d", n, max)
	}
	buf := make([]byte, len(hdr)+n)
	copy(buf, hdr)
	if _, err := io.ReadFull(br, buf[len(hdr):]); err != nil {
		return nil, unexpected(err)
	}
	return buf, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// message is one decoded request.
type message struct {
	id       int64
	op       any // one of the *…Request types below
	controls []control
}

type control struct {
	oid      string
	critical bool
}

type bindRequest struct {
	version  int64
	name     string
	simple   bool // false: SASL
	password string
}

type unbindRequest struct{}

type searchRequest struct {
	base      string
	scope     int64
	sizeLimit int64
	timeLimit int64
	typesOnly bool
	filter    *filter
	attrs     []string
}

type extendedRequest struct {
	oid string
}

type abandonRequest struct{}

// writeRequest is any request that would change the directory (or, for
// compare, one we do not offer): all get a response of tag respTag.
type writeRequest struct {
	respTag ber.Tag
	name    string
}

// decodeMessage decodes an LDAPMessage. Every structural check is explicit:
// the ber package builds a generic tree and leaves the meaning to us.
func decodeMessage(data []byte) (*message, error) {
	p, err := ber.DecodePacketErr(data)
	if err != nil {
		return nil, protoErr("%v", err)
	}
	if !is(p, ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence) || len(p.Children) < 2 || len(p.Children) > 3 {
		return nil, protoErr("not an LDAPMessage")
	}
	id, err := integer(p.Children[0], ber.ClassUniversal, ber.TagInteger)
	if err != nil {
		return nil, err
	}
	if id < 1 || id > maxMessageID {
		return nil, protoErr("message ID %d", id)
	}
	m := &message{id: id}
	if len(p.Children) == 3 {
		if m.controls, err = decodeControls(p.Children[2]); err != nil {
			return nil, err
		}
	}
	op := p.Children[1]
	if op.ClassType != ber.ClassApplication {
		return nil, protoErr("operation class %d", op.ClassType)
	}
	switch op.Tag {
	case appBindRequest:
		m.op, err = decodeBind(op)
	case appUnbindRequest:
		m.op = unbindRequest{}
	case appSearchRequest:
		m.op, err = decodeSearch(op)
	case appExtendedRequest:
		m.op, err = decodeExtended(op)
	case appAbandonRequest:
		m.op = abandonRequest{}
	case appModifyRequest, appAddRequest, appModifyDNRequest, appCompareRequest:
		if op.TagType != ber.TypeConstructed || len(op.Children) == 0 {
			return nil, protoErr("malformed request %d", op.Tag)
		}
		name, err := str(op.Children[0], ber.ClassUniversal, ber.TagOctetString)
		if err != nil {
			return nil, err
		}
		m.op = writeRequest{respTag: op.Tag + 1, name: name}
	case appDelRequest:
		if op.TagType != ber.TypePrimitive {
			return nil, protoErr("malformed delete request")
		}
		m.op = writeRequest{respTag: op.Tag + 1, name: op.Data.String()}
	default:
		return nil, protoErr("unknown operation %d", op.Tag)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func decodeControls(p *ber.Packet) ([]control, error) {
	if !is(p, ber.ClassContext, ber.TypeConstructed, 0) {
		return nil, protoErr("controls")
	}
	out := make([]control, 0, len(p.Children))
	for _, c := range p.Children {
		if !is(c, ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence) || len(c.Children) < 1 || len(c.Children) > 3 {
			return nil, protoErr("control")
		}
		oid, err := str(c.Children[0], ber.ClassUniversal, ber.TagOctetString)
		if err != nil {
			return nil, err
		}
		ctl := control{oid: oid}
		for _, x := range c.Children[1:] {
			if is(x, ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean) {
				b, err := boolean(x)
				if err != nil {
					return nil, err
				}
				ctl.critical = b
			}
		}
		out = append(out, ctl)
	}
	return out, nil
}

func decodeBind(op *ber.Packet) (any, error) {
	if op.TagType != ber.TypeConstructed || len(op.Children) != 3 {
		return nil, protoErr("malformed bind request")
	}
	v, err := integer(op.Children[0], ber.ClassUniversal, ber.TagInteger)
	if err != nil {
		return nil, err
	}
	name, err := str(op.Children[1], ber.ClassUniversal, ber.TagOctetString)
	if err != nil {
		return nil, err
	}
	r := &bindRequest{version: v, name: name}
	a := op.Children[2]
	switch {
	case is(a, ber.ClassContext, ber.TypePrimitive, 0):
		r.simple = true
		r.password = a.Data.String()
	case a.ClassType == ber.ClassContext && a.Tag == 3:
		// SASL: recognised so that it is refused with authMethodNotSupported
		// rather than as a malformed request.
	default:
		return nil, protoErr("bind authentication choice")
	}
	return r, nil
}

func decodeSearch(op *ber.Packet) (any, error) {
	if op.TagType != ber.TypeConstructed || len(op.Children) != 8 {
		return nil, protoErr("malformed search request")
	}
	c := op.Children
	r := &searchRequest{}
	var err error
	if r.base, err = str(c[0], ber.ClassUniversal, ber.TagOctetString); err != nil {
		return nil, err
	}
	if r.scope, err = integer(c[1], ber.ClassUniversal, ber.TagEnumerated); err != nil {
		return nil, err
	}
	if r.scope < scopeBase || r.scope > scopeSub {
		return nil, protoErr("scope %d", r.scope)
	}
	if _, err = integer(c[2], ber.ClassUniversal, ber.TagEnumerated); err != nil { // derefAliases: we have no aliases
		return nil, err
	}
	if r.sizeLimit, err = integer(c[3], ber.ClassUniversal, ber.TagInteger); err != nil {
		return nil, err
	}
	if r.timeLimit, err = integer(c[4], ber.ClassUniversal, ber.TagInteger); err != nil {
		return nil, err
	}
	if r.sizeLimit < 0 || r.timeLimit < 0 {
		return nil, protoErr("negative limit")
	}
	if !is(c[5], ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean) {
		return nil, protoErr("typesOnly")
	}
	if r.typesOnly, err = boolean(c[5]); err != nil {
		return nil, err
	}
	if r.filter, err = decodeFilter(c[6], 0); err != nil {
		return nil, err
	}
	if !is(c[7], ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence) {
		return nil, protoErr("attribute list")
	}
	for _, a := range c[7].Children {
		s, err := str(a, ber.ClassUniversal, ber.TagOctetString)
		if err != nil {
			return nil, err
		}
		r.attrs = append(r.attrs, s)
	}
	return r, nil
}

func decodeExtended(op *ber.Packet) (any, error) {
	if op.TagType != ber.TypeConstructed || len(op.Children) < 1 || len(op.Children) > 2 {
		return nil, protoErr("malformed extended request")
	}
	if !is(op.Children[0], ber.ClassContext, ber.TypePrimitive, 0) {
		return nil, protoErr("extended request name")
	}
	return &extendedRequest{oid: op.Children[0].Data.String()}, nil
}

// is tells a packet's identifier.
func is(p *ber.Packet, class ber.Class, typ ber.Type, tag ber.Tag) bool {
	return p.ClassType == class && p.TagType == typ && p.Tag == tag
}

// str reads a primitive string. LDAPString is UTF-8 (RFC 4511 4.1.2); a name
// that is not cannot be one of ours, and refusing it here keeps invalid text
// out of logs and folding.
func str(p *ber.Packet, class ber.Class, tag ber.Tag) (string, error) {
	if !is(p, class, ber.TypePrimitive, tag) {
		return "", protoErr("want string, got class %d tag %d", p.ClassType, p.Tag)
	}
	b := p.Data.Bytes()
	if !utf8.Valid(b) {
		return "", protoErr("string is not UTF-8")
	}
	return string(b), nil
}

// integer reads a primitive INTEGER or ENUMERATED of at most 4 octets (every
// LDAP integer is bounded by maxInt, 2^31-1). The ber package's own value
// ignores overflow errors, so the octets are read here.
func integer(p *ber.Packet, class ber.Class, tag ber.Tag) (int64, error) {
	if !is(p, class, ber.TypePrimitive, tag) {
		return 0, protoErr("want integer, got class %d tag %d", p.ClassType, p.Tag)
	}
	b := p.Data.Bytes()
	if len(b) == 0 || len(b) > 5 {
		return 0, protoErr("integer of %d octets", len(b))
	}
	v := int64(int8(b[0])) // sign-extend the first octet
	for _, x := range b[1:] {
		v = v<<8 | int64(x)
	}
	if v < -1<<31 || v > maxMessageID {
		return 0, protoErr("integer %d out of range", v)
	}
	return v, nil
}

func boolean(p *ber.Packet) (bool, error) {
	b := p.Data.Bytes()
	if len(b) != 1 {
		return false, protoErr("boolean of %d octets", len(b))
	}
	return b[0] != 0, nil
}

// Encoding.

func octets(s string) *ber.Packet {
	return ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, s, "")
}

// result builds an LDAPResult-shaped response.
func result(tag ber.Tag, code int, matched, diag string) *ber.Packet {
	p := ber.Encode(ber.ClassApplication, ber.TypeConstructed, tag, nil, "")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(code), ""))
	p.AppendChild(octets(matched))
	p.AppendChild(octets(diag))
	return p
}

// extendedResult builds an ExtendedResponse; name or value empty are left out.
func extendedResult(code int, diag, name, value string) *ber.Packet {
	p := result(appExtendedResponse, code, "", diag)
	if name != "" {
		p.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 10, name, ""))
	}
	if value != "" {
		p.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 11, value, ""))
	}
	return p
}

// entryPacket builds a SearchResultEntry.
func entryPacket(e *entry, sel selection, typesOnly bool) *ber.Packet {
	p := ber.Encode(ber.ClassApplication, ber.TypeConstructed, appSearchResultEntry, nil, "")
	p.AppendChild(octets(e.dn))
	list := ber.NewSequence("")
	for i := range e.attrs {
		a := &e.attrs[i]
		if !sel.wants(a.key) || len(a.vals) == 0 {
			continue
		}
		pa := ber.NewSequence("")
		pa.AppendChild(octets(attrName(a.key)))
		set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "")
		if !typesOnly {
			for _, v := range a.vals {
				set.AppendChild(octets(v))
			}
		}
		pa.AppendChild(set)
		list.AppendChild(pa)
	}
	p.AppendChild(list)
	return p
}

// envelope wraps a protocol op in an LDAPMessage.
func envelope(id int64, op *ber.Packet) []byte {
	m := ber.NewSequence("")
	m.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, ""))
	m.AppendChild(op)
	return m.Bytes()
}
