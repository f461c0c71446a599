package contentpolicy

// Category is what kind of prohibited use a message is evidence of (Điều 4.3).
type Category string

// Categories.
const (
	CategoryNone             Category = "none"
	CategorySignupAI         Category = "signup_ai"         // 4.3(i): AI chatbots, large language models
	CategorySignupSocial     Category = "signup_social"     // 4.3(ii): social networks, fan pages, groups
	CategorySignupCommercial Category = "signup_commercial" // 4.3(ii): commercial sites, other online services
	CategoryBulk             Category = "bulk"              // 4.3(iii): newsletters, promotions, adverts
)

// Categories lists the categories that hold evidence, in report order.
func Categories() []Category {
	return []Category{CategorySignupAI, CategorySignupSocial, CategorySignupCommercial, CategoryBulk}
}

// Action is what delivery does with a message of a category.
type Action string

// Actions.
const (
	// ActionQuarantine holds the message out of the inbox; the user is told why
	// and operators may release it (R4.2).
	ActionQuarantine Action = "quarantine"
	// ActionTag delivers the message with the X-Govmail-Policy header only.
	ActionTag Action = "tag"
	// ActionAllow delivers the message as if nothing matched (the match is still
	// in the verdict, for counting).
	ActionAllow Action = "allow"
)

// Actions is the action per category.
type Actions struct {
	SignupAI         Action `toml:"signup_ai"`
	SignupSocial     Action `toml:"signup_social"`
	SignupCommercial Action `toml:"signup_commercial"`
	Bulk             Action `toml:"bulk"`
}

func (a Actions) of(c Category) Action {
	switch c {
	case CategorySignupAI:
		return a.SignupAI
	case CategorySignupSocial:
		return a.SignupSocial
	case CategorySignupCommercial:
		return a.SignupCommercial
	case CategoryBulk:
		return a.Bulk
	}
	return ActionAllow
}

// Config is the policy's configuration (a section of govmail.toml). Domains match
// themselves and their subdomains ("openai.com" matches "tm.openai.com", not
// "notopenai.com"). Subject patterns match whole words after folding with
// textfold.Search, so "xác nhận tài khoản", "xac nhan tai khoan" and
// "XÁC NHẬN TÀI KHOẢN" are the same pattern.
type Config struct {
	// Service domains whose mail is evidence of a sign-up (4.3 i–ii).
	AIDomains         []string `toml:"ai_domains"`
	SocialDomains     []string `toml:"social_domains"`
	CommercialDomains []string `toml:"commercial_domains"`
	// BulkSenderDomains are bulk-mail providers (4.3 iii): their mail is bulk
	// whatever it says.
	BulkSenderDomains []string `toml:"bulk_sender_domains"`
	// ExemptDomains are never classified: official senders (gov.vn). A message is
	// exempt when its From domain is, and its envelope sender is empty or exempt
	// too (a forged From alone does not make a newsletter official).
	ExemptDomains []string `toml:"exempt_domains"`

	// BulkHeaders mark bulk mail by header: "Name" (present), "Name: v1|v2"
	// (present with one of these values, case-insensitive, first word), or
	// "Prefix-*" (any field whose name starts so).
	BulkHeaders []string `toml:"bulk_headers"`
	// AutomatedSenders are local parts of machine senders ("noreply", "thongbao");
	// a local part equal to one, or starting with one followed by - _ . +, counts.
	AutomatedSenders []string `toml:"automated_senders"`
	// SignupSubjects and BulkSubjects classify mail from automated senders that
	// are in no list: a sign-up mail from an unknown online service counts as
	// signup_commercial, a promotion as bulk. A subject alone, from a person,
	// never does (officials write about "giảm giá" too).
	SignupSubjects []string `toml:"signup_subjects"`
	BulkSubjects   []string `toml:"bulk_subjects"`

	Actions Actions `toml:"actions"`
	// UnitAllow lists, per unit (keyed as the caller keys units), the sender
	// domains the unit allows: a unit that runs an official Zalo page allows
	// zalo.me. Matching mail gets ActionAllow.
	UnitAllow map[string][]string `toml:"unit_allow"`

	// RegulationVI and RegulationEN name the rule in the reasons users read.
	RegulationVI string `toml:"regulation_vi"`
	RegulationEN string `toml:"regulation_en"`
}

// DefaultConfig returns the lists for Sơn La (Quyết định 115/2025/QĐ-UBND,
// Điều 4.3). Every list is configuration; these are starting points.
func DefaultConfig() Config {
	return Config{
		AIDomains: []string{
			"openai.com", "chatgpt.com", "anthropic.com", "claude.ai", "claude.com",
			"gemini.google.com", "poe.com", "deepseek.com", "perplexity.ai", "mistral.ai",
			"x.ai", "character.ai", "copilot.microsoft.com", "midjourney.com", "huggingface.co",
			"you.com", "jasper.ai", "writesonic.com", "monica.im",
		},
		SocialDomains: []string{
			"facebookmail.com", "facebook.com", "fb.com", "instagram.com", "threads.net",
			"tiktok.com", "x.com", "twitter.com", "zalo.me", "zalo.vn", "linkedin.com",
			"telegram.org", "discord.com", "discordapp.com", "pinterest.com", "redditmail.com",
			"reddit.com", "snapchat.com", "viber.com", "whatsapp.com", "quora.com",
		},
		CommercialDomains: []string{
			"shopee.vn", "shopee.com", "shopeemail.com", "lazada.vn", "lazada.com", "tiki.vn",
			"sendo.vn", "amazon.com", "aliexpress.com", "alibaba.com", "temu.com", "shein.com",
			"ebay.com", "booking.com", "agoda.com", "traveloka.com", "grab.com", "be.com.vn",
			"thegioididong.com", "dienmayxanh.com", "fptshop.com.vn", "cellphones.com.vn",
		},
		BulkSenderDomains: []string{
			"mcsv.net", "mcdlv.net", "rsgsv.net", "mailchimpapp.net", "list-manage.com", "mandrillapp.com",
			"sendgrid.net", "sparkpostmail.com", "mailjet.com", "sendinblue.com", "brevo.com",
			"constantcontact.com", "createsend.com", "cmail19.com", "cmail20.com", "klaviyomail.com",
			"hubspotemail.net", "hs-email.net", "mktomail.com", "exacttarget.com", "salesforce.com",
			"substack.com", "beehiiv.com", "getresponse.com", "convertkit.com", "moosend.com",
		},
		ExemptDomains: []string{"gov.vn"},
		BulkHeaders: []string{
			"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id",
			"Precedence: bulk|list|junk",
			"Feedback-ID",
			"X-Mailchimp-*", "X-MC-User", "X-Mandrill-User", "X-Campaign*", "X-CampaignID",
			"X-SG-EID", "X-Mailgun-Tag", "X-MSFBL", "X-Mailer-RecptId", "X-Newsletter*",
			"X-Marketing*", "X-Klaviyo-*", "X-HubSpot-*", "X-SFMC-*",
		},
		AutomatedSenders: []string{
			"noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply",
			"notification", "notifications", "notify", "news", "newsletter", "marketing",
			"promo", "promotion", "promotions", "info", "mailer", "bounce", "bounces",
			"account", "accounts", "verify", "verification", "welcome", "hello", "team",
			"support", "security",
			// Vietnamese machine senders: thông báo, hỗ trợ, khách hàng, chăm sóc
			// khách hàng, tin tức, khuyến mãi.
			"thongbao", "hotro", "khachhang", "cskh", "tintuc", "khuyenmai",
		},
		SignupSubjects: []string{
			"xác nhận tài khoản", "xác nhận email", "xác nhận địa chỉ email", "xác thực tài khoản",
			"xác thực email", "mã xác minh", "mã xác nhận", "mã xác thực", "mã OTP",
			"chào mừng bạn đến với", "đăng ký thành công", "kích hoạt tài khoản", "tạo tài khoản",
			"verify your email", "verify your email address", "verify your account",
			"confirm your email", "confirm your account", "confirm your email address",
			"activate your account", "verification code", "your code", "welcome to",
			"thanks for signing up", "thank you for signing up", "complete your registration",
			"finish signing up", "your new account", "account created",
		},
		BulkSubjects: []string{
			"khuyến mãi", "giảm giá", "ưu đãi", "sale", "flash sale", "bản tin", "quà tặng",
			"miễn phí vận chuyển", "voucher", "mã giảm giá", "newsletter", "unsubscribe",
			"special offer", "discount", "deal", "deals", "limited time", "free shipping",
			"digest", "weekly update",
		},
		Actions: Actions{
			SignupAI:         ActionQuarantine,
			SignupSocial:     ActionQuarantine,
			SignupCommercial: ActionQuarantine,
			Bulk:             ActionQuarantine,
		},
		RegulationVI: "khoản 3 Điều 4 Quy chế sử dụng Hệ thống thư điện tử tỉnh Sơn La " +
			"(ban hành kèm theo Quyết định số 115/2025/QĐ-UBND)",
		RegulationEN: "Article 4(3) of the Sơn La e-mail regulation (Decision 115/2025/QĐ-UBND)",
	}
}
