package imapd

import (
	"context"
	"errors"
	"strings"
	"unicode"

	"github.com/emersion/go-imap/v2"
	"golang.org/x/text/unicode/norm"

	"govmail/internal/auth"
	"govmail/internal/store"
)

// Refusals decided in this package; imapError turns them into replies.
var (
	errReadOnly    = errors.New("imapd: mailbox is read-only")
	errDestMissing = errors.New("imapd: destination mailbox does not exist")
	errHasChildren = errors.New("imapd: mailbox has sub-folders")
	errBadName     = errors.New("imapd: invalid mailbox name")
	errBadUse      = errors.New("imapd: unsupported special-use attribute")
	errUnsupported = errors.New("imapd: not supported")
)

// imapError is the one place where an error of the store, of auth or of this
// package becomes an IMAP reply (DESIGN: a protocol layer maps sentinels in one
// place). utf8 says whether the client enabled UTF-8 text (IMAP4rev2 or
// UTF8=ACCEPT); before that, resp-text must be 7-bit (RFC 3501 TEXT-CHAR), so the
// Vietnamese text goes without its diacritics. internal is true for errors the
// client cannot act on, which the caller logs.
func imapError(err error, utf8 bool) (reply *imap.Error, internal bool) {
	var ie *imap.Error
	if errors.As(err, &ie) {
		return ie, false
	}
	no := func(code imap.ResponseCode, vi, en string) *imap.Error {
		if !utf8 {
			vi = asciiText(vi)
		}
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: code, Text: vi + " / " + en}
	}
	var ae *auth.Error
	if errors.As(err, &ae) {
		code := imap.ResponseCodeAuthenticationFailed
		switch {
		case errors.Is(err, auth.ErrMustChange):
			code = imap.ResponseCodeExpired // R6.1, R6.2
		case errors.Is(err, auth.ErrLocked):
			code = imap.ResponseCodeContactAdmin // Điều 8
		case errors.Is(err, auth.ErrThrottled):
			code = imap.ResponseCodeUnavailable
		}
		return no(code, ae.VI, ae.EN), false
	}
	switch {
	case errors.Is(err, errDestMissing):
		// RFC 3501 6.3.11, 6.4.7: APPEND and COPY to a missing mailbox say TRYCREATE.
		return no(imap.ResponseCodeTryCreate, "Thư mục đích không tồn tại.", "The destination mailbox does not exist."), false
	case errors.Is(err, store.ErrQuotaExceeded):
		return no(imap.ResponseCodeOverQuota,
			"Hộp thư đã vượt hạn mức dung lượng (Điều 11 Quy chế 115/2025/QĐ-UBND). Hãy xóa bớt thư hoặc đề nghị Sở Khoa học và Công nghệ tăng hạn mức.",
			"The mailbox is over its quota (Article 11 of Regulation 115/2025). Delete some mail or ask the Department of Science and Technology for a larger quota."), false
	case errors.Is(err, store.ErrStorageFull):
		return no(imap.ResponseCodeLimit, "Máy chủ hết dung lượng lưu trữ; thư chưa được lưu. Vui lòng thử lại sau.", "The server is out of storage; the message was not saved. Try again later."), false
	case errors.Is(err, store.ErrNotFound):
		return no(imap.ResponseCodeNonExistent, "Không có thư mục này.", "No such mailbox."), false
	case errors.Is(err, store.ErrExists):
		return no(imap.ResponseCodeAlreadyExists, "Thư mục đã tồn tại.", "The mailbox already exists."), false
	case errors.Is(err, errHasChildren):
		return no(imap.ResponseCodeHasChildren, "Thư mục còn thư mục con; hãy xóa các thư mục con trước.", "The mailbox has sub-folders; delete them first."), false
	case errors.Is(err, store.ErrMailboxInvalid), errors.Is(err, errBadName):
		return no(imap.ResponseCodeCannot, "Không thể thực hiện thao tác này với thư mục này.", "This operation is not possible on this mailbox."), false
	case errors.Is(err, errBadUse):
		return no(imap.ResponseCode("USEATTR"), "Thuộc tính thư mục đặc biệt không được hỗ trợ.", "Unsupported special-use attribute."), false
	case errors.Is(err, errReadOnly):
		return no(imap.ResponseCodeCannot, "Thư mục đang mở ở chế độ chỉ đọc.", "The mailbox is open read-only."), false
	case errors.Is(err, errUnsupported):
		return no(imap.ResponseCodeCannot, "Máy chủ không hỗ trợ yêu cầu này.", "This request is not supported."), false
	case errors.Is(err, store.ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return no(imap.ResponseCodeUnavailable, "Máy chủ đang tạm dừng, vui lòng thử lại sau.", "The server is unavailable; try again later."), true
	}
	return no(imap.ResponseCodeServerBug, "Lỗi máy chủ.", "Internal server error."), true
}

// asciiText writes Vietnamese without diacritics ("Mật khẩu" → "Mat khau"), the
// way it is written where only ASCII is safe; case and punctuation stay.
func asciiText(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case r == 'đ':
			b.WriteByte('d')
		case r == 'Đ':
			b.WriteByte('D')
		case unicode.Is(unicode.Mn, r):
		case r < 0x80:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
