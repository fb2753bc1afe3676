package server

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jitflow/jitflow/audit"
	"github.com/jitflow/jitflow/durations"
	"github.com/jitflow/jitflow/freetext"
)

// portalCSS is the approval pages' style and the portal's own: the
// navigation, wider tables, field errors and a focus ring that always
// shows.
const portalCSS = pageCSS + `
main{max-width:64rem}header.bar{background:#1d1f23;color:#fff;padding:.5rem 1.5rem;display:flex;flex-wrap:wrap;align-items:center;gap:1.5rem}
header.bar .brand{color:#fff;font-weight:700;font-size:1rem}
nav ul{list-style:none;display:flex;gap:1rem;margin:0;padding:0}nav a{color:#fff;text-decoration:none;padding:.25rem .5rem;border-radius:4px}
nav a[aria-current=page]{background:#3b6fd4;text-decoration:underline}
form.signout{margin-left:auto;display:flex;gap:.75rem;align-items:center}form.signout button{padding:.3rem .8rem;background:#4b5563}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;color:#000;padding:.5rem}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
input,select{font:inherit;padding:.35rem;box-sizing:border-box;max-width:100%}
input[aria-invalid=true],select[aria-invalid=true],textarea[aria-invalid=true]{border:2px solid #c0392b}
.field-error{color:#a4281b;font-weight:600;margin:.25rem 0}.field-error::before{content:"Error: "}
.help{color:#4b5563;font-size:.9rem;margin:.25rem 0}
table.list th{width:auto}td.actions form{margin:0 0 .5rem}td.actions label{margin:.25rem 0 0;font-weight:400;font-size:.9rem}
td.actions button{padding:.3rem .9rem}
.status{font-weight:600}.st-active{color:#1e6b43}.st-pending_approval{color:#8a5a00}.st-denied,.st-failed,.st-revoked{color:#a4281b}
section.item{border:1px solid #e5e7eb;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dl.facts dt{font-weight:600;color:#4b5563}dl.facts dd{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}`

// portalJS keeps the status cells of a portal page current: every few
// seconds it asks the server for the status of each request still
// moving. When one changed, the page reloads, so its actions follow the
// new status, unless the person has started typing in a form: then a live
// region says what changed. Without it the page shows the status as
// loaded.
const portalJS = `(function(){
var note=document.getElementById('live-note');
function untouched(){
var a=document.activeElement;
if(a&&(a.tagName==='INPUT'||a.tagName==='TEXTAREA'||a.tagName==='SELECT')){return false;}
return Array.prototype.every.call(document.querySelectorAll('input[type=text],textarea'),function(f){return f.value==='';});
}
function tick(){
document.querySelectorAll('[data-live]').forEach(function(el){
var id=el.getAttribute('data-live');
fetch('/requests/'+encodeURIComponent(id)+'/status',{credentials:'same-origin',headers:{'Accept':'application/json'}})
.then(function(r){return r.ok?r.json():null;})
.then(function(v){
if(!v){return;}
if(el.getAttribute('data-status')!==v.status){
el.textContent=v.status_text;el.setAttribute('data-status',v.status);el.className='status st-'+v.status;
if(untouched()){location.reload();return;}
if(note){note.textContent='Request '+id+' is now '+v.status_text+'. Reload the page for what you can do next.';}
}
var left=document.getElementById('left-'+id);if(left){left.textContent=v.time_left;}
if(v.final){el.removeAttribute('data-live');}
}).catch(function(){});
});
}
setInterval(tick,4000);
})();`

// portalRefresh is how often portalJS asks, for the page's words.
const portalRefresh = 4 * time.Second

//go:embed pages/portal.html
var portalHTML string

var portalTemplate = template.Must(template.New("portal").Funcs(template.FuncMap{
	"when": stamp,
	"show": freetext.Escape,
}).Parse(strings.NewReplacer("__CSS__", portalCSS, "__JS__", portalJS).Replace(portalHTML)))

// portalCSP allows the portal's one stylesheet and one script by hash,
// fetches only back to this server, and nothing else.
var portalCSP = "default-src 'none'; style-src " + cspHash(portalCSS) + "; script-src " + cspHash(portalJS) +
	"; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// portalPage is what one portal page shows.
type portalPage struct {
	status      int
	signedOut   bool   // the session just ended: no navigation
	Kind        string // pageOK, pageError or pageDone: the page's colour
	Title       string
	Message     string
	Current     string // the navigation entry of this page
	User        string // who is signed in; "" on a signed-out page
	CSRF        string
	SignInURL   string
	SignInLabel string
	Back        string // a link back, on a page that says what failed
	Live        bool   // the page has status cells to keep current
	Refresh     string

	Form   *requestForm
	Mine   []mineRow
	Queue  []queueRow
	Detail *portalDetail
}

// Navigation entries.
const (
	navRequest = "request"
	navMine    = "mine"
	navQueue   = "approve"
)

// requestForm is the request form: the roles on offer and what was typed.
type requestForm struct {
	Roles                                         []roleOption
	Role, Duration, Justification, Ticket, Submit string
	Errors                                        map[string]string // by field: role, duration, justification, ticket
	Limit                                         string            // the chosen role's duration limit
}

// roleOption is a role the person may request, with its limits in words.
type roleOption struct {
	Name, Description, Duration, Justification, Ticket, Approval, StepUp string
	Eligibility                                                          string // of a role that needs a PIM eligibility
	Selected                                                             bool
}

// mineRow is one of the person's requests.
type mineRow struct {
	ID, Role, Status, StatusText, TimeLeft, Created, Duration, Extension string
	Live, Pending, Active                                                bool
}

// queueRow is a request (or an extension) waiting for the person.
type queueRow struct {
	ID, Requester, Role, Justification, Ticket, Stage, Escalates, Asked, Duration string
	Extension                                                                     string // "extension 1: 30m more", for an extension
	StepUp                                                                        string // what sign-in the decision needs and the session lacks
	StepUpURL                                                                     string
}

// portalDetail is one request: its summary, what may be done, its trail.
type portalDetail struct {
	Summary     *requestSummary
	StatusCode  string
	TimeLeft    string
	Live        bool
	Events      []audit.Event
	TemporalURL string
}

// renderPortal writes a portal page, signed in or not.
func (s *Server) renderPortal(c echo.Context, p portalPage) error {
	if p.Kind == "" {
		p.Kind = pageOK
		if p.status >= 400 {
			p.Kind = pageError
		}
	}
	if sess, ok := c.Get(ctxPortalSession).(portalSession); ok && !p.signedOut {
		p.User, p.CSRF = sess.UPN, sess.CSRF
	}
	p.Refresh = durations.Format(portalRefresh)
	var buf bytes.Buffer
	if err := portalTemplate.Execute(&buf, p); err != nil {
		return err
	}
	return c.HTMLBlob(p.status, buf.Bytes())
}

// portalFail is a page that says why nothing was done.
func (s *Server) portalFail(c echo.Context, status int, title, message string) error {
	return s.renderPortal(c, portalPage{status: status, Kind: pageError, Title: title, Message: message, Back: portalHome})
}

// portalError shows what the API would answer for err, in its words.
func (s *Server) portalError(c echo.Context, err error) error {
	ae := s.toAPIError(err, c)
	if ae.status >= http.StatusInternalServerError {
		s.log.Warn("portal page failed", "status", ae.status, "request_id", httpRequestID(c), "error", err)
	}
	title := "Nothing was done"
	switch ae.status {
	case http.StatusForbidden:
		title = "Not allowed"
	case http.StatusNotFound:
		title = "Not found"
	case http.StatusConflict:
		title = "No longer possible"
	}
	return s.portalFail(c, ae.status, title, upper(ae.detail)+".")
}

// upper starts an API message as a sentence.
func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// timeLeft says how long an active grant still runs, "" for others.
func timeLeft(expires *time.Time, now time.Time) string {
	if expires == nil {
		return ""
	}
	left := expires.Sub(now)
	if left <= 0 {
		return "ending now"
	}
	if left >= time.Minute {
		left = left.Round(time.Minute)
	} else {
		left = left.Round(time.Second)
	}
	return fmt.Sprintf("%s (until %s)", durations.Format(left), expires.UTC().Format("15:04 UTC"))
}

// until says how long until t, for an escalation.
func until(t *time.Time, now time.Time) string {
	if t == nil {
		return "no escalation"
	}
	left := t.Sub(now)
	if left <= 0 {
		return "escalating now"
	}
	return fmt.Sprintf("in %s (at %s)", durations.Format(max(left.Round(time.Minute), time.Minute)), stamp(*t))
}
