package authreport

import (
	"testing"
)

// Reports are data from anyone who can mail us: no input may crash the
// parsers or make them accept a report without the fields we show.
func FuzzExtract(f *testing.F) {
	f.Add(mailWith("application/gzip", "r.xml.gz", gz(f, []byte(googleStyle))))
	f.Add(mailWith("application/tlsrpt+gzip", "r.json.gz", gz(f, []byte(tlsReport))))
	f.Add(mailWith("text/xml", "r.xml", []byte(googleStyle)))
	f.Add([]byte("From: a@b\r\nContent-Type: application/zip\r\n\r\nPK\x03\x04"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		found, err := Extract(raw)
		if err == nil && len(found) == 0 {
			t.Fatal("no error and no report")
		}
		for _, r := range found {
			switch {
			case r.DMARC != nil && (r.DMARC.Metadata.OrgName == "" || r.DMARC.Policy.Domain == ""):
				t.Fatalf("dmarc report without org or domain: %+v", r.DMARC)
			case r.TLS != nil && (r.TLS.OrganizationName == "" || r.TLS.Domain() == ""):
				t.Fatalf("tls report without org or domain: %+v", r.TLS)
			}
		}
	})
}

func FuzzParseDMARC(f *testing.F) {
	f.Add([]byte(googleStyle))
	f.Fuzz(func(t *testing.T, b []byte) {
		fb, err := ParseDMARC(b)
		if err != nil {
			return
		}
		if total, failed := fb.Totals(); total < 0 || failed < 0 || failed > total {
			t.Fatalf("totals %d/%d", total, failed)
		}
		if _, err := fb.Marshal(); err != nil {
			t.Fatalf("parsed report does not marshal: %v", err)
		}
	})
}

func FuzzParseTLS(f *testing.F) {
	f.Add([]byte(tlsReport))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseTLS(b)
		if err != nil {
			return
		}
		if total, failed := r.Totals(); total < 0 || failed < 0 || failed > total {
			t.Fatalf("totals %d/%d", total, failed)
		}
	})
}
