package api

import (
	"errors"
	"fmt"
	"net/http"

	"govmail/internal/address"
	"govmail/internal/auth"
	"govmail/internal/authz"
	"govmail/internal/directory"
	"govmail/internal/lifecycle"
	"govmail/internal/password"
	"govmail/internal/store"
)

// FieldError is what was wrong with one input field.
type FieldError struct {
	Code string `json:"code"`
	VI   string `json:"message_vi"`
	EN   string `json:"message_en"`
}

// Error is the one error shape of the API:
// {"error":{"code","message_vi","message_en","fields"}}. Status is the HTTP status.
type Error struct {
	Status int                   `json:"-"`
	Code   string                `json:"code"`
	VI     string                `json:"message_vi"`
	EN     string                `json:"message_en"`
	Fields map[string]FieldError `json:"fields,omitempty"`
	// cause is kept for the log, never sent.
	cause error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.EN, e.cause)
	}
	return e.Code + ": " + e.EN
}

func (e *Error) Unwrap() error { return e.cause }

func newError(status int, code, vi, en string) *Error {
	return &Error{Status: status, Code: code, VI: vi, EN: en}
}

// Errors the handlers return by name.
func errUnauthorized() *Error {
	return newError(http.StatusUnauthorized, "unauthorized",
		"Cần xác thực: gửi mã truy cập API trong tiêu đề Authorization: Bearer gm_… hoặc đăng nhập webmail.",
		"Authentication required: send an API token as Authorization: Bearer gm_… or log in to webmail.")
}

func errForbidden() *Error {
	return newError(http.StatusForbidden, "forbidden",
		"Bạn không có quyền thực hiện thao tác này với đối tượng này.",
		"You are not allowed to do this to this object.")
}

func errScope(scope string) *Error {
	return newError(http.StatusForbidden, "insufficient_scope",
		fmt.Sprintf("Mã truy cập API không có phạm vi %q cần cho thao tác này.", scope),
		fmt.Sprintf("The API token lacks the scope %q this needs.", scope))
}

func errNotFound(what string) *Error {
	return newError(http.StatusNotFound, "not_found",
		fmt.Sprintf("Không tìm thấy %s.", whatVI(what)),
		fmt.Sprintf("No such %s.", what))
}

func whatVI(what string) string {
	switch what {
	case "unit":
		return "đơn vị"
	case "account":
		return "tài khoản"
	case "request":
		return "đề nghị"
	case "delegation":
		return "ủy quyền"
	case "report":
		return "báo cáo"
	case "route":
		return "đường dẫn API"
	}
	return what
}

func errInternal() *Error {
	return newError(http.StatusInternalServerError, "internal",
		"Lỗi hệ thống. Vui lòng thử lại sau hoặc liên hệ bộ phận hỗ trợ.",
		"Internal error. Try again later or contact support.")
}

// invalid collects field errors of one request (400).
type invalid struct {
	fields map[string]FieldError
}

func (v *invalid) add(field, code, vi, en string) {
	if v.fields == nil {
		v.fields = map[string]FieldError{}
	}
	if _, ok := v.fields[field]; !ok {
		v.fields[field] = FieldError{Code: code, VI: vi, EN: en}
	}
}

func (v *invalid) required(field string) {
	v.add(field, "required", "Trường này là bắt buộc.", "This field is required.")
}

func (v *invalid) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Status: http.StatusBadRequest, Code: "validation",
		VI: "Dữ liệu gửi lên không hợp lệ; xem chi tiết từng trường.", EN: "The input is invalid; see the fields.", Fields: v.fields}
}

// onField attaches a field name to the refusal err maps to, so that a client can
// show the message beside the right input.
type onField struct {
	field string
	err   error
}

func (e onField) Error() string { return e.field + ": " + e.err.Error() }
func (e onField) Unwrap() error { return e.err }

func atField(field string, err error) error {
	if err == nil {
		return nil
	}
	return onField{field, err}
}

// toError maps every error a handler meets to the API's error, in one place
// (DESIGN: "a protocol layer maps them to protocol replies in one place"). The
// domain packages' own Vietnamese and English texts are passed on unchanged;
// anything unknown becomes a 500 that says nothing of the internals.
func toError(err error) *Error {
	var out *Error
	if errors.As(err, &out) {
		return out
	}
	field := ""
	if errors.Is(err, authz.ErrForbidden) {
		return errForbidden()
	}
	var of onField
	if errors.As(err, &of) {
		field = of.field
	}
	out = mapDomain(err)
	out.cause = err
	if field != "" && out.Status != http.StatusInternalServerError && out.Status != http.StatusNotFound {
		out.Fields = map[string]FieldError{field: {Code: out.Code, VI: out.VI, EN: out.EN}}
	}
	return out
}

func mapDomain(err error) *Error {
	var pe *password.Error
	var ae *address.Error
	var de *directory.Error
	var le *lifecycle.Error
	var au *auth.Error
	switch {
	case errors.As(err, &pe):
		e := newError(http.StatusUnprocessableEntity, "password_policy", pe.Error(), pe.English())
		code := "password_policy"
		if len(pe.Violations) > 0 {
			code = string(pe.Violations[0].Code)
		}
		e.Fields = map[string]FieldError{"password": {Code: code, VI: pe.Error(), EN: pe.English()}}
		return e
	case errors.As(err, &de):
		// The directory's text names the address and the rule; its cause says
		// whether it is a clash (409) or another refusal (422).
		if errors.Is(de.Err, address.ErrTaken) || errors.Is(de.Err, store.ErrExists) {
			return newError(http.StatusConflict, "address_taken", de.VI, de.EN)
		}
		return newError(http.StatusUnprocessableEntity, "rule_refused", de.VI, de.EN)
	case errors.As(err, &ae):
		if ae.Code == address.CodeTaken {
			return newError(http.StatusConflict, "address_taken", ae.VI, ae.EN)
		}
		return newError(http.StatusUnprocessableEntity, "address_"+string(ae.Code), ae.VI, ae.EN)
	case errors.As(err, &le):
		if errors.Is(le.Err, lifecycle.ErrState) {
			return newError(http.StatusConflict, "wrong_state", le.VI, le.EN)
		}
		return newError(http.StatusUnprocessableEntity, "rule_refused", le.VI, le.EN)
	case errors.As(err, &au):
		return newError(http.StatusUnauthorized, au.Code, au.VI, au.EN)
	case errors.Is(err, store.ErrExists):
		return newError(http.StatusConflict, "address_taken",
			"Địa chỉ hoặc đối tượng này đã tồn tại (Điều 5, một không gian tên chung).",
			"This address or object already exists (Article 5, one namespace).")
	case errors.Is(err, store.ErrNotFound):
		return newError(http.StatusNotFound, "not_found", "Không tìm thấy đối tượng.", "Not found.")
	}
	return errInternal()
}
