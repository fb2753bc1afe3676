package server

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"strings"

	"github.com/labstack/echo/v4"
)

// pageCSS styles the approval pages. It is inline so the pages need no
// other request, and its hash goes in the Content-Security-Policy so no
// other style (and no script at all) can run.
const pageCSS = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d1f23}
main{max-width:42rem;margin:2rem auto;padding:1.5rem 2rem;background:#fff;border-radius:8px;border-top:6px solid #3b6fd4}
main.error{border-top-color:#c0392b}main.done{border-top-color:#2e8b57}
.brand{color:#6b7280;font-size:.85rem;margin:0}h1{margin:.25rem 0 1rem;font-size:1.5rem}
.message{font-size:1.05rem}.note{color:#4b5563}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{text-align:left;vertical-align:top;padding:.35rem .5rem;border-bottom:1px solid #e5e7eb}
th{width:9rem;color:#4b5563;font-weight:600}td{overflow-wrap:anywhere;white-space:pre-wrap}
h2{font-size:1.1rem;margin:1.25rem 0 .25rem}ul{margin:.25rem 0;padding-left:1.25rem}
label{display:block;margin:1rem 0 .25rem;font-weight:600}textarea{width:100%;box-sizing:border-box;font:inherit}
.buttons{margin-top:1rem;display:flex;gap:1rem}
button,.button{font:inherit;padding:.6rem 1.4rem;border:0;border-radius:6px;background:#2e8b57;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button.deny{background:#c0392b}`

//go:embed pages/approval.html
var approvalHTML string

var approvalPage = template.Must(template.New("approval").Parse(strings.Replace(approvalHTML, "__CSS__", pageCSS, 1)))

// pageCSP allows the inline stylesheet by hash and nothing else: no
// scripts, no images, no frames, forms only back to this server.
var pageCSP = func() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}()

// pageHeaders keeps approval pages out of caches, referrers and frames.
var pageHeaders = securityHeaders(pageCSP)

// securityHeaders keeps pages out of caches, referrers and frames, under
// the content security policy csp.
func securityHeaders(csp string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Cache-Control", "no-store")
			h.Set("Pragma", "no-cache")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("X-Robots-Tag", "noindex, nofollow")
			return next(c)
		}
	}
}

// Kinds of page, for their colour.
const (
	pageOK    = "ok"
	pageError = "error"
	pageDone  = "done"
)

// page is what one approval page shows.
type page struct {
	status      int
	Kind        string
	Title       string
	Message     string
	Request     *requestSummary
	Approver    string // who the link is for
	LinkExpires string
	Form        bool
	SignInURL   string
	SignInLabel string // the sign-in button's words
	SignedInAs  string
}

// requestSummary is a request as the page shows it.
type requestSummary struct {
	ID, Status, Requester, Role, RoleDescription, Scope, Duration   string
	Justification, Ticket, Stage, Approvers, EscalatesAt, CreatedAt string
	Decisions                                                       []string
	// Extension is set on the page of a link for an extension.
	Extension *extensionSummary
}

// extensionSummary is an extension of an active grant as the page shows it.
type extensionSummary struct {
	Number                                               int
	More, Justification, RequestedAt, EndsNow, EndsAfter string
}

func (s *Server) render(c echo.Context, p page) error {
	if p.Kind == "" {
		p.Kind = pageOK
		if p.status >= 400 {
			p.Kind = pageError
		}
	}
	var buf bytes.Buffer
	if err := approvalPage.Execute(&buf, p); err != nil {
		return err
	}
	return c.HTMLBlob(p.status, buf.Bytes())
}

// failPage is a page that says why nothing was decided.
func failPage(status int, title, message string) page {
	return page{status: status, Kind: pageError, Title: title, Message: message}
}
