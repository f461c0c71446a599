package ldapd

import (
	"fmt"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// filterOp is the choice of an LDAP Filter (RFC 4511 4.5.1.7).
type filterOp uint8

const (
	fAnd filterOp = iota
	fOr
	fNot
	fEq
	fSub
	fGE
	fLE
	fPresent
	fApprox
	fExt
)

// Bounds on a filter: deep nesting costs recursion, many nodes cost time per
// entry times ten thousand entries; real clients send a dozen nodes.
const (
	maxFilterDepth = 32
	maxFilterNodes = 512
)

// filter is a decoded search filter. Assertion values are kept as sent (for
// logs) and normalised for matching.
type filter struct {
	op   filterOp
	sub  []*filter
	desc string // attribute description as sent
	attr string // its key (attrKey)

	value, norm string // equality, ordering, approx

	initial, final     string   // substrings, as sent
	any                []string // substrings, as sent
	nInitial, nFinal   string   // normalised
	nAny               []string // normalised
	hasInitial, hasFin bool
}

// decodeFilter reads a Filter. nodes counts the nodes decoded so far.
func decodeFilter(p *ber.Packet, depth int) (*filter, error) {
	n := 0
	return decodeFilterN(p, depth, &n)
}

func decodeFilterN(p *ber.Packet, depth int, nodes *int) (*filter, error) {
	*nodes++
	if depth > maxFilterDepth || *nodes > maxFilterNodes {
		return nil, protoErr("filter too complex")
	}
	if p.ClassType != ber.ClassContext {
		return nil, protoErr("filter class %d", p.ClassType)
	}
	f := &filter{op: filterOp(p.Tag)}
	switch p.Tag {
	case 0, 1: // and, or; empty ones are the absolute true and false of RFC 4526
		if p.TagType != ber.TypeConstructed {
			return nil, protoErr("filter set")
		}
		for _, c := range p.Children {
			s, err := decodeFilterN(c, depth+1, nodes)
			if err != nil {
				return nil, err
			}
			f.sub = append(f.sub, s)
		}
	case 2: // not
		if p.TagType != ber.TypeConstructed || len(p.Children) != 1 {
			return nil, protoErr("not filter")
		}
		s, err := decodeFilterN(p.Children[0], depth+1, nodes)
		if err != nil {
			return nil, err
		}
		f.sub = []*filter{s}
	case 3, 5, 6, 8: // equalityMatch, greaterOrEqual, lessOrEqual, approxMatch
		if p.TagType != ber.TypeConstructed || len(p.Children) != 2 {
			return nil, protoErr("attribute value assertion")
		}
		if err := f.setDesc(p.Children[0]); err != nil {
			return nil, err
		}
		v, err := assertion(p.Children[1], ber.ClassUniversal, ber.TagOctetString)
		if err != nil {
			return nil, err
		}
		f.value, f.norm = v, normValue(f.attr, v)
	case 4: // substrings
		if p.TagType != ber.TypeConstructed || len(p.Children) != 2 {
			return nil, protoErr("substring filter")
		}
		if err := f.setDesc(p.Children[0]); err != nil {
			return nil, err
		}
		seq := p.Children[1]
		if !is(seq, ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence) || len(seq.Children) == 0 {
			return nil, protoErr("substrings")
		}
		for i, c := range seq.Children {
			if c.ClassType != ber.ClassContext || c.TagType != ber.TypePrimitive {
				return nil, protoErr("substring")
			}
			v := c.Data.String()
			switch {
			case c.Tag == 0 && i == 0:
				f.initial, f.nInitial, f.hasInitial = v, normValue(f.attr, v), true
			case c.Tag == 1:
				f.any = append(f.any, v)
				f.nAny = append(f.nAny, normValue(f.attr, v))
			case c.Tag == 2 && i == len(seq.Children)-1:
				f.final, f.nFinal, f.hasFin = v, normValue(f.attr, v), true
			default:
				return nil, protoErr("substring order")
			}
		}
	case 7: // present
		if p.TagType != ber.TypePrimitive {
			return nil, protoErr("present filter")
		}
		f.desc = p.Data.String()
		f.attr = attrKey(f.desc)
	case 9: // extensibleMatch: no extensible rules here, always Undefined
		if p.TagType != ber.TypeConstructed {
			return nil, protoErr("extensible filter")
		}
	default:
		return nil, protoErr("filter choice %d", p.Tag)
	}
	return f, nil
}

func (f *filter) setDesc(p *ber.Packet) error {
	d, err := str(p, ber.ClassUniversal, ber.TagOctetString)
	if err != nil {
		return err
	}
	f.desc, f.attr = d, attrKey(d)
	return nil
}

// assertion reads an assertion value: any octets (a value that is not UTF-8
// simply matches nothing).
func assertion(p *ber.Packet, class ber.Class, tag ber.Tag) (string, error) {
	if !is(p, class, ber.TypePrimitive, tag) {
		return "", protoErr("assertion value")
	}
	return p.Data.String(), nil
}

// tri is the three-valued logic of LDAP filters.
type tri int8

const (
	tFalse tri = iota
	tTrue
	tUndefined
)

// eval evaluates the filter against an entry.
func (f *filter) eval(e *entry) tri {
	switch f.op {
	case fAnd:
		r := tTrue
		for _, s := range f.sub {
			switch s.eval(e) {
			case tFalse:
				return tFalse
			case tUndefined:
				r = tUndefined
			}
		}
		return r
	case fOr:
		r := tFalse
		for _, s := range f.sub {
			switch s.eval(e) {
			case tTrue:
				return tTrue
			case tUndefined:
				r = tUndefined
			}
		}
		return r
	case fNot:
		switch f.sub[0].eval(e) {
		case tTrue:
			return tFalse
		case tFalse:
			return tTrue
		}
		return tUndefined
	case fPresent:
		if f.attr == "objectclass" {
			return tTrue
		}
		if a := e.find(f.attr); a != nil {
			return tTrue
		}
		return tFalse
	case fEq, fApprox, fGE, fLE, fSub:
		if !knownAttr(f.attr) {
			return tUndefined
		}
		a := e.find(f.attr)
		if a == nil {
			return tFalse
		}
		for _, v := range a.normalised() {
			if f.match(v) {
				return tTrue
			}
		}
		return tFalse
	}
	return tUndefined
}

// match compares one normalised value. approxMatch is equality on folded
// text, which is as approximate as Vietnamese names need.
func (f *filter) match(v string) bool {
	switch f.op {
	case fEq, fApprox:
		return v == f.norm
	case fGE:
		return v >= f.norm
	case fLE:
		return v <= f.norm
	case fSub:
		if f.hasInitial {
			if !strings.HasPrefix(v, f.nInitial) {
				return false
			}
			v = v[len(f.nInitial):]
		}
		for _, a := range f.nAny {
			i := strings.Index(v, a)
			if i < 0 {
				return false
			}
			v = v[i+len(a):]
		}
		if f.hasFin {
			return strings.HasSuffix(v, f.nFinal)
		}
		return true
	}
	return false
}

// peopleText tells the attributes of a person that the store's account query
// (AccountFilter.Query: folded name or address contains) covers.
func peopleText(key string) bool {
	switch key {
	case "cn", "displayname", "sn", "givenname", "mail", "uid":
		return true
	}
	return false
}

// hint returns a text that every person entry matching f contains in its
// folded name or its address, for store.AccountFilter.Query; "" when there is
// none. It is sound because cn and displayName are the display name, sn and
// givenName words of it, mail and uid the address, and because the hint is
// the case-ignored assertion text: the store folds it for the name (folding
// ignores case and spaces, so that is the fold of the assertion) and
// lower-cases it for the address (the case-ignored assertion itself). The
// store's answer is a superset; eval still decides.
func (f *filter) hint() string {
	switch f.op {
	case fAnd:
		best := ""
		for _, s := range f.sub {
			if h := s.hint(); len(h) > len(best) {
				best = h
			}
		}
		return best
	case fOr:
		if len(f.sub) == 0 {
			return ""
		}
		h := f.sub[0].hint()
		for _, s := range f.sub[1:] {
			if s.hint() != h {
				return ""
			}
		}
		return h
	case fEq, fApprox:
		if peopleText(f.attr) {
			return caseIgnore(f.value)
		}
	case fSub:
		if peopleText(f.attr) {
			best := ""
			for _, c := range f.components() {
				if h := caseIgnore(c); len(h) > len(best) {
					best = h
				}
			}
			return best
		}
	}
	return ""
}

func (f *filter) components() []string {
	var c []string
	if f.hasInitial {
		c = append(c, f.initial)
	}
	c = append(c, f.any...)
	if f.hasFin {
		c = append(c, f.final)
	}
	return c
}

// String writes the filter in the string form of RFC 4515, for logs.
func (f *filter) String() string {
	var b strings.Builder
	f.write(&b)
	return b.String()
}

func (f *filter) write(b *strings.Builder) {
	b.WriteByte('(')
	switch f.op {
	case fAnd, fOr, fNot:
		b.WriteByte("&|!"[f.op])
		for _, s := range f.sub {
			s.write(b)
		}
	case fEq, fGE, fLE, fApprox:
		b.WriteString(escapeFilter(f.desc))
		b.WriteString([...]string{fEq: "=", fGE: ">=", fLE: "<=", fApprox: "~="}[f.op])
		b.WriteString(escapeFilter(f.value))
	case fSub:
		b.WriteString(escapeFilter(f.desc))
		b.WriteByte('=')
		b.WriteString(escapeFilter(f.initial))
		b.WriteByte('*')
		for _, a := range f.any {
			b.WriteString(escapeFilter(a))
			b.WriteByte('*')
		}
		b.WriteString(escapeFilter(f.final))
	case fPresent:
		b.WriteString(escapeFilter(f.desc))
		b.WriteString("=*")
	default:
		b.WriteString(":extensible:")
	}
	b.WriteByte(')')
}

func escapeFilter(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '*', '(', ')', '\\', 0:
			fmt.Fprintf(&b, `\%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
