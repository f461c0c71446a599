package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"govmail/internal/lifecycle"
	"govmail/internal/store"
)

// TestBrowserPortal drives headless Chromium through the request workflow of
// Điều 7–8 as the people do it: the head of Sở KHCN signs in, sees their unit
// (R16.1), asks for a locked mailbox to be restored (R8.5) and cannot open
// another unit; an operator signs in with the second factor, sees the request in
// the queue with its deadline, carries it out, and the result reaches the unit
// mailbox (R7.2).
func TestBrowserPortal(t *testing.T) {
	path := chromiumPath(t)
	pe := newPortalEnv(t)
	ctx := context.Background()
	base := pe.ts.URL

	// Context for the screenshots: an overdue request of another unit filed last
	// week, a create request waiting, some mail in the log.
	pe.clk.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, testStart.Location()))
	if err := pe.life.Lock(ctx, pe.otherStaff.ID, store.LockInactivity, "", "system:daily"); err != nil {
		t.Fatal(err)
	}
	if _, err := pe.life.FileRequest(ctx, lifecycle.RequestInput{Kind: store.RequestRestore, UnitLP: "chiengcoi", DocNumber: "08/UBND-VP",
		DocDate: "2026-03-03", Addresses: []string{pe.otherStaff.Address}, FiledBy: pe.otherHead.Address}); err != nil {
		t.Fatal(err)
	}
	pe.clk.Set(testStart.Add(-2 * time.Hour))
	if _, err := pe.life.FileRequest(ctx, lifecycle.RequestInput{Kind: store.RequestCreate, UnitLP: "chiengcoi", DocNumber: "11/UBND-VP",
		DocDate: "2026-03-09", People: []lifecycle.PersonSpec{{FullName: "Lò Thị Hương", BirthYear: 1996}, {FullName: "Quàng Văn Dũng"}},
		FiledBy: pe.otherHead.Address}); err != nil {
		t.Fatal(err)
	}
	if err := pe.life.Lock(ctx, pe.binh.ID, store.LockInactivity, "", "system:daily"); err != nil {
		t.Fatal(err)
	}
	pe.clk.Set(testStart)
	var rows []store.LogEntry
	for i := 0; i < 40; i++ {
		dir, status := "in", store.LogDelivered
		if i%3 == 0 {
			dir = "internal"
		}
		if i == 7 {
			status = store.LogQuarantined
		}
		rows = append(rows, store.LogEntry{Time: testStart.Add(-time.Duration(40-i) * 5 * time.Minute), Direction: dir, EnvelopeFrom: "vanban@sonla.gov.vn",
			Recipient: pe.an.Address, Size: 12000 + int64(i)*300, Status: status})
	}
	if err := pe.st.AppendLog(ctx, rows); err != nil {
		t.Fatal(err)
	}
	secret := "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	if err := pe.st.SetTOTP(ctx, pe.op.ID, secret); err != nil {
		t.Fatal(err)
	}

	cctx := newChrome(t, path, 1280, 1000)
	signIn := func(t *testing.T, addr string) {
		t.Helper()
		step(t, cctx, "sign in "+addr,
			chromedp.Navigate(base+"/lang/vi?next=/login"),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SetValue(chromedp.CSS("#username"), addr),
			chromedp.SetValue(chromedp.CSS("#password"), goodPassword),
			chromedp.Click(chromedp.CSS("button[type=submit].wide")),
			waitJS("location.pathname !== '/login' && document.readyState === 'complete'"),
		)
	}

	var reqID string
	t.Run("manager asks for a restore", func(t *testing.T) {
		signIn(t, pe.head.Address)
		unitPath := fmt.Sprintf("/unit/%d", pe.skhcn.ID)
		step(t, cctx, "unit page",
			chromedp.Navigate(base+"/unit"),
			waitPath(unitPath),
			chromedp.WaitVisible(chromedp.CSS("table.people")),
		)
		people := evalString(t, cctx, "document.querySelector('table.people').innerText")
		for _, want := range []string{pe.binh.Address, "Bị khóa", "Không đăng nhập 90 ngày", pe.an.Address, "Văn phòng Sở"} {
			if !strings.Contains(people, want) {
				t.Errorf("unit page lacks %q", want)
			}
		}
		if strings.Contains(people, pe.otherStaff.Address) {
			t.Error("another unit's staff on the unit page")
		}
		screenshot(t, cctx, "unit-manager")
		step(t, cctx, "ask for the restore",
			chromedp.Click(chromedp.CSS(`a[href*="kind=restore"]`)),
			waitPath(unitPath+"/requests/new"),
			chromedp.WaitVisible(chromedp.CSS("#q-doc")),
		)
		if got := evalString(t, cctx, `String(document.querySelector('input[name=addr][value="`+pe.binh.Address+`"]').checked) + document.querySelector('input[name=kind]:checked').value`); got != "truerestore" {
			t.Errorf("form not prefilled: %s", got)
		}
		step(t, cctx, "file it",
			chromedp.SetValue(chromedp.CSS("#q-doc"), "45/SKHCN-VP"),
			chromedp.SetValue(chromedp.CSS("#q-date"), "2026-03-10"),
			chromedp.Click(chromedp.CSS(".request-form button[type=submit]")),
			waitJS("/^\\/unit\\/\\d+\\/requests\\/\\d+$/.test(location.pathname) && document.readyState === 'complete'"),
		)
		notice := evalString(t, cctx, "document.querySelector('.notice').innerText")
		if !strings.Contains(notice, "Đã gửi đề nghị") {
			t.Errorf("notice %q", notice)
		}
		if got := evalString(t, cctx, "document.querySelector('.facts').innerText"); !strings.Contains(got, "13/03/2026") {
			t.Errorf("no deadline of 3 working days: %q", got)
		}
		reqID = evalString(t, cctx, "location.pathname.split('/').pop()")
		// Another unit is out of reach (R16).
		step(t, cctx, "another unit",
			chromedp.Navigate(fmt.Sprintf("%s/unit/%d", base, pe.chiengcoi.ID)),
			chromedp.WaitVisible(chromedp.CSS(".alert")),
		)
		if got := evalString(t, cctx, "document.querySelector('.alert').innerText"); !strings.Contains(got, "Bạn không có quyền") {
			t.Errorf("another unit's page: %q", got)
		}
		step(t, cctx, "the portal", chromedp.Navigate(base+"/portal"), chromedp.WaitVisible(chromedp.CSS(".alert")))
		step(t, cctx, "sign out", chromedp.Navigate(base+"/settings"), chromedp.WaitVisible(chromedp.CSS("h1")),
			chromedp.Click(chromedp.CSS(".user form button")), waitPath("/login"))
	})

	t.Run("operator carries it out", func(t *testing.T) {
		if reqID == "" {
			t.Skip("no request filed")
		}
		signIn(t, pe.op.Address)
		code, err := totp.GenerateCode(secret, pe.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		step(t, cctx, "second factor",
			waitPath("/totp"),
			chromedp.SetValue(chromedp.CSS("#code"), code),
			chromedp.Click(chromedp.CSS("button[type=submit].wide")),
			waitJS("location.pathname !== '/totp' && document.readyState === 'complete'"),
			chromedp.Navigate(base+"/portal"),
			waitPath("/portal"),
			chromedp.WaitVisible(chromedp.CSS(".cards")),
		)
		if got := evalString(t, cctx, "document.querySelector('#n-pending').innerText + '/' + document.querySelector('#n-overdue').innerText"); got != "3/1" {
			t.Errorf("pending/overdue %s, want 3/1", got)
		}
		screenshot(t, cctx, "portal-dashboard")
		step(t, cctx, "queue",
			chromedp.Click(chromedp.CSS(`.portal-nav a[href="/portal/requests"]`)),
			waitPath("/portal/requests"),
			chromedp.WaitVisible(chromedp.CSS("table.requests")),
		)
		queue := evalString(t, cctx, "document.querySelector('table.requests').innerText")
		for _, want := range []string{"45/SKHCN-VP", "08/UBND-VP", "Quá hạn", "Phường Chiềng Cơi"} {
			if !strings.Contains(queue, want) {
				t.Errorf("queue lacks %q", want)
			}
		}
		// Overdue first (R8.5).
		if first := evalString(t, cctx, "document.querySelector('table.requests tbody tr').innerText"); !strings.Contains(first, "08/UBND-VP") {
			t.Errorf("first in the queue: %q", first)
		}
		screenshot(t, cctx, "portal-requests")
		step(t, cctx, "open and carry out",
			chromedp.Click(chromedp.CSS(`a[href="/portal/requests/`+reqID+`"]`)),
			waitPath("/portal/requests/"+reqID),
			chromedp.WaitVisible(chromedp.CSS("#carry")),
			chromedp.Click(chromedp.CSS("#carry")),
			waitPath("/portal/requests/"+reqID+"/carry"),
			chromedp.WaitVisible(chromedp.CSS(".result")),
		)
		result := evalString(t, cctx, "document.querySelector('.result').innerText")
		if !strings.Contains(result, pe.binh.Address) || !strings.Contains(result, "đã khôi phục") {
			t.Errorf("result %q", result)
		}
		if a := pe.account(pe.binh.ID); a.State != store.StateActive || !a.MustChange {
			t.Errorf("account after the request: %s must-change=%v", a.State, a.MustChange)
		}
		// R7.2: the unit mailbox received the result, in Vietnamese.
		found := false
		for _, m := range pe.messages(pe.mailbox(pe.box, "INBOX")) {
			raw := string(m.Raw)
			if strings.Contains(raw, "X-Govmail-Notice: request-result") && strings.Contains(raw, "45/SKHCN-VP") {
				found = true
			}
		}
		if !found {
			t.Error("the unit mailbox did not receive the result")
		}
		trail := evalString(t, cctx, "document.querySelector('table.trail').innerText")
		if !strings.Contains(trail, pe.head.Address) || !strings.Contains(trail, pe.op.Address) {
			t.Errorf("trail %q", trail)
		}
	})
}

// TestBrowserPortalOps drives the operators' pages of issue 9 part 2 in
// headless Chromium: the report in its own frame, styled by its inline style
// under the frame's policy and sized to its content (R7.3); held mail released
// after the page asks, and kept when the operator says no (R4.2); 24 November
// added to the calendar, moving a restore deadline (C4); an open outage notice
// (R14.1); a received DMARC report with its failing source first (issue 5).
func TestBrowserPortalOps(t *testing.T) {
	path := chromiumPath(t)
	pe := newPortalEnv(t)
	ctx := context.Background()
	base := pe.ts.URL
	pe.hold(pe.an, signupMail)
	pe.clk.Advance(3 * time.Minute)
	pe.hold(pe.binh, "From: TikTok <no-reply@account.tiktok.com>\nSubject: Mã xác minh TikTok của bạn\n\nMã: 4821\n")
	if _, err := pe.out.Publish(ctx, outagePublishInput(pe)); err != nil {
		t.Fatal(err)
	}
	seedAuthReports(t, pe)
	secret := "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	if err := pe.st.SetTOTP(ctx, pe.op.ID, secret); err != nil {
		t.Fatal(err)
	}
	cctx := newChrome(t, path, 1280, 1000)
	code, err := totp.GenerateCode(secret, pe.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	step(t, cctx, "sign in",
		chromedp.Navigate(base+"/lang/vi?next=/login"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SetValue(chromedp.CSS("#username"), pe.op.Address),
		chromedp.SetValue(chromedp.CSS("#password"), goodPassword),
		chromedp.Click(chromedp.CSS("button[type=submit].wide")),
		waitPath("/totp"),
		chromedp.SetValue(chromedp.CSS("#code"), code),
		chromedp.Click(chromedp.CSS("button[type=submit].wide")),
		waitJS("location.pathname !== '/totp' && document.readyState === 'complete'"),
	)

	t.Run("report in its frame", func(t *testing.T) {
		step(t, cctx, "choose the period",
			chromedp.Navigate(base+"/portal"),
			chromedp.Click(chromedp.CSS(`.portal-nav a[href="/portal/reports"]`)),
			waitPath("/portal/reports"),
			chromedp.SetValue(chromedp.CSS("#rp-unit"), "skhcn"),
			chromedp.Click(chromedp.CSS(".report-form button[type=submit]")),
			waitJS(`(() => { const f = document.querySelector('iframe.report-frame'); return f && f.contentDocument && f.contentDocument.readyState === 'complete' && f.contentDocument.body && f.contentDocument.body.innerText.includes('Sở Khoa học'); })()`),
		)
		got := evalString(t, cctx, `(() => { const f = document.querySelector('iframe.report-frame'); const d = f.contentDocument;
			return getComputedStyle(d.querySelector('table')).borderCollapse + ' ' + (f.getBoundingClientRect().height > 400) + ' ' + d.querySelector('h1').innerText.split('\n')[0]; })()`)
		if got != "collapse true Báo cáo tình hình quản lý, sử dụng hệ thống thư điện tử tháng 02/2026" {
			t.Errorf("report frame: %q", got)
		}
		if href := evalString(t, cctx, "document.querySelector('#dl-xlsx').getAttribute('href')"); href != "/portal/reports/download?format=xlsx&period=2026-02&unit=skhcn" {
			t.Errorf("XLSX link %q", href)
		}
		screenshot(t, cctx, "portal-reports")
	})

	t.Run("held mail", func(t *testing.T) {
		step(t, cctx, "list",
			chromedp.Click(chromedp.CSS(`.portal-nav a[href="/portal/held"]`)),
			waitPath("/portal/held"),
			chromedp.WaitVisible(chromedp.CSS("table.held")),
		)
		screenshot(t, cctx, "portal-held")
		// The operator says no: nothing is posted.
		step(t, cctx, "decline",
			chromedp.Evaluate[chromedp.Void]("window.confirm = () => false; undefined"),
			chromedp.Click(chromedp.CSS(`form[action$="/drop"] button`)),
			chromedp.Sleep(300*time.Millisecond),
		)
		if n := evalString(t, cctx, "String(document.querySelectorAll('table.held tbody tr').length)"); n != "2" {
			t.Errorf("%s rows after declining", n)
		}
		// Release the Facebook mail into Nguyễn Văn An's inbox.
		step(t, cctx, "release",
			chromedp.Evaluate[chromedp.Void]("window.confirm = () => true; undefined"),
			chromedp.Click(chromedp.CSS(`form[action="/portal/held/`+itoa(pe.an.ID)+`/1/release"] button`)),
			waitJS("location.search.includes('n=held_released') && document.readyState === 'complete'"),
		)
		if got := evalString(t, cctx, "document.querySelector('.notice').innerText"); !strings.Contains(got, "Đã chuyển thư vào Hộp thư đến") {
			t.Errorf("notice %q", got)
		}
		if !mailed(pe, pe.an, "123456") {
			t.Error("not released into the inbox")
		}
		if n := len(pe.messages(pe.mailbox(pe.binh, store.HeldFolder))); n != 1 {
			t.Errorf("the declined deletion removed mail: %d held", n)
		}
	})

	t.Run("24 November", func(t *testing.T) {
		step(t, cctx, "calendar",
			chromedp.Click(chromedp.CSS(`.portal-nav a[href="/portal/holidays"]`)),
			waitPath("/portal/holidays"),
			chromedp.SetValue(chromedp.CSS("#h-date"), "2026-11-24"),
			chromedp.SetValue(chromedp.CSS("#h-name"), "Ngày Văn hóa Việt Nam"),
			chromedp.SetValue(chromedp.CSS("#h-note"), "Quyết định của Thủ tướng Chính phủ"),
			chromedp.Click(chromedp.CSS(".col-side form button[type=submit]")),
			waitJS("location.search.includes('n=holiday_set') && document.readyState === 'complete'"),
			chromedp.SetValue(chromedp.CSS("#h-received"), "2026-11-20"),
			chromedp.Submit(chromedp.CSS("#h-received")),
			waitJS("location.search.includes('received=2026-11-20') && document.readyState === 'complete'"),
		)
		if got := evalString(t, cctx, "document.querySelector('#deadline').innerText"); !strings.Contains(got, "Thứ năm, 26/11/2026") {
			t.Errorf("deadline %q", got)
		}
		step(t, cctx, "show the new row", chromedp.ScrollIntoView(chromedp.CSS("#d-2026-11-24")))
		screenshot(t, cctx, "portal-holidays")
	})

	t.Run("outage notices", func(t *testing.T) {
		step(t, cctx, "notices",
			chromedp.Click(chromedp.CSS(`.portal-nav a[href="/portal/outages"]`)),
			waitPath("/portal/outages"),
			chromedp.WaitVisible(chromedp.CSS(".outage-open")),
		)
		if got := evalString(t, cctx, "document.querySelector('.outage-open').innerText"); !strings.Contains(got, "Bảo trì máy chủ thư") {
			t.Errorf("open notice %q", got)
		}
		screenshot(t, cctx, "portal-outages")
	})

	t.Run("DMARC and TLS reports", func(t *testing.T) {
		step(t, cctx, "list and open",
			chromedp.Click(chromedp.CSS(`.portal-nav a[href="/portal/authreports"]`)),
			waitPath("/portal/authreports"),
			chromedp.Click(chromedp.CSS(`a[href="/portal/authreports/1"]`)),
			waitPath("/portal/authreports/1"),
			chromedp.WaitVisible(chromedp.CSS("table.authreport")),
		)
		first := evalString(t, cctx, "document.querySelector('table.authreport tbody tr').innerText")
		if !strings.Contains(first, "198.51.100.9") || !strings.Contains(first, "Không đạt") {
			t.Errorf("first row %q: the failing source must come first", first)
		}
		// The long detail column wraps instead of widening the page.
		if wide := evalString(t, cctx, "String(document.documentElement.scrollWidth > document.documentElement.clientWidth)"); wide != "false" {
			t.Error("the report page scrolls sideways")
		}
		screenshot(t, cctx, "portal-authreports")
	})
}
