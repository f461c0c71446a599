package report

import (
	"fmt"
	"math"

	"govmail/internal/store"
)

// Col is one figure column of a table.
type Col struct {
	VI, EN string
	Bytes  bool // a size: shown in MB (HTML, XLSX), written in bytes in CSV
	Get    func(f *store.UnitFigures) int64
}

// Table is one table of a report: a sheet of the XLSX file, a table of the
// HTML page, a group of columns of the CSV file.
type Table struct {
	Sheet  string // XLSX sheet name (≤ 31 characters)
	VI, EN string
	Cols   []Col
}

// lockReasons are the reasons of Điều 8.2 in the order the reports show them.
var lockReasons = []struct{ key, vi, en string }{
	{store.LockInactivity, "không đăng nhập (8.2a)", "inactivity (8.2a)"},
	{store.LockCompromised, "bị xâm phạm, phát tán (8.2b)", "compromised (8.2b)"},
	{store.LockProhibitedContent, "vi phạm Điều 4.2 (8.2c)", "prohibited use (8.2c)"},
	{store.LockOperator, "quyết định của Sở", "operator's decision"},
}

func count(m func(f *store.UnitFigures) map[string]int64, key string) func(f *store.UnitFigures) int64 {
	return func(f *store.UnitFigures) int64 { return m(f)[key] }
}

// Tables lists the report's tables of unit figures.
func (r *Report) Tables() []Table {
	locked := func(f *store.UnitFigures) map[string]int64 { return f.Locked }
	lockedIn := func(f *store.UnitFigures) map[string]int64 { return f.LockedInPeriod }
	held := func(f *store.UnitFigures) map[string]int64 { return f.Held }

	accounts := Table{Sheet: "Tài khoản", VI: "Tài khoản tại thời điểm cuối kỳ", EN: "Accounts at the end of the period", Cols: []Col{
		{VI: "Đang hoạt động", EN: "Active", Get: func(f *store.UnitFigures) int64 { return f.Active }},
	}}
	for _, lr := range lockReasons {
		accounts.Cols = append(accounts.Cols, Col{VI: "Bị khóa: " + lr.vi, EN: "Locked: " + lr.en, Get: count(locked, lr.key)})
	}
	accounts.Cols = append(accounts.Cols,
		Col{VI: "Tổng số bị khóa", EN: "Locked, total", Get: func(f *store.UnitFigures) int64 { return sum(f.Locked) }},
		Col{VI: "Đã thu hồi (lũy kế)", EN: "Revoked (cumulative)", Get: func(f *store.UnitFigures) int64 { return f.Revoked }},
		Col{VI: fmt.Sprintf("Không đăng nhập quá %d ngày", r.IdleDays), EN: fmt.Sprintf("No login for over %d days", r.IdleDays),
			Get: func(f *store.UnitFigures) int64 { return f.Idle }},
		Col{VI: "Dung lượng đã dùng", EN: "Storage used", Bytes: true, Get: func(f *store.UnitFigures) int64 { return f.UsedBytes }},
		Col{VI: "Tổng hạn mức", EN: "Total quota", Bytes: true, Get: func(f *store.UnitFigures) int64 { return f.QuotaBytes }},
		Col{VI: "Hộp thư dùng từ 90% hạn mức", EN: "Mailboxes at 90 % of quota or more", Get: func(f *store.UnitFigures) int64 { return f.NearFull }},
	)

	changes := Table{Sheet: "Biến động", VI: "Tài khoản cấp mới, điều chỉnh, thu hồi, khóa, khôi phục trong kỳ", EN: "Accounts created, modified, revoked, locked and restored in the period", Cols: []Col{
		{VI: "Cấp mới", EN: "Created", Get: func(f *store.UnitFigures) int64 { return f.Created }},
		{VI: "Điều chỉnh", EN: "Modified", Get: func(f *store.UnitFigures) int64 { return f.Modified }},
		{VI: "Thu hồi", EN: "Revoked", Get: func(f *store.UnitFigures) int64 { return f.RevokedInPeriod }},
	}}
	for _, lr := range lockReasons {
		changes.Cols = append(changes.Cols, Col{VI: "Khóa: " + lr.vi, EN: "Locked: " + lr.en, Get: count(lockedIn, lr.key)})
	}
	changes.Cols = append(changes.Cols,
		Col{VI: "Tổng số lần khóa", EN: "Locks, total", Get: func(f *store.UnitFigures) int64 { return sum(f.LockedInPeriod) }},
		Col{VI: "Khôi phục", EN: "Restored", Get: func(f *store.UnitFigures) int64 { return f.Restored }},
	)

	requests := Table{Sheet: "Đề nghị", VI: "Đề nghị của đơn vị", EN: "Requests of the units", Cols: []Col{
		{VI: "Tiếp nhận trong kỳ", EN: "Received", Get: func(f *store.UnitFigures) int64 { return f.RequestsReceived }},
		{VI: "Đã thực hiện", EN: "Carried out", Get: func(f *store.UnitFigures) int64 { return f.RequestsDone }},
		{VI: "Từ chối", EN: "Rejected", Get: func(f *store.UnitFigures) int64 { return f.RequestsRejected }},
		{VI: "Quá hạn, chưa xử lý (cuối kỳ)", EN: "Overdue, still waiting at period end", Get: func(f *store.UnitFigures) int64 { return f.OverdueOpen }},
		{VI: "Xử lý quá hạn", EN: "Handled after the deadline", Get: func(f *store.UnitFigures) int64 { return f.OverdueLate }},
	}}

	mail := Table{Sheet: "Lưu lượng thư", VI: "Lưu lượng thư trong kỳ", EN: "Mail volume in the period", Cols: []Col{
		{VI: "Thư nhận", EN: "Messages received", Get: func(f *store.UnitFigures) int64 { return f.Received }},
		{VI: "Dung lượng thư nhận", EN: "Size received", Bytes: true, Get: func(f *store.UnitFigures) int64 { return f.ReceivedBytes }},
		{VI: "Thư gửi", EN: "Messages sent", Get: func(f *store.UnitFigures) int64 { return f.Sent }},
		{VI: "Dung lượng thư gửi", EN: "Size sent", Bytes: true, Get: func(f *store.UnitFigures) int64 { return f.SentBytes }},
		{VI: "Gửi không thành công", EN: "Sending failed", Get: func(f *store.UnitFigures) int64 { return f.SendFailed }},
	}}

	blocked := Table{Sheet: "Thư bị chặn", VI: "Thư bị từ chối hoặc giữ lại", EN: "Mail refused or held", Cols: []Col{
		{VI: "Có virus", EN: "Virus", Get: count(held, store.HeldVirus)},
		{VI: "Thư rác", EN: "Spam", Get: count(held, store.HeldSpam)},
		{VI: "Nội dung bị cấm (Điều 4)", EN: "Prohibited use (Art. 4)", Get: count(held, store.HeldPolicy)},
		{VI: "Vượt giới hạn gửi", EN: "Sending limit", Get: count(held, store.HeldLimit)},
		{VI: "Lý do khác", EN: "Other reasons", Get: count(held, store.HeldOther)},
		{VI: "Tổng", EN: "Total", Get: func(f *store.UnitFigures) int64 { return sum(f.Held) }},
	}}
	return []Table{accounts, changes, requests, mail, blocked}
}

var directionVI = map[string]string{"in": "Từ ngoài vào", "out": "Gửi ra ngoài", "internal": "Nội bộ"}
var directionEN = map[string]string{"in": "inbound", "out": "outbound", "internal": "internal"}
var statusVI = map[string]string{
	store.LogDelivered: "Đã chuyển", store.LogDeferred: "Tạm hoãn", store.LogBounced: "Bị trả lại",
	store.LogRefused: "Bị từ chối", store.LogQuarantined: "Bị giữ lại",
}

func lookup(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return k
}

// mb converts bytes to megabytes (MiB, as quotas are set) with one decimal.
func mb(b int64) float64 { return math.Round(float64(b)/(1<<20)*10) / 10 }
