package i18n

// smimeMessages is the text of S/MIME in webmail (N2, Thông tư 39/2017): the
// verification shown in the read view, the signing certificate on the settings
// page and the signing option of compose.
func smimeMessages() map[string][2]string {
	return map[string][2]string{
		"read.smime_signer":           {"Người ký:", "Signed by:"},
		"read.smime_not_after":        {"chứng thư hết hạn %s", "certificate expires %s"},
		"read.smime_sig_valid":        {"Chữ ký số hợp lệ: nội dung không bị thay đổi sau khi ký.", "The signature is valid: the content was not changed after signing."},
		"read.smime_sig_invalid":      {"Chữ ký số KHÔNG đúng: nội dung có thể đã bị thay đổi sau khi ký.", "The signature does NOT verify: the content may have been changed after signing."},
		"read.smime_chain_valid":      {"Chứng thư số hợp lệ, do tổ chức chứng thực tin cậy cấp.", "The certificate is valid and issued by a trusted certification authority."},
		"read.smime_chain_invalid":    {"Không xác thực được chứng thư số: %s", "The certificate could not be verified: %s"},
		"read.smime_no_roots":         {"Chưa cấu hình tổ chức chứng thực tin cậy nên không xác thực được chứng thư số.", "No trusted certification authorities are configured, so the certificate cannot be verified."},
		"read.smime_expired":          {"chứng thư đã hết hạn hoặc chưa có hiệu lực", "the certificate has expired or is not yet valid"},
		"read.smime_unknown_ca":       {"chứng thư không do tổ chức chứng thực tin cậy cấp", "the certificate was not issued by a trusted certification authority"},
		"read.smime_usage":            {"chứng thư không dùng để ký thư điện tử", "the certificate is not for signing e-mail"},
		"read.smime_unreadable":       {"không đọc được chữ ký số", "the signature cannot be read"},
		"read.smime_from_mismatch":    {"Lưu ý: địa chỉ trong chứng thư (%s) khác địa chỉ người gửi.", "Note: the certificate's address (%s) differs from the sender's."},
		"settings.smime.heading":      {"Chữ ký số S/MIME", "S/MIME digital signature"},
		"settings.smime.hint":         {"Tải lên tệp chứng thư số (.p12 hoặc .pfx) cấp cho địa chỉ thư của bạn để ký số thư gửi đi. Khóa bí mật được mã hóa khi lưu trên máy chủ.", "Upload your certificate file (.p12 or .pfx) issued for your e-mail address to sign the mail you send. The private key is stored encrypted on the server."},
		"settings.smime.none":         {"Chưa có chứng thư số.", "No certificate yet."},
		"settings.smime.holder":       {"Chủ thể", "Holder"},
		"settings.smime.issuer":       {"Tổ chức cấp", "Issuer"},
		"settings.smime.not_after":    {"Hiệu lực đến", "Valid until"},
		"settings.smime.expired":      {"Đã hết hạn", "Expired"},
		"settings.smime.file":         {"Tệp chứng thư số (.p12, .pfx)", "Certificate file (.p12, .pfx)"},
		"settings.smime.password":     {"Mật khẩu của tệp", "File password"},
		"settings.smime.upload":       {"Tải lên", "Upload"},
		"settings.smime.replace":      {"Thay chứng thư số", "Replace the certificate"},
		"settings.smime.err_file":     {"Tệp không phải chứng thư số PKCS#12 (.p12, .pfx) có kèm khóa bí mật.", "The file is not a PKCS#12 certificate (.p12, .pfx) with its private key."},
		"settings.smime.err_password": {"Mật khẩu của tệp chứng thư số không đúng.", "The certificate file's password is wrong."},
		"settings.smime.err_email":    {"Chứng thư số không cấp cho địa chỉ %s.", "The certificate was not issued for %s."},
		"settings.smime.err_expired":  {"Chứng thư số đã hết hạn hoặc chưa có hiệu lực.", "The certificate has expired or is not yet valid."},
		"settings.smime.err_usage":    {"Chứng thư số này không dùng để ký thư điện tử.", "This certificate is not for signing e-mail."},
		"notice.smime_saved":          {"Đã lưu chứng thư số S/MIME.", "The S/MIME certificate was saved."},
		"compose.smime_sign":          {"Ký số S/MIME", "Sign with S/MIME"},
		"compose.err.smime_none":      {"Không ký số được: chưa có chứng thư số dùng được. Hãy tải lên chứng thư trong Cài đặt.", "Cannot sign: no usable certificate. Upload one in Settings."},
		"compose.err.smime_expired":   {"Không ký số được: chứng thư số đã hết hạn. Hãy tải lên chứng thư mới trong Cài đặt.", "Cannot sign: the certificate has expired. Upload a new one in Settings."},
	}
}
