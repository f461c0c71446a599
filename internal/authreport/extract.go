package authreport

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"

	"github.com/emersion/go-message"

	"govmail/internal/store"
)

// Found is one report found in a message.
type Found struct {
	Kind  string // store.ReportDMARC or store.ReportTLS
	DMARC *Feedback
	TLS   *TLSReport
}

// maxParts bounds the MIME parts looked at: a report mail has one or two.
const maxParts = 50

// Extract finds the reports a message carries: DMARC reports as XML, gzip or
// zip attachments (RFC 7489 7.2.1.1), TLS reports as application/tlsrpt+gzip
// or +json parts of a multipart/report (RFC 8460 5.3). It looks at each leaf
// part whose type or file name says it may be one; the error says why nothing
// was found when nothing was.
func Extract(raw []byte) ([]Found, error) {
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return nil, fmt.Errorf("report mail: %w", err)
	}
	var found []Found
	var reasons []string
	parts := 0
	err = e.Walk(func(_ []int, part *message.Entity, err error) error {
		if err != nil {
			if message.IsUnknownCharset(err) || message.IsUnknownEncoding(err) {
				return nil
			}
			return err
		}
		if parts++; parts > maxParts {
			return errors.New("too many parts")
		}
		ct, params, _ := part.Header.ContentType()
		if strings.HasPrefix(ct, "multipart/") {
			return nil
		}
		_, dparams, _ := part.Header.ContentDisposition()
		name := dparams["filename"]
		if name == "" {
			name = params["name"]
		}
		if !candidate(ct, name) {
			return nil
		}
		body, err := io.ReadAll(io.LimitReader(part.Body, maxDecoded+1))
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", ct, err))
			return nil
		}
		f, err := decode(ct, name, body)
		if err != nil {
			reasons = append(reasons, err.Error())
			return nil
		}
		found = append(found, *f)
		return nil
	})
	if err != nil {
		return found, fmt.Errorf("report mail: %w", err)
	}
	if len(found) == 0 {
		if len(reasons) == 0 {
			return nil, errors.New("report mail: no DMARC or TLS report attached")
		}
		return nil, fmt.Errorf("report mail: %s", strings.Join(reasons, "; "))
	}
	return found, nil
}

// candidate tells the parts that may hold a report.
func candidate(ct, name string) bool {
	switch ct {
	case "application/gzip", "application/x-gzip", "application/zip", "application/x-zip-compressed",
		"application/tlsrpt+gzip", "application/tlsrpt+json", "text/xml", "application/xml", "application/json":
		return true
	case "application/octet-stream":
		n := strings.ToLower(name)
		return strings.HasSuffix(n, ".gz") || strings.HasSuffix(n, ".zip") || strings.HasSuffix(n, ".xml") || strings.HasSuffix(n, ".json")
	}
	return false
}

// decode unpacks a part and parses what it holds: JSON is a TLS report, XML
// a DMARC report.
func decode(ct, name string, body []byte) (*Found, error) {
	n := strings.ToLower(name)
	var err error
	switch {
	case ct == "application/zip" || ct == "application/x-zip-compressed" || strings.HasSuffix(n, ".zip"):
		body, err = unzip(body)
	case ct == "application/gzip" || ct == "application/x-gzip" || ct == "application/tlsrpt+gzip" || strings.HasSuffix(n, ".gz"):
		body, err = gunzip(body)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", describe(ct, name), err)
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff")
	if bytes.HasPrefix(trimmed, []byte("{")) {
		r, err := ParseTLS(trimmed)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", describe(ct, name), err)
		}
		return &Found{Kind: store.ReportTLS, TLS: r}, nil
	}
	fb, err := ParseDMARC(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", describe(ct, name), err)
	}
	return &Found{Kind: store.ReportDMARC, DMARC: fb}, nil
}

func describe(ct, name string) string {
	if name != "" {
		return mime.QEncoding.Encode("utf-8", path.Base(name))
	}
	return ct
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return readLimited(zr)
}

// unzip reads the first XML or JSON file of a zip archive.
func unzip(b []byte) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	for _, f := range zr.File {
		n := strings.ToLower(f.Name)
		if !strings.HasSuffix(n, ".xml") && !strings.HasSuffix(n, ".json") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("zip: %w", err)
		}
		defer rc.Close()
		return readLimited(rc)
	}
	return nil, errors.New("zip: no .xml or .json file inside")
}

// readLimited refuses a decompression bomb instead of filling memory.
func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxDecoded+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxDecoded {
		return nil, fmt.Errorf("more than %d bytes once decompressed", maxDecoded)
	}
	return b, nil
}
