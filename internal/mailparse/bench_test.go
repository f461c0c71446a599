package mailparse

import (
	"fmt"
	"mime"
	"strings"
	"testing"
)

// benchMessage builds a realistic message of about size bytes: trace and DKIM
// headers, Vietnamese subject and names, a quoted-printable text part, and above a
// few KB an HTML alternative and a base64 PDF attachment.
func benchMessage(size int) []byte {
	var b strings.Builder
	b.WriteString(crlf(`Received: from mx1.sonla.gov.vn (mx1.sonla.gov.vn [10.0.0.1])
	by mail.sonla.gov.vn with ESMTPS id 4f2a; Mon, 24 Nov 2026 08:30:02 +0700
Received: from pc-vanphong (unknown [10.1.2.3])
	by mx1.sonla.gov.vn with ESMTPSA id 9c1e; Mon, 24 Nov 2026 08:30:01 +0700
DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=sonla.gov.vn; s=mail;
	h=from:to:subject:date:message-id; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;
	b=Y2VydGlmaWNhdGVzaWduYXR1cmVzaWduYXR1cmVzaWduYXR1cmVzaWduYXR1cmVzaWdu
From: ` + mime.QEncoding.Encode("utf-8", viName) + ` <an.nguyen@sonla.gov.vn>
To: ` + mime.QEncoding.Encode("utf-8", "Văn phòng UBND tỉnh") + ` <vanphong@sonla.gov.vn>
Cc: ` + mime.QEncoding.Encode("utf-8", "Sở Khoa học và Công nghệ") + ` <skhcn@sonla.gov.vn>
Subject: ` + mime.QEncoding.Encode("utf-8", viSubject) + `
Date: Mon, 24 Nov 2026 08:30:00 +0700
Message-ID: <20261124083000.4f2a@sonla.gov.vn>
MIME-Version: 1.0
`))
	para := "Kính gửi các đơn vị, Văn phòng UBND tỉnh thông báo lịch Cuộc họp giao ban tuần của Đảng ủy và Ủy ban nhân dân tỉnh Sơn La. "
	if size < 8<<10 {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		for b.Len() < size {
			b.WriteString(crlf(qp(para)) + "\r\n")
		}
		return []byte(b.String())
	}
	b.WriteString("Content-Type: multipart/mixed; boundary=\"mixed\"\r\n\r\n--mixed\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\n")
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	text := strings.Repeat(para, size/5/len(para)+1)
	b.WriteString(crlf(qp(text)) + "\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	html := strings.Repeat("<p style=\"font-family:Arial;margin:0\"><b>"+para+"</b></p>\n", size/4/len(para)+1)
	b.WriteString(crlf(qp("<html><head><style>p{}</style></head><body>"+html+"</body></html>")) + "\r\n--alt--\r\n")
	b.WriteString("--mixed\r\nContent-Type: application/pdf; name=\"bao-cao.pdf\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename*=utf-8''" + pct(viFile) + "\r\n\r\n")
	for b.Len() < size-100 {
		b.WriteString("JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSL0ZpbHRlci9GbGF0ZURl\r\n")
	}
	b.WriteString("--mixed--\r\n")
	return []byte(b.String())
}

func BenchmarkParse(b *testing.B) {
	for _, size := range []int{2 << 10, 100 << 10} {
		raw := benchMessage(size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				Parse(raw)
			}
		})
	}
}

func benchMeta(b *testing.B) []byte {
	meta, err := EncodeMeta(Parse(benchMessage(100 << 10)))
	if err != nil {
		b.Fatal(err)
	}
	return meta
}

func BenchmarkEncodeMeta(b *testing.B) {
	p := Parse(benchMessage(100 << 10))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeMeta(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeMeta(b *testing.B) {
	meta := benchMeta(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DecodeMeta(meta); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(meta)), "meta-bytes")
}

// BenchmarkFetchEnvelopes10k is the decoding share of N1's "FETCH ENVELOPE of 10,000
// messages in under 50 ms": one op decodes 10,000 stored envelopes.
func BenchmarkFetchEnvelopes10k(b *testing.B) {
	meta := benchMeta(b)
	b.ReportAllocs()
	for b.Loop() {
		for range 10000 {
			if _, err := DecodeEnvelope(meta); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkSearch10k matches one query against 10,000 stored search texts, SEARCH
// BODY over a large mailbox without reading a message.
func BenchmarkSearch10k(b *testing.B) {
	text := Parse(benchMessage(2 << 10)).SearchText
	q := NewQuery("hop dang uy son la")
	b.ReportAllocs()
	for b.Loop() {
		for range 10000 {
			if !q.Match(text) {
				b.Fatal("no match")
			}
		}
	}
}
