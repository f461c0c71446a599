package ldapd

import (
	"strings"

	"govmail/internal/store"
)

// attr is one attribute of an entry.
type attr struct {
	key  string
	vals []string
	norm []string // normalised values, computed on first match
}

func (a *attr) normalised() []string {
	if a.norm == nil {
		a.norm = make([]string, len(a.vals))
		for i, v := range a.vals {
			a.norm[i] = normValue(a.key, v)
		}
	}
	return a.norm
}

// entry is one directory entry, built per search from the store.
type entry struct {
	dn    string
	attrs []attr
}

// add appends an attribute, leaving out empty values: an LDAP attribute has
// at least one value, and an empty one would show as a blank field.
func (e *entry) add(key string, vals ...string) {
	var keep []string
	for _, v := range vals {
		if v != "" {
			keep = append(keep, v)
		}
	}
	if len(keep) > 0 {
		e.attrs = append(e.attrs, attr{key: key, vals: keep})
	}
}

func (e *entry) find(key string) *attr {
	for i := range e.attrs {
		if e.attrs[i].key == key {
			return &e.attrs[i]
		}
	}
	return nil
}

// selection is the attribute list of a search request (RFC 4511 4.5.1.8).
type selection struct {
	all  bool // "*" or an empty list
	oper bool // "+": operational attributes, which only the root DSE has here
	keys map[string]bool
}

func newSelection(list []string) selection {
	s := selection{keys: map[string]bool{}}
	if len(list) == 0 {
		s.all = true
	}
	for _, a := range list {
		switch a {
		case "*":
			s.all = true
		case "+":
			s.oper = true
		case "1.1": // no attributes; ignored when others are named too
		default:
			s.keys[attrKey(a)] = true
		}
	}
	return s
}

func (s selection) wants(key string) bool { return s.all || s.keys[key] }

// rootSelection is what the root DSE returns: its attributes are
// operational, but clients asking for "everything" expect to see them.
func (s selection) rootSelection() selection {
	return selection{all: s.all || s.oper, keys: s.keys}
}

// names splits a Vietnamese full name for sn and givenName: the family name
// (họ) comes first and the given name (tên) last, as in "Nguyễn Văn An". A
// one-word name is both, since inetOrgPerson requires a surname.
func names(full string) (sn, given string) {
	f := strings.Fields(full)
	if len(f) == 0 {
		return "", ""
	}
	return f[0], f[len(f)-1]
}

// unitInfo is what a person entry shows of a unit.
type unitInfo struct {
	name string // the unit's Vietnamese name (ou)
	top  string // the name of its top-level unit (o), for mail clients' "organisation"
}

// unitIndex maps unit IDs to their names and top-level units.
func unitIndex(units []store.Unit) map[int64]unitInfo {
	byID := make(map[int64]*store.Unit, len(units))
	for i := range units {
		byID[units[i].ID] = &units[i]
	}
	out := make(map[int64]unitInfo, len(units))
	for _, u := range byID {
		top := u
		// The unit tree is shallow (sở → phòng); the bound stops a cycle in
		// damaged data from hanging a search.
		for i := 0; top.ParentID != 0 && i < 16; i++ {
			p, ok := byID[top.ParentID]
			if !ok {
				break
			}
			top = p
		}
		out[u.ID] = unitInfo{name: u.Name, top: top.Name}
	}
	return out
}
