package authreport_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"govmail/internal/authreport"
	"govmail/internal/clock"
	"govmail/internal/store/sqlite"
)

// The DMARC count is one store write on the path of every message received
// from a domain that asks for reports.
func BenchmarkRecordDMARC(b *testing.B) {
	clk := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	st, err := sqlite.Open(context.Background(), sqlite.Options{Dir: b.TempDir(), Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s := &authreport.Service{Store: st, Clock: clk, Hostname: "mail.sonla.gov.vn"}
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			ip := fmt.Sprintf("192.0.2.%d", i%50)
			s.RecordDMARC(ctx, ip, "a@hanoi.gov.vn", result("hanoi.gov.vn", "hanoi.gov.vn", i%7 != 0, true, "mailto:dmarc@hanoi.gov.vn"), "none")
		}
	})
}

// A large reporter's daily report: 10,000 source rows, gzip'd in a mail.
func BenchmarkExtractLargeDMARC(b *testing.B) {
	var x strings.Builder
	x.WriteString(`<?xml version="1.0"?><feedback><report_metadata><org_name>big.example</org_name><email>r@big.example</email><report_id>1</report_id>` +
		`<date_range><begin>1795564800</begin><end>1795651199</end></date_range></report_metadata><policy_published><domain>sonla.gov.vn</domain><p>quarantine</p></policy_published>`)
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&x, `<record><row><source_ip>10.%d.%d.%d</source_ip><count>%d</count><policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>`+
			`<identifiers><header_from>sonla.gov.vn</header_from></identifiers><auth_results><dkim><domain>sonla.gov.vn</domain><selector>s1</selector><result>pass</result></dkim><spf><domain>sonla.gov.vn</domain><result>fail</result></spf></auth_results></record>`,
			i>>16, (i>>8)&255, i&255, i%20+1)
	}
	x.WriteString(`</feedback>`)
	raw := authreport.MailWith("application/gzip", "r.xml.gz", authreport.Gzip(b, []byte(x.String())))
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		found, err := authreport.Extract(raw)
		if err != nil || len(found[0].DMARC.Records) != 10000 {
			b.Fatal(err)
		}
	}
}
