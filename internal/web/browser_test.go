package web

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"govmail/internal/store"
)

// chromiumPath finds Debian's Chromium. Missing, the browser tests fail under CI
// (scripts/test.sh installs it) and are skipped elsewhere.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("GOVMAIL_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Chromium not found at %s (apt-get install chromium)", p)
		}
		t.Skipf("Chromium not found at %s: browser tests skipped", p)
	}
	return p
}

// newChrome starts one headless Chromium for the test with a fresh profile; the
// cleanup ends the process (chromedp kills it when the allocator context is
// cancelled).
func newChrome(t *testing.T, path string, width, height int) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("lang", "vi-VN"),
		chromedp.Flag("accept-lang", "vi-VN,vi"),
		// httptest's certificate is self-signed.
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// step runs actions with a deadline, failing the test with what it was doing.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		// Say where the browser is, to make a failure readable.
		dctx, dcancel := context.WithTimeout(ctx, 3*time.Second)
		defer dcancel()
		where, _ := chromedp.Run(dctx, chromedp.Evaluate[string]("location.href + ' :: ' + document.body.innerText.slice(0, 600)"))
		t.Fatalf("%s: %v\nbrowser at: %s", what, err, where)
	}
}

func evalString(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return s
}

// waitPath waits until the tab shows path, fully loaded. It polls from Go rather
// than with chromedp.Poll because a navigation destroys the page context a
// browser-side poll runs in.
func waitPath(path string) chromedp.Action[chromedp.Void] {
	return waitJS(fmt.Sprintf("location.pathname === %q && document.readyState === 'complete'", path))
}

// waitJS waits until expr is true in the current page, across navigations.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		var last error
		for {
			ok, err := chromedp.Evaluate[bool]("Boolean("+expr+")")(ctx, tg)
			if err == nil && ok {
				return nil
			}
			if err != nil {
				last = err
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s: %w (last error %v)", expr, ctx.Err(), last)
			case <-tick.C:
			}
		}
	})
}

// screenshot saves the viewport as PNG under $GOVMAIL_SCREENSHOTS (docs/screenshots
// when regenerating the documentation); without it nothing is written.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("GOVMAIL_SCREENSHOTS")
	if dir == "" {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// seedInbox fills a mailbox with the kind of mail a department receives, over the
// last days, some read, one flagged, some with attachments.
func seedInbox(t *testing.T, e *env, a *store.Account) {
	t.Helper()
	type m struct{ from, subject, body string }
	msgs := []m{
		{"Văn phòng UBND tỉnh <vanphong@sonla.gov.vn>", "Thông báo kết luận của Chủ tịch UBND tỉnh tại phiên họp tháng 2", "Kính gửi các sở, ban, ngành."},
		{"Sở Tài chính <stc@sonla.gov.vn>", "V/v thẩm định dự toán kinh phí chuyển đổi số năm 2026", "Đề nghị Sở Khoa học và Công nghệ gửi hồ sơ."},
		{"Sở Nội vụ <snv@sonla.gov.vn>", "Hướng dẫn đánh giá, xếp loại chất lượng cán bộ, công chức", "Gửi kèm hướng dẫn."},
		{"Trung tâm Công nghệ thông tin <cntt.skhcn@sonla.gov.vn>", "Lịch bảo trì hệ thống thư điện tử ngày 15/3", "Hệ thống tạm dừng từ 22 giờ."},
		{"Phòng Quản lý khoa học <qlkh.skhcn@sonla.gov.vn>", "Danh sách đề tài khoa học cấp tỉnh đặt hàng năm 2027", "Kính gửi lãnh đạo Sở."},
		{"UBND huyện Mộc Châu <ubnd@mocchau.sonla.gov.vn>", "Báo cáo tình hình ứng dụng công nghệ thông tin quý I", "Kính gửi Sở KHCN."},
		{"Trần Văn Bình <binh.snv@sonla.gov.vn>", "Re: Góp ý dự thảo quy chế sử dụng thư điện tử công vụ", "Em gửi chị góp ý."},
		{"Văn phòng Sở <vanphong.skhcn@sonla.gov.vn>", "Giấy mời họp giao ban tháng 3/2026", "Kính mời đồng chí dự họp."},
	}
	ctx := context.Background()
	inbox := e.mailbox(a, "INBOX")
	for i, x := range msgs {
		e.clk.Advance(3*time.Hour + time.Duration(i*7)*time.Minute)
		raw := fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\nDate: %s\nMIME-Version: 1.0\n", encodeFrom(x.from), a.Address, mimeWord(x.subject), e.clk.Now().Format(time.RFC1123Z))
		if i%3 == 1 {
			raw += "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + x.body +
				"\n--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"tai-lieu.pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b--\n"
		} else {
			raw += "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + x.body + "\n"
		}
		uid := e.deliver(a, raw)
		if i < 4 {
			e.st.StoreFlags(ctx, inbox.ID, []uint32{uid}, store.FlagsAdd, []string{`\Seen`})
		}
		if i == 2 {
			e.st.StoreFlags(ctx, inbox.ID, []uint32{uid}, store.FlagsAdd, []string{`\Flagged`})
		}
	}
}

func mimeWord(s string) string {
	var b strings.Builder
	b.WriteString("=?UTF-8?Q?")
	for _, c := range []byte(s) {
		switch {
		case c == ' ':
			b.WriteByte('_')
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	b.WriteString("?=")
	return b.String()
}

func encodeFrom(s string) string {
	name, addr, _ := strings.Cut(s, " <")
	return mimeWord(name) + " <" + addr
}

// The browser read mail is a notice as departments send it, with a logo by cid:, a
// remote tracking image, and script that must never run.
const browserHTMLMail = `From: =?UTF-8?Q?V=C4=83n_ph=C3=B2ng_S=E1=BB=9F?= <vanphong.skhcn@sonla.gov.vn>
To: hoant.skhcn@sonla.gov.vn
Subject: =?UTF-8?Q?Th=C3=B4ng_b=C3=A1o_h=E1=BB=8Dp_tri=E1=BB=83n_khai_chuy=E1=BB=83n_=C4=91=E1=BB=95i_s=E1=BB=91?=
MIME-Version: 1.0
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset=utf-8

<html><head><style>body{background:url(https://track.example/bg.gif)}</style></head>
<body onload="parent.document.title='HACKED'">
<table width="100%" cellpadding="8" bgcolor="#f3f6fa"><tr><td><img src="cid:logo@skhcn" alt="logo" width="40" height="40"></td>
<td><b style="color:#12355f;font-size:16px">SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH SƠN LA</b><br><span style="color:#5b6474">Văn phòng Sở</span></td></tr></table>
<h2 style="color:#b3261e">Thông báo họp triển khai chuyển đổi số</h2>
<p>Kính gửi: <b>Các phòng, đơn vị trực thuộc Sở</b></p>
<p>Văn phòng Sở trân trọng kính mời lãnh đạo các phòng, đơn vị dự họp triển khai kế hoạch chuyển đổi số năm 2026.</p>
<table border="1" cellpadding="6" style="border-collapse:collapse"><tr><th>Thời gian</th><td>8 giờ 00, thứ Năm, ngày 12/3/2026</td></tr>
<tr><th>Địa điểm</th><td>Phòng họp tầng 3, trụ sở Sở KHCN</td></tr><tr><th>Chủ trì</th><td>Đồng chí Giám đốc Sở</td></tr></table>
<p>Đề nghị các đồng chí chuẩn bị ý kiến tham gia.</p>
<p><img src="https://track.example/open.gif?u=hoant" width="1" height="1"><img src="x" onerror="parent.document.title='HACKED'"></p>
<script>parent.document.title='HACKED';window.top.location='https://evil.example/'</script>
<p style="color:#5b6474">Trân trọng,<br>Văn phòng Sở</p>
</body></html>
--rel
Content-Type: image/png
Content-ID: <logo@skhcn>
Content-Transfer-Encoding: base64

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkWPm/HgAFxgJ/wTmVVAAAAABJRU5ErkJggg==
--rel--
`

// TestBrowser drives headless Chromium through the main paths: sign in with a forced
// password change, read a Vietnamese HTML mail, send with an attachment and see it
// arrive, search without diacritics.
func TestBrowser(t *testing.T) {
	path := chromiumPath(t)
	e := newEnv(t, envOptions{})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", "Tam-Thoi#2026", true)
	bob := e.addAccount("binh.snv@sonla.gov.vn", "Trần Văn Bình", goodPassword, false)
	seedInbox(t, e, a)
	e.clk.Advance(20 * time.Minute)
	htmlUID := e.deliver(a, browserHTMLMail)
	inbox := e.mailbox(a, "INBOX")
	base := e.ts.URL

	ctx := newChrome(t, path, 1280, 820)

	t.Run("login with forced password change", func(t *testing.T) {
		step(t, ctx, "open login",
			chromedp.Navigate(base+"/lang/vi?next=/login"),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SetValue(chromedp.CSS("#username"), "hoant.skhcn@sonla.gov.vn"),
		)
		screenshot(t, ctx, "login")
		step(t, ctx, "sign in",
			chromedp.SetValue(chromedp.CSS("#password"), "Tam-Thoi#2026"),
			chromedp.Click(chromedp.CSS("button[type=submit].wide")),
			waitPath("/password"),
		)
		if got := evalString(t, ctx, "document.querySelector('.notice').innerText"); !strings.Contains(got, "Mật khẩu của bạn do người khác đặt") {
			t.Errorf("change page notice %q", got)
		}
		// The mail is not reachable yet.
		step(t, ctx, "try inbox", chromedp.Navigate(base+"/"), waitPath("/password"))
		step(t, ctx, "weak password",
			chromedp.SetValue(chromedp.CSS("#new"), "matkhau"),
			chromedp.SetValue(chromedp.CSS("#confirm"), "matkhau"),
			chromedp.Click(chromedp.CSS("button[type=submit].wide")),
			chromedp.WaitVisible(chromedp.CSS("#pw-errors")),
		)
		errs := evalString(t, ctx, "document.querySelector('#pw-errors').innerText")
		for _, want := range []string{"ít nhất 8 ký tự", "chữ in hoa", "chữ số", "ký tự đặc biệt"} {
			if !strings.Contains(errs, want) {
				t.Errorf("rule %q not listed in %q", want, errs)
			}
		}
		screenshot(t, ctx, "password-change")
		step(t, ctx, "good password",
			chromedp.SetValue(chromedp.CSS("#new"), goodPassword),
			chromedp.SetValue(chromedp.CSS("#confirm"), goodPassword),
			chromedp.Click(chromedp.CSS("button[type=submit].wide")),
			waitPath(fmt.Sprintf("/mail/%d", inbox.ID)),
			chromedp.WaitVisible(chromedp.CSS("table.messages")),
		)
		if got := evalString(t, ctx, "document.querySelector('h1').innerText"); got != "Hộp thư đến" {
			t.Errorf("inbox heading %q", got)
		}
		// The notice is for this page view only; the inbox screenshot without it.
		step(t, ctx, "inbox", chromedp.Navigate(base+fmt.Sprintf("/mail/%d", inbox.ID)), chromedp.WaitVisible(chromedp.CSS("table.messages")))
		screenshot(t, ctx, "inbox")
	})

	t.Run("read Vietnamese HTML mail", func(t *testing.T) {
		step(t, ctx, "open message",
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/mail/%d/%d"]`, inbox.ID, htmlUID))),
			waitPath(fmt.Sprintf("/mail/%d/%d", inbox.ID, htmlUID)),
			chromedp.WaitVisible(chromedp.CSS("iframe.mail-frame")),
			waitJS(`(() => { const f = document.querySelector('iframe.mail-frame'); return f.contentDocument && f.contentDocument.readyState === 'complete' && f.contentDocument.body && f.contentDocument.body.innerText.includes('Kính gửi'); })()`),
		)
		body := evalString(t, ctx, "document.querySelector('iframe.mail-frame').contentDocument.body.innerText")
		for _, want := range []string{"Thông báo họp triển khai chuyển đổi số", "Phòng họp tầng 3, trụ sở Sở KHCN", "SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH SƠN LA"} {
			if !strings.Contains(body, want) {
				t.Errorf("body lacks %q: %q", want, body)
			}
		}
		if title := evalString(t, ctx, "document.title"); strings.Contains(title, "HACKED") || !strings.Contains(title, "Thông báo họp") {
			t.Errorf("title %q: script from the mail ran or the subject is wrong", title)
		}
		// The cid: logo loaded from our own URL; the tracking image did not.
		logo := evalString(t, ctx, `(() => { const i = document.querySelector('iframe.mail-frame').contentDocument.querySelector('img[alt=logo]'); return i && i.complete && i.naturalWidth > 0 ? i.getAttribute('src') : 'not loaded'; })()`)
		if !strings.HasPrefix(logo, fmt.Sprintf("/mail/%d/%d/part/", inbox.ID, htmlUID)) {
			t.Errorf("cid logo: %s", logo)
		}
		if got := evalString(t, ctx, "document.querySelector('.images-blocked').innerText"); !strings.Contains(got, "Đã chặn 1 hình ảnh") {
			t.Errorf("blocked-images notice %q", got)
		}
		if got := evalString(t, ctx, "document.querySelector('iframe.mail-frame').getAttribute('sandbox')"); strings.Contains(got, "allow-scripts") {
			t.Errorf("sandbox %q", got)
		}
		screenshot(t, ctx, "read")
		if n := evalString(t, ctx, "String(document.querySelectorAll('table.messages').length)"); n != "0" {
			t.Error("still on the list")
		}
		msgs := e.messages(inbox)
		for _, m := range msgs {
			if m.UID == htmlUID && !slices.Contains(m.Flags, `\Seen`) {
				t.Error("not marked read")
			}
		}
	})

	t.Run("send with attachment", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "Kế hoạch chuyển đổi số 2026.pdf")
		content := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("dữ liệu "), 500)...)
		if err := os.WriteFile(file, content, 0o644); err != nil {
			t.Fatal(err)
		}
		step(t, ctx, "compose",
			chromedp.Navigate(base+"/compose"),
			chromedp.WaitVisible(chromedp.CSS("#to")),
			chromedp.SetValue(chromedp.CSS("#to"), "Trần Văn Bình <binh.snv@sonla.gov.vn>"),
			chromedp.SetValue(chromedp.CSS("#subject"), "Kế hoạch chuyển đổi số năm 2026"),
			chromedp.SetValue(chromedp.CSS("#body"), "Kính gửi anh Bình,\n\nEm gửi anh bản kế hoạch chuyển đổi số năm 2026 để góp ý.\n\nTrân trọng,\nNguyễn Thị Hoa"),
			chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}),
		)
		screenshot(t, ctx, "compose")
		step(t, ctx, "send",
			chromedp.Click(chromedp.CSS(`button[value=send]`)),
			waitPath(fmt.Sprintf("/mail/%d", inbox.ID)),
			chromedp.WaitVisible(chromedp.CSS(".notice")),
		)
		if got := evalString(t, ctx, "document.querySelector('.notice').innerText"); got != "Đã gửi thư." {
			t.Errorf("notice %q", got)
		}
		got := e.messages(e.mailbox(bob, "INBOX"))
		if len(got) != 1 {
			t.Fatalf("recipient has %d messages", len(got))
		}
		h, text, files := parseStored(t, got[0].Raw)
		if s, _ := h.Subject(); s != "Kế hoạch chuyển đổi số năm 2026" {
			t.Errorf("subject %q", s)
		}
		if !strings.Contains(text, "Em gửi anh bản kế hoạch") {
			t.Errorf("text %q", text)
		}
		if !bytes.Equal(files["Kế hoạch chuyển đổi số 2026.pdf"], content) {
			t.Errorf("attachment: %v", mapKeys(files))
		}
	})

	t.Run("search without diacritics", func(t *testing.T) {
		step(t, ctx, "search",
			chromedp.SetValue(chromedp.CSS("#q"), "giay moi hop"),
			chromedp.Submit(chromedp.CSS("#q")),
			waitPath("/search"),
			chromedp.WaitVisible(chromedp.CSS("table.search-results")),
		)
		got := evalString(t, ctx, "document.querySelector('table.search-results').innerText")
		if !strings.Contains(got, "Giấy mời họp giao ban tháng 3/2026") {
			t.Errorf("results %q", got)
		}
		if strings.Contains(got, "Lịch bảo trì") {
			t.Errorf("unrelated result in %q", got)
		}
		screenshot(t, ctx, "search")
	})

	t.Run("keyboard only", func(t *testing.T) {
		step(t, ctx, "inbox", chromedp.Navigate(base+fmt.Sprintf("/mail/%d", inbox.ID)), chromedp.WaitVisible(chromedp.CSS("table.messages")))
		step(t, ctx, "tab", chromedp.KeyEvent("\t"))
		if got := evalString(t, ctx, "document.activeElement.className + ':' + document.activeElement.innerText"); got != "skip:Bỏ qua, đến nội dung chính" {
			t.Errorf("first Tab reaches %q, want the skip link", got)
		}
		// After the skip link, the order menu (four links besides the current
		// one) comes first, then the list's own first control.
		step(t, ctx, "skip", chromedp.KeyEvent("\r"), chromedp.KeyEvent("\t"))
		if got := evalString(t, ctx, "document.activeElement.closest('nav.list-sort') ? 'sort' : document.activeElement.tagName"); got != "sort" {
			t.Errorf("after skipping, Tab reaches %q, want the sort menu", got)
		}
		step(t, ctx, "past sort", chromedp.KeyEvent("\t"), chromedp.KeyEvent("\t"), chromedp.KeyEvent("\t"), chromedp.KeyEvent("\t"))
		if got := evalString(t, ctx, "document.activeElement.getAttribute('data-check-all') || document.activeElement.tagName"); got != "uid" {
			t.Errorf("after the sort menu, Tab reaches %q, want the first control of the list", got)
		}
		// Focus the first message's link and open it with Enter.
		step(t, ctx, "open by keyboard",
			chromedp.Focus(chromedp.CSS("table.messages td.subj a")),
			chromedp.KeyEvent("\r"),
			waitJS("location.pathname.split('/').length === 4 && document.readyState === 'complete'"),
			chromedp.WaitVisible(chromedp.CSS("#msg-subject")),
		)
	})

	t.Run("phone width", func(t *testing.T) {
		step(t, ctx, "phone",
			chromedp.EmulateViewport(390, 780, chromedp.EmulateScale(2), chromedp.EmulateMobile),
			chromedp.Navigate(base+fmt.Sprintf("/mail/%d", inbox.ID)),
			chromedp.WaitVisible(chromedp.CSS("table.messages")),
		)
		// Nothing wider than the screen: no sideways scrolling of the page.
		if w := evalString(t, ctx, "String(document.documentElement.scrollWidth)"); w != "390" {
			t.Errorf("page is %s px wide on a 390 px phone", w)
		}
		screenshot(t, ctx, "inbox-phone")
	})
}
