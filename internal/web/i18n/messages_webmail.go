package i18n

// webmailMessages is the text of issue 8's address book, signature and
// vacation responder, and of the failed-DMARC warning of R17.3. New merges it
// with the others; a test checks no key is in two.
func webmailMessages() map[string][2]string {
	return map[string][2]string{
		"contacts.heading":         {"Danh bạ cá nhân", "Personal contacts"},
		"contacts.none":            {"Chưa có liên hệ nào. Các địa chỉ thêm vào đây sẽ được gợi ý khi soạn thư.", "No contacts yet. Addresses added here are suggested when you write."},
		"contacts.name":            {"Tên", "Name"},
		"contacts.address":         {"Địa chỉ thư", "E-mail address"},
		"contacts.add":             {"Thêm liên hệ", "Add contact"},
		"contacts.delete":          {"Xóa", "Delete"},
		"contacts.label":           {"Danh bạ cá nhân", "Personal contacts"},
		"contacts.bad":             {"Địa chỉ %q không hợp lệ.", "The address %q is not valid."},
		"contacts.full":            {"Danh bạ đã đủ %d liên hệ.", "The contact list already holds %d contacts."},
		"compose.suggestions":      {"Gợi ý địa chỉ", "Address suggestions"},
		"compose.suggest_hint":     {"Gõ tên người hoặc đơn vị để chọn trong danh bạ tỉnh; dùng phím mũi tên và Enter để chọn.", "Type a person's or a unit's name to pick from the provincial directory; use the arrow keys and Enter to choose."},
		"addressbook.all_staff":    {"Tất cả cán bộ %s", "All staff of %s"},
		"addressbook.all_communes": {"Tất cả UBND xã, phường", "All communes and wards"},
		"addressbook.all_agencies": {"Tất cả sở, ban, ngành tỉnh", "All provincial departments and agencies"},
		"addressbook.unit_box":     {"Hộp thư đơn vị", "Unit mailbox"},
		"settings.sig.heading":     {"Chữ ký", "Signature"},
		"settings.sig.hint":        {"Chữ ký được thêm vào cuối thư mới, sau dòng “-- ”.", "The signature is added at the end of new messages, below a “-- ” line."},
		"settings.sig.label":       {"Nội dung chữ ký", "Signature text"},
		"settings.sig.too_long":    {"Chữ ký dài quá %d ký tự.", "The signature is longer than %d characters."},
		"notice.contact_saved":     {"Đã lưu liên hệ.", "Contact saved."},
		"notice.contact_deleted":   {"Đã xóa liên hệ.", "Contact deleted."},
		"notice.sig_saved":         {"Đã lưu chữ ký.", "Signature saved."},
		"settings.vac.heading":     {"Trả lời tự động khi vắng mặt", "Out-of-office auto-reply"},
		"settings.vac.hint":        {"Khi bật, mỗi người gửi nhận một thư trả lời trong 7 ngày; không trả lời thư báo lỗi, thư tự động, thư nhóm và thư rác.", "When on, each sender gets one reply per 7 days; bounces, automatic messages, mailing lists and junk are never answered."},
		"settings.vac.on":          {"Bật trả lời tự động", "Turn the auto-reply on"},
		"settings.vac.subject":     {"Tiêu đề thư trả lời", "Subject of the reply"},
		"settings.vac.subject_ph":  {"Để trống: “Re: tiêu đề thư đến”", "Empty: “Re: subject of the message”"},
		"settings.vac.message":     {"Nội dung thư trả lời", "Text of the reply"},
		"settings.vac.until":       {"Trả lời đến hết ngày (để trống nếu không hạn)", "Answer until the end of (empty: no end)"},
		"settings.vac.bad_date":    {"Ngày không hợp lệ.", "The date is not valid."},
		"settings.vac.too_long":    {"Nội dung trả lời dài quá %d ký tự.", "The reply text is longer than %d characters."},
		"settings.vac.active":      {"Đang bật", "On"},
		"settings.vac.inactive":    {"Đang tắt", "Off"},
		"notice.vac_saved":         {"Đã lưu cài đặt trả lời tự động.", "Auto-reply settings saved."},
		"read.dmarc_fail":          {"Cảnh báo: thư này không qua được kiểm tra DMARC — địa chỉ người gửi có thể bị giả mạo. Không mở tệp đính kèm hay liên kết nếu không chắc chắn.", "Warning: this message failed the DMARC check — the sender's address may be forged. Do not open attachments or links unless you are sure."},
	}
}
