package server

import (
	"html/template"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jitflow/jitflow/audit"
	"github.com/jitflow/jitflow/freetext"
)

// auditPage shows a request's trail to a person. It is the same route and
// the same bearer-token check as the JSON answer: a browser reaches it
// through whatever adds the token (an operators' reverse proxy that signs
// people in with Entra ID, or a saved `curl -H 'Accept: text/html'`).
var auditPage = template.Must(template.New("audit").Funcs(template.FuncMap{
	"when": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	// html/template escapes markup, not bidi overrides: typed text from
	// before the freetext rule is shown with them as visible escapes.
	"show": freetext.Escape,
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Audit trail of {{.Request.ID}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .35rem .6rem; border-bottom: 1px solid #ddd; }
th { background: #f3f3f3; }
code { font-size: .85em; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
dt { font-weight: 600; }
</style>
</head>
<body>
<h1>Audit trail of <code>{{.Request.ID}}</code></h1>
<dl>
<dt>Role</dt><dd>{{.Request.Role}} (<code>{{.Request.RoleDefinitionID}}</code>) at <code>{{.Request.DirectoryScopeID}}</code></dd>
<dt>Requester</dt><dd>{{.Request.Requester}} (<code>{{.Request.RequesterID}}</code>)</dd>
<dt>Duration</dt><dd>{{.Request.Duration}}{{if .Request.BreakGlass}}, break-glass{{end}}</dd>
{{if .Request.Ticket}}<dt>Ticket</dt><dd>{{show .Request.Ticket}}</dd>{{end}}
<dt>Created</dt><dd>{{when .Request.CreatedAt}}</dd>
</dl>
<table>
<thead><tr><th>Time</th><th>Event</th><th>Actor</th><th>Through</th><th>Detail</th><th>Graph request</th></tr></thead>
<tbody>
{{range .Events}}<tr id="{{.ID}}">
<td>{{when .Time}}</td>
<td>{{.Type}}{{if .Stage}} (stage {{.Stage}}){{end}}</td>
<td>{{.Actor}}{{if .ActorID}}<br><code>{{.ActorID}}</code>{{end}}</td>
<td>{{.Channel}}{{if .LinkID}} <code>{{.LinkID}}</code>{{end}}{{if .Via}}<br>{{show .Via}}{{end}}{{if .KeyID}}<br>key <code>{{.KeyID}}</code>{{end}}{{if .ClientIdentity}}<br>Temporal client <code>{{.ClientIdentity}}</code>{{end}}</td>
<td>{{show .Detail}}</td>
<td>{{if .GraphRequestID}}<code>{{.GraphRequestID}}</code>{{end}}</td>
</tr>
{{end}}</tbody>
</table>
</body>
</html>
`))

func renderAuditPage(c echo.Context, trail audit.Trail) error {
	var b strings.Builder
	if err := auditPage.Execute(&b, trail); err != nil {
		return &apiError{status: http.StatusInternalServerError, detail: "cannot show the audit trail", cause: err}
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", echo.HeaderAccept)
	return c.HTML(http.StatusOK, b.String())
}

// prefersHTML: the first of text/html and application/json that the
// Accept header names wins; JSON when it names neither.
func prefersHTML(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "text/html":
			return true
		case "application/json", "application/*":
			return false
		}
	}
	return false
}
