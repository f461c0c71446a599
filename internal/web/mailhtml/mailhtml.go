// Package mailhtml owns what of an HTML e-mail webmail may show: a bluemonday policy
// written for mail (not the UGC policy, which keeps tracking pixels and drops all
// inline style), followed by a pass that points cid: images at our own attachment
// URLs and blocks remote images until the reader asks for them.
//
// Nothing executable survives: no script, no event handler, no javascript: or other
// unlisted URL scheme, no <style> element (bluemonday does not sanitise its content),
// no CSS that can load anything (url(), image-set(), expression(), @import), no form,
// frame, object, embed, meta, base or link. Webmail shows the result inside a
// sandboxed iframe without allow-scripts under its own strict CSP, so this package is
// one of three independent layers, not the only one.
//
// It never reads messages or decides which part is shown; the caller gives it the
// decoded HTML text of one part.
package mailhtml

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/microcosm-cc/bluemonday/css"
	"golang.org/x/net/html"
)

// Options are per message.
type Options struct {
	// RemoteImages lets http and https images load (the reader clicked "show images").
	RemoteImages bool
	// CID maps a Content-ID (without angle brackets) to the URL of that part on our
	// own server; nil or a missing entry drops the image.
	CID func(contentID string) (url string, ok bool)
}

// Result is the sanitised HTML and what was held back.
type Result struct {
	HTML string
	// BlockedImages counts remote images whose source was removed.
	BlockedImages int
	// SuspiciousLinks counts links whose text shows one address and whose target
	// is another (R17.3); each is marked data-suspicious with the real target as
	// its title.
	SuspiciousLinks int
}

// Sanitizer holds the compiled policy; it is safe for concurrent use.
type Sanitizer struct {
	policy *bluemonday.Policy
}

// New builds the mail policy.
func New() *Sanitizer { return &Sanitizer{policy: policy()} }

// Sanitize cleans one HTML body.
func (s *Sanitizer) Sanitize(in string, opt Options) Result {
	clean := s.policy.Sanitize(in)
	return rewrite(clean, opt)
}

// safeStyleProps are the CSS properties mail layouts use that cannot load a resource
// or change what is clickable outside the message box. background, background-image,
// list-style(-image), border-image, cursor, content, filter, behavior and position are
// deliberately absent: each can fetch a URL or overlay our own interface.
var safeStyleProps = []string{
	"color", "background-color",
	"font", "font-family", "font-size", "font-style", "font-weight", "font-variant",
	"line-height", "letter-spacing", "word-spacing", "white-space", "word-break", "word-wrap", "overflow-wrap",
	"text-align", "text-decoration", "text-indent", "text-transform", "vertical-align", "direction",
	"margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
	"padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
	"border", "border-top", "border-right", "border-bottom", "border-left",
	"border-color", "border-style", "border-width", "border-collapse", "border-spacing", "border-radius",
	"border-top-color", "border-right-color", "border-bottom-color", "border-left-color",
	"border-top-style", "border-right-style", "border-bottom-style", "border-left-style",
	"border-top-width", "border-right-width", "border-bottom-width", "border-left-width",
	"width", "height", "max-width", "min-width", "max-height", "min-height",
	"display", "float", "clear", "table-layout", "list-style-type", "caption-side", "empty-cells",
}

// dangerousCSS matches values that can load or run something whatever the property:
// bluemonday's per-property handlers are the first check, this is a second that does
// not depend on their regular expressions. Backslashes are refused because CSS
// escapes can spell "url(" without those letters.
var dangerousCSS = regexp.MustCompile(`(?i)url\s*\(|image-set|expression|javascript:|vbscript:|@import|\\|var\s*\(|attr\s*\(|-moz-binding|behavior`)

// Attribute values of old-style mail HTML, each held to a plain shape so that no
// attribute can carry a URL or script however a browser reads it.
var (
	sizeValue  = regexp.MustCompile(`^[0-9]{1,5}(%|px)?$`)
	colorValue = regexp.MustCompile(`(?i)^(#[0-9a-f]{3,8}|[a-z]{3,20}|rgb\(\s*[0-9]{1,3}\s*,\s*[0-9]{1,3}\s*,\s*[0-9]{1,3}\s*\))$`)
	fontFace   = regexp.MustCompile(`^[\p{L}\p{N} ,_'"-]{1,100}$`)
	fontSize   = regexp.MustCompile(`^[+-]?[1-7]$`)
	tableParts = []string{"table", "tr", "td", "th", "thead", "tbody", "tfoot", "col", "colgroup"}
)

func policy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "div", "span", "br", "hr", "b", "i", "u", "s", "strong", "em", "small", "big",
		"sub", "sup", "strike", "del", "ins", "mark", "abbr", "cite", "q", "code", "pre", "kbd", "samp", "var", "tt",
		"h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "center", "font", "address",
		"ul", "ol", "li", "dl", "dt", "dd",
		"table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col",
		"img", "a", "figure", "figcaption", "section", "article", "header", "footer", "main", "nav", "aside",
		"details", "summary", "wbr")
	p.AllowAttrs("title").Matching(bluemonday.Paragraph).Globally()
	p.AllowAttrs("dir").Matching(bluemonday.Direction).Globally()
	p.AllowAttrs("lang").Matching(regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)).Globally()
	p.AllowAttrs("align").Matching(regexp.MustCompile(`(?i)^(left|right|center|justify|top|middle|bottom)$`)).Globally()
	p.AllowAttrs("valign").Matching(bluemonday.CellVerticalAlign).OnElements(tableParts...)
	p.AllowAttrs("width", "height", "border", "cellpadding", "cellspacing").Matching(sizeValue).OnElements(tableParts...)
	p.AllowAttrs("colspan", "rowspan").Matching(bluemonday.Integer).OnElements("td", "th")
	p.AllowAttrs("nowrap").Matching(regexp.MustCompile(`(?i)^(nowrap)?$`)).OnElements("td", "th")
	p.AllowAttrs("bgcolor").Matching(colorValue).OnElements(tableParts...)
	p.AllowAttrs("color").Matching(colorValue).OnElements("font", "hr")
	p.AllowAttrs("face").Matching(fontFace).OnElements("font")
	p.AllowAttrs("size").Matching(fontSize).OnElements("font")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	p.AllowAttrs("type").Matching(bluemonday.ListType).OnElements("ol", "ul")
	p.AllowAttrs("cite").OnElements("blockquote", "q")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("src").OnElements("img")
	p.AllowAttrs("alt").Matching(bluemonday.Paragraph).OnElements("img")
	p.AllowAttrs("width", "height", "border", "hspace", "vspace").Matching(sizeValue).OnElements("img")
	for _, prop := range safeStyleProps {
		def := css.GetDefaultHandler(prop)
		p.AllowStyles(prop).MatchingHandler(func(v string) bool {
			return !dangerousCSS.MatchString(v) && def(v)
		}).Globally()
	}
	// cid: is rewritten to our own URL afterwards; data: only for images, checked by
	// bluemonday to be base64 of a raster image type.
	p.AllowURLSchemes("http", "https", "mailto", "cid")
	p.AllowDataURIImages()
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	// Content of these is dropped with the element, not shown as text: the text of a
	// <style> or <script> is not for reading, and <head>'s <title> would appear at the top.
	p.SkipElementsContent("script", "style", "title", "head", "noscript", "template", "svg", "math", "object", "applet", "iframe", "frame", "frameset", "select", "textarea", "button", "xml")
	p.AddSpaceWhenStrippingTag(true)
	return p
}

// rewrite walks the sanitised HTML once more to handle images per message: cid: to
// our URL, remote ones blocked unless allowed. It re-serialises every token with the
// html package, so attribute values stay escaped.
func rewrite(clean string, opt Options) Result {
	var out bytes.Buffer
	out.Grow(len(clean))
	res := Result{}
	z := html.NewTokenizer(strings.NewReader(clean))
	// The tokens of an open <a>, held until its end so that the start tag can be
	// marked once the link text is known.
	var link []html.Token
	flush := func() {
		if len(link) == 0 {
			return
		}
		if target, ok := suspiciousLink(link); ok {
			res.SuspiciousLinks++
			link[0].Attr = append(link[0].Attr, html.Attribute{Key: "data-suspicious", Val: "1"}, html.Attribute{Key: "title", Val: "→ " + target})
		}
		for _, t := range link {
			out.WriteString(t.String())
		}
		link = link[:0]
	}
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tok := z.Token()
		if (tt == html.StartTagToken || tt == html.SelfClosingTagToken) && tok.Data == "img" {
			tok.Attr = imageAttrs(tok.Attr, opt, &res)
		}
		switch {
		case tt == html.StartTagToken && tok.Data == "a":
			flush()
			tok.Attr = linkAttrs(tok.Attr)
			link = append(link, tok)
		case tt == html.EndTagToken && tok.Data == "a" && len(link) > 0:
			link = append(link, tok)
			flush()
		case len(link) > 0:
			link = append(link, tok)
		default:
			out.WriteString(tok.String())
		}
	}
	flush()
	res.HTML = out.String()
	return res
}

// suspiciousLink reports whether the text of a link names a web address whose host
// differs from the host the link goes to ("www.vietcombank.com.vn" leading to
// another site), and returns the real target.
func suspiciousLink(toks []html.Token) (string, bool) {
	href := ""
	for _, a := range toks[0].Attr {
		if a.Key == "href" {
			href = a.Val
		}
	}
	target, err := url.Parse(href)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") {
		return "", false
	}
	var text strings.Builder
	for _, t := range toks[1:] {
		if t.Type == html.TextToken {
			text.WriteString(t.Data)
		}
	}
	shown := strings.ToLower(strings.TrimSpace(text.String()))
	if shown == "" || strings.ContainsAny(shown, " \t\n") {
		return "", false
	}
	if !strings.Contains(shown, "://") {
		if !strings.HasPrefix(shown, "www.") && !hostLike.MatchString(shown) {
			return "", false
		}
		shown = "http://" + shown
	}
	su, err := url.Parse(shown)
	if err != nil || su.Hostname() == "" {
		return "", false
	}
	sh := strings.TrimPrefix(su.Hostname(), "www.")
	th := strings.TrimPrefix(strings.ToLower(target.Hostname()), "www.")
	if sh == th {
		return "", false
	}
	return target.Scheme + "://" + target.Host, true
}

// hostLike is a bare domain name as link text ("sonla.gov.vn/thong-bao").
var hostLike = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}(/\S*)?$`)

func imageAttrs(attrs []html.Attribute, opt Options, res *Result) []html.Attribute {
	out := attrs[:0]
	for _, a := range attrs {
		if a.Key != "src" {
			out = append(out, a)
			continue
		}
		src := strings.TrimSpace(a.Val)
		lower := strings.ToLower(src)
		switch {
		case strings.HasPrefix(lower, "cid:"):
			id := strings.Trim(src[4:], "<> ")
			if opt.CID != nil {
				if u, ok := opt.CID(id); ok {
					out = append(out, html.Attribute{Key: "src", Val: u})
				}
			}
		case strings.HasPrefix(lower, "data:image/"):
			out = append(out, a)
		case strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://"):
			if opt.RemoteImages {
				out = append(out, a)
			} else {
				res.BlockedImages++
				out = append(out, html.Attribute{Key: "data-blocked", Val: "1"})
			}
		default:
			// Any other scheme in an image source is dropped.
		}
	}
	return out
}

// linkAttrs makes sure a mailto: link also opens outside the frame; bluemonday adds
// target=_blank only to http(s) links.
func linkAttrs(attrs []html.Attribute) []html.Attribute {
	hasTarget := false
	for _, a := range attrs {
		if a.Key == "target" {
			hasTarget = true
		}
	}
	if !hasTarget {
		attrs = append(attrs, html.Attribute{Key: "target", Val: "_blank"})
	}
	return attrs
}
