package store

import (
	"context"
	"time"
)

// UnitKind is a kind of unit (R1.1).
type UnitKind string

// Unit kinds: top-level units and sub-units beneath them.
const (
	UnitProvinceAgency UnitKind = "province_agency"
	UnitCommune        UnitKind = "commune"
	UnitWard           UnitKind = "ward"
	UnitSubUnit        UnitKind = "sub_unit"
	UnitOther          UnitKind = "other"
)

// Valid tells a known kind.
func (k UnitKind) Valid() bool {
	switch k {
	case UnitProvinceAgency, UnitCommune, UnitWard, UnitSubUnit, UnitOther:
		return true
	}
	return false
}

// Unit is a body in the unit tree (cơ quan, đơn vị; xã, phường; phòng).
type Unit struct {
	ID                int64
	ParentID          int64 // 0 for a top-level unit
	Kind              UnitKind
	Name              string
	Abbr              string // its own label: skhcn, chiengcoi, ht
	LocalPart         string // its full local part: skhcn, ht.skhcn
	Code              string // administrative code, if any
	ManagerID         int64  // account of the head or the person they assign
	SecurityContactID int64  // Điều 12.1
	Notes             string
	CreatedAt         time.Time
}

// Roles of an account beyond its unit roles (which are on Unit).
const (
	RoleUser     = "user"
	RoleOperator = "operator" // Sở KHCN (Điều 7.2, 14)
)

// AuthLogEntry is an authentication event (R11.2).
type AuthLogEntry struct {
	Time     time.Time
	Proto    string
	Username string
	IP       string
	Success  bool
	Reason   string
}

// AuditEntry is an operator or unit-manager action (R11.2).
type AuditEntry struct {
	ID     int64
	Time   time.Time
	Actor  string // address of the person, or "system:<job>"
	Action string // e.g. unit.create, account.lock
	Target string // address or unit local part
	Detail string
}

// AddressUse says what holds an address in the one namespace (R5.7).
type AddressUse string

// Address uses; "" means free.
const (
	UseNone     AddressUse = ""
	UseAccount  AddressUse = "account"
	UseAlias    AddressUse = "alias"
	UseUnit     AddressUse = "unit"
	UseReleased AddressUse = "released" // revoked within the quarantine period (R7.6)
)

// DirectoryStore is the directory part of the store.
type DirectoryStore interface {
	CreateUnit(ctx context.Context, u *Unit) error
	UpdateUnit(ctx context.Context, u *Unit) error
	UnitByID(ctx context.Context, id int64) (*Unit, error)
	UnitByLocalPart(ctx context.Context, localPart string) (*Unit, error)
	ListUnits(ctx context.Context) ([]Unit, error)

	// AddressUse tells what holds address (local@domain) at time now: an account,
	// an alias, a unit's local part (any domain), or a recent release.
	AddressUse(ctx context.Context, address string, now time.Time) (AddressUse, error)
	AddAlias(ctx context.Context, address string, accountID int64, until time.Time) error
	RemoveAlias(ctx context.Context, address string) error
	// ResolveAddress finds the account an address delivers to: its own or an alias.
	ResolveAddress(ctx context.Context, address string, now time.Time) (*Account, error)
	ReleaseAddress(ctx context.Context, address string, at, reusableFrom time.Time) error

	SetRole(ctx context.Context, accountID int64, role string) error
	AccountRole(ctx context.Context, accountID int64) (string, error)
	ListAccounts(ctx context.Context, f AccountFilter) ([]Account, error)
	// PasswordHistory returns the last n hashes, newest first (R6.4 history).
	PasswordHistory(ctx context.Context, accountID int64, n int) ([]string, error)

	AppendAuthLog(ctx context.Context, e AuthLogEntry) error
	SearchAuthLog(ctx context.Context, username string, since, until time.Time, limit int) ([]AuthLogEntry, error)
	AppendAudit(ctx context.Context, e AuditEntry) error
	SearchAudit(ctx context.Context, target string, since, until time.Time, limit int) ([]AuditEntry, error)
}

// AccountFilter selects accounts.
type AccountFilter struct {
	UnitID int64 // 0: any
	State  AccountState
	Query  string // folded name or address contains
	Limit  int
}
