package smtpd

import (
	"errors"
	"fmt"
	"io"

	"github.com/emersion/go-smtp"

	"govmail/internal/auth"
	"govmail/internal/delivery"
	"govmail/internal/filter"
	"govmail/internal/store"
)

// Every SMTP reply govmail gives for a policy decision is made here, so that the
// codes stay consistent with RFC 5321 / 3463 and the texts with each other. Texts
// are English first in SMTP (remote MTAs and their logs), with the Vietnamese
// where a person will read it in a bounce.

func reply(code int, e1, e2, e3 int, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{e1, e2, e3}, Message: msg}
}

var (
	errAuthRequired = reply(530, 5, 7, 0, "Authentication required / Cần đăng nhập trước khi gửi thư")
	errNeedMail     = reply(503, 5, 5, 1, "MAIL FROM first")
	errTemporary    = reply(451, 4, 3, 0, "Temporary server error, try again later / Lỗi tạm thời, vui lòng thử lại sau")
)

func errSenderNotAllowed(from string) *smtp.SMTPError {
	return reply(553, 5, 7, 1, fmt.Sprintf("You may not send as <%s> / Bạn không được gửi thư dưới địa chỉ này", from))
}

func errBadAddress(a string) *smtp.SMTPError {
	return reply(501, 5, 1, 3, fmt.Sprintf("Bad address syntax <%s>", a))
}

func errRelayDenied(to string) *smtp.SMTPError {
	return reply(550, 5, 7, 1, fmt.Sprintf("Relaying denied: <%s> is not a local domain", to))
}

func errOutboundDisabled(to string) *smtp.SMTPError {
	return reply(550, 5, 7, 1, fmt.Sprintf("Outbound delivery is not enabled on this server; <%s> cannot be reached / Máy chủ chưa bật gửi thư ra ngoài", to))
}

func errNoSuchUser(to string) *smtp.SMTPError {
	return reply(550, 5, 1, 1, fmt.Sprintf("No such mailbox <%s> / Không có hộp thư này", to))
}

// R11.7: a full mailbox is a temporary refusal (the sender's server retries).
func errMailboxFull(to string) *smtp.SMTPError {
	return reply(452, 4, 2, 2, fmt.Sprintf("Mailbox <%s> is full / Hộp thư đã đầy", to))
}

// authReply maps an auth refusal to SMTP AUTH replies (RFC 4954).
func authReply(err error) error {
	var ae *auth.Error
	msg := "Authentication failed"
	if errors.As(err, &ae) {
		msg = ae.EN + " / " + ae.VI
	}
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		return reply(535, 5, 7, 8, msg)
	case errors.Is(err, auth.ErrThrottled):
		return reply(454, 4, 7, 0, msg)
	case errors.Is(err, auth.ErrMustChange), errors.Is(err, auth.ErrLocked):
		return reply(535, 5, 7, 8, msg)
	}
	return reply(454, 4, 7, 0, "Temporary authentication failure")
}

// dataReply maps a failed DATA to its reply; nothing was stored in every case.
func dataReply(err error) *smtp.SMTPError {
	var se *smtp.SMTPError
	var ve *filter.VirusError
	var spam *filter.SpamError
	var big *delivery.AttachmentTooLargeError
	switch {
	case errors.As(err, &big):
		return reply(552, 5, 3, 4, fmt.Sprintf("Attachment %q is larger than %d MB / Tệp đính kèm %q vượt quá %d MB", big.Name, big.Limit>>20, big.Name, big.Limit>>20))
	case errors.As(err, &ve):
		return reply(554, 5, 7, 1, fmt.Sprintf("Virus found: %s / Thư chứa virus: %s", ve.Signature, ve.Signature))
	case errors.As(err, &spam):
		return reply(554, 5, 7, 1, "Message refused as spam: "+spam.Reason+" / Thư bị từ chối vì là thư rác")
	case errors.Is(err, filter.ErrScannerUnavailable):
		// R4.1: never accepted unscanned; the sender's server retries.
		return reply(451, 4, 7, 1, "Virus scanner unavailable, try again later / Hệ thống quét virus tạm ngừng, vui lòng gửi lại sau")
	case errors.Is(err, filter.ErrSpamDefer):
		return reply(451, 4, 7, 1, "Spam check unavailable, try again later")
	case errors.Is(err, filter.ErrTooBigToScan):
		return reply(552, 5, 3, 4, "Message too big to scan / Thư quá lớn để quét virus")
	case errors.Is(err, store.ErrStorageFull):
		// Nothing was stored; the sender's server retries when space returns.
		return reply(452, 4, 3, 1, "Insufficient system storage, try again later / Máy chủ hết dung lượng lưu trữ, vui lòng gửi lại sau")
	case errors.Is(err, smtp.ErrDataTooLarge):
		return reply(552, 5, 3, 4, "Message too big for this server / Thư vượt quá dung lượng cho phép")
	case errors.Is(err, smtp.ErrTooLongLine):
		return reply(500, 5, 5, 2, "Line too long / Dòng quá dài")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return reply(451, 4, 4, 2, "Connection lost during DATA; nothing was stored")
	case errors.Is(err, errBareLineEnding):
		return reply(554, 5, 6, 11, "Bare CR or LF in message; lines must end with CRLF")
	case errors.As(err, &se):
		return se
	}
	return errTemporary
}

// errDMARCReject refuses mail whose From domain publishes p=reject and fails.
func errDMARCReject(domain string) *smtp.SMTPError {
	return reply(550, 5, 7, 1, fmt.Sprintf("Message rejected by the DMARC policy of %s / Thư bị từ chối theo chính sách DMARC của %s", domain, domain))
}
