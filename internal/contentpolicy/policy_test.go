package contentpolicy

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func mustNew(t testing.TB, cfg Config) *Policy {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// msg builds a header block with CRLF line ends from "Name: value" lines.
func msg(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n\r\nBody text.\r\n")
}

func TestClassify_R4_2_R4_3(t *testing.T) {
	p := mustNew(t, DefaultConfig())
	cases := []struct {
		name     string
		raw      []byte
		envFrom  string
		want     Category
		service  string
		evidence string // a substring of one evidence line
	}{
		// R4.3 (i): AI chatbots.
		{"R4.3 OpenAI verification", msg("From: OpenAI <noreply@tm.openai.com>", "To: anv.skhcn@sonla.gov.vn",
			"Subject: Verify your email address"), "bounces+123@em.openai.com", CategorySignupAI, "openai.com", "tm.openai.com"},
		{"R4.3 ChatGPT sign-in code", msg("From: ChatGPT <noreply@tm1.chatgpt.com>", "Subject: Your ChatGPT code is 123456"),
			"", CategorySignupAI, "chatgpt.com", ""},
		{"R4.3 Claude login link", msg("From: Claude Team <no-reply@mail.anthropic.com>", "Subject: Secure link to log in to Claude.ai"),
			"no-reply@mail.anthropic.com", CategorySignupAI, "anthropic.com", ""},
		{"R4.3 claude.ai sender", msg("From: Claude <support@claude.ai>", "Subject: Welcome to Claude"), "", CategorySignupAI, "claude.ai", ""},
		{"R4.3 DeepSeek, Vietnamese subject", msg("From: DeepSeek <noreply@service.deepseek.com>",
			"Subject: =?UTF-8?B?TcOjIHjDoWMgbWluaCBEZWVwU2Vlaw==?="), "", CategorySignupAI, "deepseek.com", "Mã xác minh"},
		{"R4.3 Gemini", msg("From: Gemini <gemini-noreply@gemini.google.com>", "Subject: Welcome to Gemini"), "", CategorySignupAI, "gemini.google.com", ""},
		{"R4.3 Poe by envelope only", msg("From: Poe <hello@example.net>", "Subject: Your Poe login"), "mailer@poe.com", CategorySignupAI, "poe.com", "envelope sender"},
		// R4.3 (ii): social networks.
		{"R4.3 Facebook code, encoded Vietnamese", msg("From: Facebook <security@facebookmail.com>",
			"Subject: =?UTF-8?B?TcOjIHjDoWMgbmjhuq1uIEZhY2Vib29rIGPhu6dhIGLhuqFuIGzDoCAxMjM0NTY=?="), "", CategorySignupSocial, "facebookmail.com", "Mã xác nhận"},
		{"R4.3 Zalo welcome", msg("From: Zalo <noreply@zalo.me>", "Subject: Chào mừng bạn đến với Zalo"), "", CategorySignupSocial, "zalo.me", "chào mừng bạn đến với"},
		{"R4.3 TikTok subdomain", msg("From: TikTok <no-reply@account.tiktok.com>", "Subject: 123456 is your verification code"), "", CategorySignupSocial, "tiktok.com", ""},
		{"R4.3 LinkedIn invitation", msg("From: LinkedIn <invitations@linkedin.com>", "Subject: Nguyen Van B wants to connect"), "", CategorySignupSocial, "linkedin.com", ""},
		{"R4.3 X", msg("From: X <info@x.com>", "Subject: Confirm your account"), "", CategorySignupSocial, "x.com", ""},
		{"R4.3 Telegram", msg("From: Telegram <noreply@telegram.org>", "Subject: Login code"), "", CategorySignupSocial, "telegram.org", ""},
		// R4.3 (ii): commercial sites; the service list wins over bulk headers.
		{"R4.3 Shopee sign-up with List-Unsubscribe", msg("From: Shopee <info@mail.shopee.vn>", "Subject: Đăng ký thành công",
			"List-Unsubscribe: <mailto:unsub@mail.shopee.vn>"), "", CategorySignupCommercial, "shopee.vn", "List-Unsubscribe"},
		{"R4.3 Lazada", msg("From: Lazada Vietnam <noreply@lazada.vn>", "Subject: Xác nhận địa chỉ email"), "", CategorySignupCommercial, "lazada.vn", ""},
		{"R4.3 Tiki", msg("From: Tiki <hotro@tiki.vn>", "Subject: Đơn hàng của bạn"), "", CategorySignupCommercial, "tiki.vn", ""},
		{"R4.3 Amazon", msg("From: \"Amazon.com\" <account-update@amazon.com>", "Subject: Verify your new Amazon account"), "", CategorySignupCommercial, "amazon.com", ""},
		{"R4.3 unknown service, subject without diacritics", msg("From: Web ABC <no-reply@webabc.example>",
			"Subject: Xac nhan tai khoan cua ban"), "", CategorySignupCommercial, "", "xác nhận tài khoản"},
		{"R4.3 unknown service, Vietnamese machine sender", msg("From: Cong ty XYZ <thongbao@xyz.example>",
			"Subject: Kích hoạt tài khoản"), "", CategorySignupCommercial, "", "thongbao@xyz.example is automated"},
		{"R4.3 unknown service, Auto-Submitted", msg("From: Portal <portal@svc.example>", "Auto-Submitted: auto-generated",
			"Subject: Welcome to Portal"), "", CategorySignupCommercial, "", "Auto-Submitted"},
		// R4.2 / R4.3 (iii): bulk mail.
		{"R4.2 Mailchimp newsletter", msg("From: =?UTF-8?Q?T=E1=BA=A1p_ch=C3=AD_X?= <news@tapchix.example>", "Subject: Bản tin tháng 11",
			"List-Unsubscribe: <https://tapchix.us5.list-manage.com/unsubscribe?u=1>", "X-Mailchimp-Campaign: abc"),
			"bounce-mc.us5_1.2-anv.skhcn=sonla.gov.vn@mail123.mcsv.net", CategoryBulk, "mcsv.net", "X-Mailchimp"},
		{"R4.2 List-Unsubscribe only", msg("From: Shop <shop@cuahang.example>", "Subject: Hàng mới về",
			"List-Unsubscribe: <mailto:u@cuahang.example>"), "", CategoryBulk, "", "List-Unsubscribe"},
		{"R4.2 Precedence: bulk", msg("From: a@b.example", "Subject: Hello", "Precedence: bulk"), "", CategoryBulk, "", "precedence: bulk"},
		{"R4.2 Precedence: List (case)", msg("From: a@b.example", "Subject: Hello", "Precedence: List"), "", CategoryBulk, "", "precedence: list"},
		{"R4.2 Precedence: junk with comment", msg("From: a@b.example", "Subject: Hello", "Precedence: junk (auto)"), "", CategoryBulk, "", "precedence: junk"},
		{"R4.2 Feedback-ID (SES, Gmail)", msg("From: a@b.example", "Subject: Hello", "Feedback-ID: 1.us-east-1.abc:AmazonSES"), "", CategoryBulk, "", "Feedback-ID"},
		{"R4.2 SendGrid envelope", msg("From: Promo <promo@cuahang.example>", "Subject: Tin mới"), "bounces+1=x@em.sendgrid.net", CategoryBulk, "sendgrid.net", "bulk sender"},
		{"R4.2 promotion from a machine sender", msg("From: Siêu thị <khuyenmai@sieuthi.example>", "Subject: GIẢM GIÁ 50% cuối tuần"),
			"", CategoryBulk, "", "giảm giá"},
		{"R4.2 promotion without diacritics", msg("From: noreply@shop.example", "Subject: Khuyen mai lon thang 12"), "", CategoryBulk, "", "khuyến mãi"},
		{"R4.2 English newsletter", msg("From: news@magazine.example", "Subject: Our weekly newsletter"), "", CategoryBulk, "", "newsletter"},
		{"R4.2 forged gov.vn From through an ESP", msg("From: thongbao@sonla.gov.vn", "Subject: Thông báo",
			"List-Unsubscribe: <mailto:u@x.example>"), "bounces@em.sendgrid.net", CategoryBulk, "sendgrid.net", ""},
		// Not evidence.
		{"official mail", msg("From: Van thu <vanthu.skhcn@sonla.gov.vn>", "Subject: Giấy mời họp"), "vanthu.skhcn@sonla.gov.vn", CategoryNone, "", ""},
		{"official mailing list is exempt", msg("From: ubnd@sonla.gov.vn", "Subject: Bản tin nội bộ", "List-Id: <noibo.sonla.gov.vn>",
			"Precedence: list"), "ubnd@sonla.gov.vn", CategoryNone, "", ""},
		{"other province, bounce", msg("From: MAILER-DAEMON@mail.hanoi.gov.vn", "Subject: Undelivered Mail"), "", CategoryNone, "", ""},
		{"a person writing about prices", msg("From: Nguyen Van A <anv@congty.example>", "Subject: Báo cáo tình hình giảm giá xăng dầu"), "anv@congty.example", CategoryNone, "", ""},
		{"a person saying welcome", msg("From: Tran B <btran@partner.example>", "Subject: Welcome to the workshop"), "", CategoryNone, "", ""},
		{"whole words only", msg("From: noreply@x.example", "Subject: Wholesale report"), "", CategoryNone, "", ""},
		{"domain boundary", msg("From: noreply@notopenai.com", "Subject: Hello"), "", CategoryNone, "", ""},
		{"Precedence: first-class", msg("From: a@b.example", "Subject: Hi", "Precedence: first-class"), "", CategoryNone, "", ""},
		{"no header at all", []byte(""), "", CategoryNone, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := p.Classify(ParseHeader(tc.raw), tc.envFrom)
			if v2 := p.Classify(p.ReadHeader(tc.raw), tc.envFrom); !sameVerdict(v, v2) {
				t.Fatalf("ReadHeader gives %+v, ParseHeader %+v", v2, v)
			}
			if v.Category != tc.want {
				t.Fatalf("Category = %s, want %s (evidence %q)", v.Category, tc.want, v.Evidence)
			}
			if v.Service != tc.service {
				t.Errorf("Service = %q, want %q", v.Service, tc.service)
			}
			if tc.evidence != "" && !strings.Contains(strings.ToLower(strings.Join(v.Evidence, "\n")), strings.ToLower(tc.evidence)) {
				t.Errorf("Evidence %q lacks %q", v.Evidence, tc.evidence)
			}
			if tc.want == CategoryNone {
				if v.Action != ActionAllow || v.Held() || v.ReasonVI != "" || v.HeaderField() != "" {
					t.Errorf("none with %+v", v)
				}
				return
			}
			// R4.2: held in quarantine by default, and the user is told why in
			// Vietnamese, citing the rule.
			if v.Action != ActionQuarantine || !v.Held() {
				t.Errorf("Action = %s, want quarantine", v.Action)
			}
			if !strings.Contains(v.ReasonVI, "giữ lại") || !strings.Contains(v.ReasonVI, "khoản 3 Điều 4") {
				t.Errorf("ReasonVI = %q", v.ReasonVI)
			}
			if !strings.Contains(v.ReasonEN, "Article 4(3)") {
				t.Errorf("ReasonEN = %q", v.ReasonEN)
			}
			if hf := v.HeaderField(); !strings.HasPrefix(hf, "X-Govmail-Policy: "+string(tc.want)+"; action=quarantine") {
				t.Errorf("HeaderField = %q", hf)
			}
		})
	}
}

// TestUnitAllow_R4_2: a unit's allow-list turns the action into allow but keeps
// the category, so the match is still counted.
func TestUnitAllow_R4_2(t *testing.T) {
	cfg := DefaultConfig()
	cfg.UnitAllow = map[string][]string{"vhttdl": {"zalo.me", "facebookmail.com"}}
	p := mustNew(t, cfg)
	h := ParseHeader(msg("From: Zalo <noreply@zalo.me>", "Subject: Tin nhắn mới từ Zalo OA"))

	v := p.ClassifyFor(h, "", p.UnitAllowList("vhttdl"))
	if v.Category != CategorySignupSocial || v.Action != ActionAllow || v.Held() {
		t.Fatalf("allowed unit: %+v", v)
	}
	if !strings.Contains(strings.Join(v.Evidence, " "), "unit allows zalo.me") {
		t.Errorf("Evidence = %q", v.Evidence)
	}
	if !strings.HasPrefix(v.ReasonVI, "Thư được chuyển bình thường") {
		t.Errorf("ReasonVI = %q", v.ReasonVI)
	}
	if v := p.ClassifyFor(h, "", p.UnitAllowList("skhcn")); !v.Held() {
		t.Fatalf("unit without allow-list: %+v", v)
	}
	// Delivery looks a recipient's unit up only when some unit has a list.
	if !p.HasUnitAllowLists() || mustNew(t, DefaultConfig()).HasUnitAllowLists() {
		t.Errorf("HasUnitAllowLists: %v with lists, %v without", p.HasUnitAllowLists(), mustNew(t, DefaultConfig()).HasUnitAllowLists())
	}
	// A list from the database is passed the same way; bad entries are skipped.
	if v := p.ClassifyFor(h, "", []string{"not a domain", "ZALO.ME."}); v.Action != ActionAllow {
		t.Fatalf("runtime allow-list: %+v", v)
	}
}

// TestActions_R4_2: the action per category is configuration.
func TestActions_R4_2(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Actions.Bulk = ActionTag
	cfg.Actions.SignupAI = ActionAllow
	p := mustNew(t, cfg)

	v := p.Classify(ParseHeader(msg("From: a@b.example", "Precedence: bulk", "Subject: x")), "")
	if v.Category != CategoryBulk || v.Action != ActionTag || v.Held() {
		t.Fatalf("bulk tagged: %+v", v)
	}
	if v.HeaderField() != "X-Govmail-Policy: bulk; action=tag\r\n" {
		t.Errorf("HeaderField = %q", v.HeaderField())
	}
	if !strings.HasPrefix(v.ReasonVI, "Thư được đánh dấu") {
		t.Errorf("ReasonVI = %q", v.ReasonVI)
	}
	v = p.Classify(ParseHeader(msg("From: noreply@openai.com", "Subject: x")), "")
	if v.Category != CategorySignupAI || v.Action != ActionAllow {
		t.Fatalf("AI allowed: %+v", v)
	}
}

func TestNew_Errors(t *testing.T) {
	for name, mut := range map[string]func(*Config){
		"unknown action":     func(c *Config) { c.Actions.Bulk = "delete" },
		"missing action":     func(c *Config) { c.Actions.SignupSocial = "" },
		"bad domain":         func(c *Config) { c.AIDomains = append(c.AIDomains, "user@openai.com") },
		"bare label":         func(c *Config) { c.CommercialDomains = []string{"shopee"} },
		"bad header rule":    func(c *Config) { c.BulkHeaders = []string{"Precedence:"} },
		"star inside":        func(c *Config) { c.BulkHeaders = []string{"X-*-Id"} },
		"empty pattern":      func(c *Config) { c.SignupSubjects = []string{"!!!"} },
		"bad local part":     func(c *Config) { c.AutomatedSenders = []string{"no reply"} },
		"bad unit allow":     func(c *Config) { c.UnitAllow = map[string][]string{"skhcn": {"*.zalo.me"}} },
		"bad exempt":         func(c *Config) { c.ExemptDomains = []string{""} },
		"bad bulk sender":    func(c *Config) { c.BulkSenderDomains = []string{"sendgrid net"} },
		"bad social domains": func(c *Config) { c.SocialDomains = []string{"http://facebook.com"} },
	} {
		cfg := DefaultConfig()
		mut(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseHeader(t *testing.T) {
	raw := []byte("From: =?UTF-8?B?Q8O0bmcgdHkgWA==?= <news@x.example>\r\n" +
		"Subject: =?windows-1258?Q?Khuy=EAn_ma=F5i?=\r\n" + // legacy Vietnamese charset
		"List-Unsubscribe:\r\n <mailto:u@x.example>\r\n" +
		"X-Mailchimp-Campaign: 1\r\n" +
		"\r\n" +
		"Precedence: bulk\r\n") // in the body: not a header field
	h := ParseHeader(raw)
	if got := h.Get("from"); got != "Công ty X <news@x.example>" {
		t.Errorf("From = %q", got)
	}
	if got := h.Get("Subject"); !strings.HasPrefix(got, "Khuy") {
		t.Errorf("Subject = %q", got)
	}
	if got := h.Get("List-Unsubscribe"); got != "<mailto:u@x.example>" {
		t.Errorf("List-Unsubscribe = %q", got)
	}
	if _, ok := h["precedence"]; ok {
		t.Error("a line of the body was read as a header field")
	}
	if _, ok := h["x-mailchimp-campaign"]; !ok {
		t.Error("X-Mailchimp-Campaign missing")
	}
	// A header that breaks off into body text without a blank line.
	h = ParseHeader([]byte("From: a@b.example\r\nthis is body text\r\nPrecedence: bulk\r\n"))
	if _, ok := h["precedence"]; ok {
		t.Error("read past the end of a header without a blank line")
	}
}

func TestFirstAddress(t *testing.T) {
	for in, want := range map[string]string{
		"OpenAI <noreply@tm.openai.com>":       "noreply@tm.openai.com",
		"noreply@tm.openai.com":                "noreply@tm.openai.com",
		"Công ty X <news@x.example>":           "news@x.example",
		`"Shopee, VN" <a@shopee.vn>, b@c.d`:    "a@shopee.vn",
		"broken <<a@b.example>":                "a@b.example",
		"undisclosed-recipients:;":             "",
		"Nguyễn Văn A anv@congty.example (VN)": "anv@congty.example",
		"": "",
	} {
		if got := firstAddress(in); got != want {
			t.Errorf("firstAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPure_R4_3: the package only reads headers and configuration. It imports
// nothing that could reach an account (store, auth, directory …), so by
// construction it can never lock one (R4.3: detection is an aid, never a sanction).
func TestPure_R4_3(t *testing.T) {
	allowed := map[string]bool{"fmt": true, "strings": true, "sort": true, "net/mail": true,
		"govmail/internal/textfold": true, "govmail/internal/mailparse": true}
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(fset, f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !allowed[path] {
				t.Errorf("%s imports %s: contentpolicy must stay a pure function of the header", f, path)
			}
		}
	}
}

// FuzzClassify: any header and envelope give a consistent verdict, and the
// header field delivery writes is one well-formed line.
func FuzzClassify(f *testing.F) {
	f.Add(string(msg("From: OpenAI <noreply@tm.openai.com>", "Subject: Verify your email")), "x@em.openai.com")
	f.Add(string(msg("From: a@b.example", "Precedence: bulk", "X-Mailchimp-Id: 1")), "")
	f.Add(string(msg("From: =?UTF-8?B?w4Q=?= <khuyenmai@x.example>", "Subject: GIẢM GIÁ")), "@")
	f.Add("From: <@>\r\nSender: ,,,\r\n\r\n", "<>")
	p := mustNew(f, DefaultConfig())
	f.Fuzz(func(t *testing.T, raw, envFrom string) {
		v := p.ClassifyFor(ParseHeader([]byte(raw)), envFrom, []string{"zalo.me"})
		if v2 := p.ClassifyFor(p.ReadHeader([]byte(raw)), envFrom, []string{"zalo.me"}); !sameVerdict(v, v2) {
			t.Fatalf("ReadHeader gives %+v, ParseHeader %+v", v2, v)
		}
		switch v.Category {
		case CategoryNone:
			if v.Action != ActionAllow || v.ReasonVI != "" || v.HeaderField() != "" {
				t.Fatalf("inconsistent none: %+v", v)
			}
			return
		case CategorySignupAI, CategorySignupSocial, CategorySignupCommercial, CategoryBulk:
		default:
			t.Fatalf("unknown category %q", v.Category)
		}
		if v.ReasonVI == "" || v.ReasonEN == "" || len(v.Evidence) == 0 {
			t.Fatalf("no reason or evidence: %+v", v)
		}
		hf := v.HeaderField()
		if !strings.HasSuffix(hf, "\r\n") || strings.ContainsAny(strings.TrimSuffix(hf, "\r\n"), "\r\n") {
			t.Fatalf("bad header field %q", hf)
		}
	})
}

func sameVerdict(a, b Verdict) bool {
	return a.Category == b.Category && a.Action == b.Action && a.Service == b.Service &&
		a.ReasonVI == b.ReasonVI && strings.Join(a.Evidence, "\n") == strings.Join(b.Evidence, "\n")
}

func BenchmarkClassify(b *testing.B) {
	p := mustNew(b, DefaultConfig())
	raw := msg("Return-Path: <bounce-mc.us5_1@mail123.mcsv.net>",
		"Received: from mail123.mcsv.net (mail123.mcsv.net [198.2.1.1]) by mx.sonla.gov.vn with ESMTPS; Thu, 26 Nov 2026 10:00:00 +0700",
		"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=mcsv.net; s=k3; h=From:Subject:To; bh=abc; b=def",
		"From: =?UTF-8?Q?T=E1=BA=A1p_ch=C3=AD_X?= <news@tapchix.example>", "To: anv.skhcn@sonla.gov.vn",
		"Subject: =?UTF-8?Q?B=E1=BA=A3n_tin_th=C3=A1ng_11?=", "Date: Thu, 26 Nov 2026 10:00:00 +0700",
		"Message-ID: <abc@mcsv.net>", "List-Unsubscribe: <https://x.list-manage.com/u>", "X-Mailchimp-Campaign: 1",
		"MIME-Version: 1.0", "Content-Type: text/html; charset=utf-8")
	for name, read := range map[string]func([]byte) Header{"ParseHeader": ParseHeader, "ReadHeader": p.ReadHeader} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v := p.Classify(read(raw), "bounce-mc.us5_1@mail123.mcsv.net")
				if v.Category != CategoryBulk {
					b.Fatal(v.Category)
				}
			}
		})
	}
}
