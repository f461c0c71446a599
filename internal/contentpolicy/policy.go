// Package contentpolicy recognises mail that shows an official mailbox being used
// as Điều 4.3 forbids (R4.2, R4.3): sign-up and verification mail from AI chatbots,
// social networks and commercial sites, and bulk mail (newsletters, promotions,
// adverts). It decides from the header alone (cheap, before storing) and returns a
// verdict: the category, the configured action (quarantine, tag, allow), the
// reason to tell the user in Vietnamese and English, and the evidence.
//
// It is pure: no I/O, no state, no clock. It never holds, counts or delivers a
// message (delivery does), and it never locks an account: R4.3 makes this
// detection an aid to people, not a sanction.
package contentpolicy

import (
	"fmt"
	"strings"

	"govmail/internal/textfold"
)

// Verdict is the policy's decision on one message.
type Verdict struct {
	Category Category
	Action   Action
	// Service is the list entry that matched ("openai.com"), or the bulk sender
	// domain; empty for header or subject evidence alone.
	Service string
	// ReasonVI and ReasonEN say why, for the notice the user gets; empty when
	// Category is none.
	ReasonVI, ReasonEN string
	// Evidence lists what matched, in English, for operators and the log.
	Evidence []string
}

// Held reports whether the message goes to quarantine instead of the inbox.
func (v Verdict) Held() bool { return v.Action == ActionQuarantine }

// HeaderField returns the filter trace field delivery prepends for a verdict
// that matched (N2: a header, never a change to the body), or "" for none:
//
//	X-Govmail-Policy: bulk; action=quarantine; service=mcsv.net
func (v Verdict) HeaderField() string {
	if v.Category == CategoryNone || v.Category == "" {
		return ""
	}
	s := "X-Govmail-Policy: " + string(v.Category) + "; action=" + string(v.Action)
	if v.Service != "" {
		s += "; service=" + v.Service
	}
	return s + "\r\n"
}

// Policy is a compiled Config. Safe for concurrent use; it never changes.
type Policy struct {
	services  []serviceList // AI, social, commercial: in that order of precedence
	bulk      domainSet
	exempt    domainSet
	headers   []headerRule
	automated []string
	signup    []pattern
	promo     []pattern
	actions   Actions
	unitAllow map[string]domainSet
	regVI     string
	regEN     string
}

type serviceList struct {
	cat     Category
	domains domainSet
}

// New checks and compiles cfg.
func New(cfg Config) (*Policy, error) {
	p := &Policy{actions: cfg.Actions, regVI: cfg.RegulationVI, regEN: cfg.RegulationEN, unitAllow: map[string]domainSet{}}
	var err error
	lists := []struct {
		cat   Category
		name  string
		items []string
	}{
		{CategorySignupAI, "ai_domains", cfg.AIDomains},
		{CategorySignupSocial, "social_domains", cfg.SocialDomains},
		{CategorySignupCommercial, "commercial_domains", cfg.CommercialDomains},
	}
	for _, l := range lists {
		ds, err := newDomainSet(l.name, l.items)
		if err != nil {
			return nil, err
		}
		p.services = append(p.services, serviceList{l.cat, ds})
	}
	if p.bulk, err = newDomainSet("bulk_sender_domains", cfg.BulkSenderDomains); err != nil {
		return nil, err
	}
	if p.exempt, err = newDomainSet("exempt_domains", cfg.ExemptDomains); err != nil {
		return nil, err
	}
	for unit, l := range cfg.UnitAllow {
		if p.unitAllow[unit], err = newDomainSet("unit_allow."+unit, l); err != nil {
			return nil, err
		}
	}
	for _, h := range cfg.BulkHeaders {
		r, err := parseHeaderRule(h)
		if err != nil {
			return nil, err
		}
		p.headers = append(p.headers, r)
	}
	for _, a := range cfg.AutomatedSenders {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "" || strings.ContainsAny(a, "@ \t") {
			return nil, fmt.Errorf("contentpolicy: automated_senders: bad local part %q", a)
		}
		p.automated = append(p.automated, a)
	}
	if p.signup, err = newPatterns("signup_subjects", cfg.SignupSubjects); err != nil {
		return nil, err
	}
	if p.promo, err = newPatterns("bulk_subjects", cfg.BulkSubjects); err != nil {
		return nil, err
	}
	for _, c := range Categories() {
		switch a := cfg.Actions.of(c); a {
		case ActionQuarantine, ActionTag, ActionAllow:
		case "":
			return nil, fmt.Errorf("contentpolicy: actions.%s is not set (quarantine, tag or allow)", c)
		default:
			return nil, fmt.Errorf("contentpolicy: actions.%s: unknown action %q (quarantine, tag or allow)", c, a)
		}
	}
	return p, nil
}

// UnitAllowList returns the configured allow-list of a unit (nil when none), for
// ClassifyFor.
func (p *Policy) UnitAllowList(unit string) []string {
	return p.unitAllow[unit].list()
}

// HasUnitAllowLists tells whether any unit has an allow-list, so that a caller
// can skip finding a recipient's unit when none could change the verdict.
func (p *Policy) HasUnitAllowLists() bool { return len(p.unitAllow) > 0 }

// Classify decides on a message from its header and envelope sender, without a
// unit's allow-list.
func (p *Policy) Classify(h Header, envelopeFrom string) Verdict {
	return p.ClassifyFor(h, envelopeFrom, nil)
}

// ClassifyFor is Classify for a recipient whose unit allows the sender domains in
// allow (R4.2 per-unit allow-list): a match there turns the action into allow.
// Delivery calls it once per recipient unit; it reads the header only.
//
// The rules, first match wins:
//  1. From in an exempt domain (gov.vn), envelope sender empty or exempt: none.
//  2. A sender domain (From, Sender, envelope) in the AI, social or commercial
//     list: that sign-up category. Any mail from these services to an official
//     mailbox shows an account there.
//  3. A sender domain in the bulk-sender list, or a bulk header (List-Unsubscribe,
//     Precedence: bulk, Feedback-ID, …): bulk.
//  4. An automated sender (noreply@, thongbao@ …) whose subject is a sign-up
//     subject: signup_commercial (an online service not in the lists); a
//     promotional subject: bulk.
//  5. Otherwise none.
func (p *Policy) ClassifyFor(h Header, envelopeFrom string, allow []string) Verdict {
	from := firstAddress(h.Get("From"))
	senders := senderAddresses(from, firstAddress(h.Get("Sender")), envelopeFrom)

	fromDomain := domainOf(from)
	envDomain := domainOf(envelopeFrom)
	if fromDomain != "" && p.exempt.match(fromDomain) != "" && (envDomain == "" || p.exempt.match(envDomain) != "") {
		return Verdict{Category: CategoryNone, Action: ActionAllow, Evidence: []string{"exempt sender domain " + fromDomain}}
	}

	v := Verdict{Category: CategoryNone, Action: ActionAllow}
	subject := " " + textfold.Search(h.Get("Subject")) + " "

	// 2. Service domains.
services:
	for _, l := range p.services {
		for _, a := range senders {
			if m := l.domains.match(a.domain); m != "" {
				v.Category, v.Service = l.cat, m
				v.Evidence = append(v.Evidence, fmt.Sprintf("%s domain %s is listed (%s)", a.role, a.domain, m))
				break services
			}
		}
	}
	// 3. Bulk senders and headers: evidence for a service match too.
	bulkEvidence := false
	for _, a := range senders {
		if m := p.bulk.match(a.domain); m != "" {
			if v.Service == "" {
				v.Service = m
			}
			v.Evidence = append(v.Evidence, fmt.Sprintf("%s domain %s is a bulk sender (%s)", a.role, a.domain, m))
			bulkEvidence = true
			break
		}
	}
	for _, r := range p.headers {
		if e := r.match(h); e != "" {
			v.Evidence = append(v.Evidence, "header "+e)
			bulkEvidence = true
		}
	}
	// 4. Subjects, with an automated sender.
	auto := ""
	for _, a := range senders {
		if p.isAutomated(a.local) {
			auto = a.role + " " + a.local + "@" + a.domain + " is automated"
			break
		}
	}
	if h.Get("Auto-Submitted") != "" && !strings.EqualFold(strings.TrimSpace(h.Get("Auto-Submitted")), "no") && auto == "" {
		auto = "header Auto-Submitted: " + strings.TrimSpace(h.Get("Auto-Submitted"))
	}
	signup := matchPatterns(p.signup, subject)
	promo := matchPatterns(p.promo, subject)
	if signup != "" {
		v.Evidence = append(v.Evidence, fmt.Sprintf("subject matches %q", signup))
	}
	if promo != "" {
		v.Evidence = append(v.Evidence, fmt.Sprintf("subject matches %q", promo))
	}

	switch {
	case v.Category != CategoryNone:
	case bulkEvidence:
		v.Category = CategoryBulk
	case auto != "" && signup != "":
		v.Category = CategorySignupCommercial
		v.Evidence = append(v.Evidence, auto)
	case auto != "" && promo != "":
		v.Category = CategoryBulk
		v.Evidence = append(v.Evidence, auto)
	default:
		// Subject words alone, from a person, are no evidence: keep nothing.
		return Verdict{Category: CategoryNone, Action: ActionAllow}
	}

	v.Action = p.actions.of(v.Category)
	allowSet, _ := newDomainSet("", allow)
	for _, a := range senders {
		if m := allowSet.match(a.domain); m != "" {
			v.Action = ActionAllow
			v.Evidence = append(v.Evidence, fmt.Sprintf("the unit allows %s", m))
			break
		}
	}
	v.ReasonVI, v.ReasonEN = p.reasons(v)
	return v
}

// sender is one address the message claims to come from.
type sender struct{ role, local, domain string }

func senderAddresses(from, senderHdr, envelope string) []sender {
	var out []sender
	seen := map[string]bool{}
	for _, x := range []struct{ role, addr string }{{"From", from}, {"Sender", senderHdr}, {"envelope sender", envelope}} {
		addr := strings.ToLower(strings.Trim(strings.TrimSpace(x.addr), "<>"))
		at := strings.LastIndexByte(addr, '@')
		if at <= 0 || at == len(addr)-1 || seen[addr] {
			continue
		}
		seen[addr] = true
		out = append(out, sender{x.role, addr[:at], strings.TrimSuffix(addr[at+1:], ".")})
	}
	return out
}

func (p *Policy) isAutomated(local string) bool {
	// Plus-addressing and bounce tags ("bounces+123=…", "noreply-abc") keep
	// their prefix.
	for _, a := range p.automated {
		if local == a {
			return true
		}
		if strings.HasPrefix(local, a) && len(local) > len(a) && strings.ContainsRune("-_.+", rune(local[len(a)])) {
			return true
		}
	}
	return false
}

// reasons writes the user's notice. The Vietnamese text is what R4.2 requires;
// it says what was detected, which rule forbids it, and that an operator can
// release the message if it is official mail after all.
func (p *Policy) reasons(v Verdict) (vi, en string) {
	var whatVI, whatEN, ruleVI, ruleEN string
	svc := ""
	if v.Service != "" {
		svc = " (" + v.Service + ")"
	}
	switch v.Category {
	case CategorySignupAI:
		whatVI = "thư được gửi từ dịch vụ trí tuệ nhân tạo" + svc
		whatEN = "it comes from an AI chatbot service" + svc
		ruleVI = "không được dùng hộp thư công vụ để đăng ký sử dụng các mô hình ngôn ngữ lớn (chatbot AI)"
		ruleEN = "official mailboxes must not be used to sign up to large language models (AI chatbots)"
	case CategorySignupSocial:
		whatVI = "thư được gửi từ mạng xã hội" + svc
		whatEN = "it comes from a social network" + svc
		ruleVI = "không được dùng hộp thư công vụ để đăng ký tài khoản mạng xã hội, trang cộng đồng (fanpage), nhóm cộng đồng (group)"
		ruleEN = "official mailboxes must not be used to sign up to social networks, fan pages or groups"
	case CategorySignupCommercial:
		whatVI = "thư là thư đăng ký, xác nhận tài khoản của một trang thương mại hoặc dịch vụ trực tuyến" + svc
		whatEN = "it is a sign-up or verification mail from a commercial site or online service" + svc
		ruleVI = "không được dùng hộp thư công vụ để đăng ký các dịch vụ trực tuyến trên Internet như trang thông tin điện tử thương mại"
		ruleEN = "official mailboxes must not be used to sign up to online services such as commercial websites"
	case CategoryBulk:
		whatVI = "thư là thư gửi hàng loạt (bản tin, quảng cáo, khuyến mãi)" + svc
		whatEN = "it is bulk mail (a newsletter, promotion or advert)" + svc
		ruleVI = "không được dùng hộp thư công vụ để nhận thư giới thiệu, quảng bá, quảng cáo và các dịch vụ không phục vụ hoạt động công vụ"
		ruleEN = "official mailboxes must not be used to receive newsletters, promotions, adverts or other non-official services"
	default:
		return "", ""
	}
	switch v.Action {
	case ActionQuarantine:
		vi = "Thư đã được giữ lại, không chuyển vào Hộp thư đến, vì " + whatVI + ". "
		en = "This message was held and not delivered to the inbox because " + whatEN + ". "
	case ActionTag:
		vi = "Thư được đánh dấu vì " + whatVI + ". "
		en = "This message was marked because " + whatEN + ". "
	default:
		vi = "Thư được chuyển bình thường; hệ thống ghi nhận " + whatVI + ". "
		en = "This message was delivered; it was noted that " + whatEN + ". "
	}
	vi += "Theo " + p.regVI + ", " + ruleVI + "."
	en += "Under " + p.regEN + ", " + ruleEN + "."
	if v.Action == ActionQuarantine {
		vi += " Nếu đây là thư phục vụ công vụ, đề nghị liên hệ quản trị viên hệ thống để được chuyển thư."
		en += " If this is official mail, ask the system operators to release it."
	}
	return vi, en
}
