package activities

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/jitflow/jitflow/durations"
	"github.com/jitflow/jitflow/freetext"
)

// mailText holds what differs between kinds of email. Both formats take
// explicit argument indexes: 1 requester, 2 role, 3 duration, 4 actor,
// 5 how long the grant has left, 6 when it ends, 7 the extension's number,
// 8 how much more time the extension asked for.
type mailText struct {
	subject string
	lead    string
	action  bool // the reader is asked to decide
	extend  bool // the reader is told how to ask for more time
}

var mailTexts = map[string]mailText{
	MailApprovalNeeded:     {"%[1]s asks for %[2]s for %[3]s", "%[1]s asks for access and you are an approver. Please decide.", true, false},
	MailEscalated:          {"Escalated: %[1]s asks for %[2]s for %[3]s", "This request escalated to you because nobody before you decided in time.", true, false},
	MailReminder:           {"Reminder: %[1]s asks for %[2]s for %[3]s", "This request still waits for your decision.", true, false},
	MailRequesterEscalated: {"Your request for %[2]s for %[3]s was escalated", "Nobody decided in time, so your request went to the next approvers.", false, false},
	MailApproved:           {"Approved: your request for %[2]s for %[3]s", "Your request was approved by %[4]s. The role is being activated.", false, false},
	MailDenied:             {"Denied: your request for %[2]s for %[3]s", "Your request was denied by %[4]s.", false, false},
	MailTimedOut:           {"Timed out: your request for %[2]s for %[3]s", "Nobody decided before the last escalation tier ran out. Ask again if you still need access.", false, false},
	MailCanceled:           {"Canceled: your request for %[2]s for %[3]s", "The request was canceled.", false, false},
	MailActive:             {"Active: %[2]s for %[3]s", "The role is active now. The grant clock started at activation.", false, false},
	MailExpired:            {"Expired: %[2]s", "The grant ran its full duration and the role was removed.", false, false},
	MailRevoked:            {"Revoked: %[2]s", "The grant was revoked by %[4]s and the role was removed.", false, false},
	MailFailed:             {"Failed: your request for %[2]s for %[3]s", "Your request failed; the reason is below.", false, false},
	MailBreakGlass:         {"Break-glass: %[1]s activated %[2]s for %[3]s", "A break-glass role is being activated without approval. Review it now, and revoke it if it is not justified.", false, false},
	MailEndingSoon:         {"Ending in %[5]s: %[2]s", "Your grant of %[2]s ends in %[5]s, at %[6]s. To keep the role longer, ask for an extension before then (how, below).", false, true},
	MailExtensionGranted:   {"Extended: %[2]s until %[6]s", "Extension %[7]d (%[8]s more) was granted. The grant now ends at %[6]s.", false, true},
	MailExtensionDenied:    {"Extension denied: %[2]s", "Extension %[7]d (%[8]s more) was denied by %[4]s. The grant still ends at %[6]s.", false, true},
	MailExtensionTimedOut:  {"Extension timed out: %[2]s", "Nobody decided on extension %[7]d (%[8]s more) before the last escalation tier ran out. The grant still ends at %[6]s.", false, true},
	MailExtensionRefused:   {"Extension refused: %[2]s", "Extension %[7]d (%[8]s more) could not be granted; the reason is below. The grant still ends at %[6]s.", false, true},
}

// AsksDecision reports whether an email of this kind asks its readers to
// approve or deny.
func AsksDecision(kind string) bool { return mailTexts[kind].action }

// mailView is what the templates render.
type mailView struct {
	Subject  string
	Lead     string
	Action   bool
	Extend   bool
	Request  EmailRequest
	Duration string
	// Others are the other approvers who can decide now.
	Others  []string
	Link    string // personal approval link
	Details string // the request in the API
	APIBase string
}

// Render builds the subject, plain text and HTML of one email to every
// recipient. An email that asks for a decision tells readers to use the API
// and never goes to the requester.
func Render(in EmailInput) (Message, error) {
	v, err := view(in)
	if err != nil {
		return Message{}, err
	}
	v.Others = in.Request.Approvers
	var to []string
	for _, rc := range in.To {
		if rc.Email != "" && !(v.Action && rc.ID != "" && rc.ID == in.Request.RequesterID) {
			to = append(to, rc.Email)
		}
	}
	return v.message(in, to, in.Key)
}

// RenderFor builds the email one approver gets, with their personal link.
// Its key is the event's key and the approver's object id.
func RenderFor(in EmailInput, rc Recipient, link string) (Message, error) {
	v, err := view(in)
	if err != nil {
		return Message{}, err
	}
	v.Link = link
	v.Details = "" // the personal link shows the request; the API needs a token
	for _, a := range in.Request.Approvers {
		if a != rc.UPN {
			v.Others = append(v.Others, a)
		}
	}
	return v.message(in, []string{rc.Email}, in.Key+"/"+rc.ID)
}

func view(in EmailInput) (mailView, error) {
	mt, ok := mailTexts[in.Kind]
	if !ok {
		return mailView{}, fmt.Errorf("email kind %q is not one of the known kinds", in.Kind)
	}
	r := in.Request
	// Typed text from before the freetext rule may still hold control or
	// bidi characters: both parts show them as visible escapes (HTML
	// escaping does not stop a bidi override from reordering a line).
	r.Justification, r.Reason = freetext.Escape(r.Justification), freetext.Escape(r.Reason)
	r.Ticket, r.Requester, r.Actor = freetext.EscapeLine(r.Ticket), freetext.EscapeLine(r.Requester), freetext.EscapeLine(r.Actor)
	dur := durations.Format(r.Duration)
	actor := r.Actor
	if actor == "" {
		actor = "an approver"
	}
	args := []any{r.Requester, r.Role, dur, actor, durations.Format(roundLeft(r.EndsIn)), whenText(r.ExpiresAt), r.Extension, durations.Format(r.ExtensionDuration)}
	v := mailView{
		Subject:  fill(mt.subject, args...),
		Lead:     fill(mt.lead, args...),
		Action:   mt.action,
		Extend:   mt.extend,
		Request:  r,
		Duration: dur,
		APIBase:  strings.TrimSuffix(in.BaseURL, "/"),
	}
	if r.Extension > 0 && mt.action {
		// The grant is active already: the reader decides on more time.
		v.Subject = fmt.Sprintf("%s asks to extend %s (extension %d)", r.Requester, r.Role, r.Extension)
		v.Lead = r.Requester + " asks for more time on an active grant and you are an approver. Please decide."
	}
	if v.APIBase != "" {
		v.Details = v.APIBase + "/api/v1/requests/" + r.ID
	}
	return v, nil
}

func (v mailView) message(in EmailInput, to []string, key string) (Message, error) {
	var text, html bytes.Buffer
	if err := textTmpl.Execute(&text, v); err != nil {
		return Message{}, fmt.Errorf("render %s text: %w", in.Kind, err)
	}
	if err := htmlTmpl.Execute(&html, v); err != nil {
		return Message{}, fmt.Errorf("render %s html: %w", in.Kind, err)
	}
	return Message{To: to, Subject: v.Subject, Text: text.String(), HTML: html.String(), Key: key, Kind: in.Kind, RequestID: in.Request.ID}, nil
}

// fill formats f when it has verbs; fmt would flag unused arguments of a
// plain sentence.
func fill(f string, args ...any) string {
	if !strings.Contains(f, "%") {
		return f
	}
	return fmt.Sprintf(f, args...)
}

// roundLeft rounds the time a grant has left for reading: to the minute
// from two minutes on, else to the second. The end time is shown exactly
// beside it.
func roundLeft(d time.Duration) time.Duration {
	if d >= 2*time.Minute {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}

// whenText is how emails write a moment.
func whenText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

var funcs = map[string]any{
	"when":     whenText,
	"join":     strings.Join,
	"duration": durations.Format,
}

// textTmpl indents the lines after the first of multi-line text, so a
// justification cannot start a line that looks like one of the email's own.
var textTmpl = texttemplate.Must(texttemplate.New("text").Funcs(funcs).Funcs(texttemplate.FuncMap{
	"indent": func(s string) string { return strings.ReplaceAll(s, "\n", "\n               ") },
}).Parse(`{{.Lead}}

Request:       {{.Request.ID}}
Requester:     {{.Request.Requester}}
Role:          {{.Request.Role}} ({{.Request.RoleID}})
Scope:         {{.Request.Scope}}
Duration:      {{.Duration}}
Justification: {{indent .Request.Justification}}
{{- if .Request.Ticket}}
Ticket:        {{.Request.Ticket}}{{end}}
{{- if .Request.Stages}}
Stage:         {{template "stage" .}}{{end}}
{{- if .Request.Extension}}
Extension:     {{template "extension" .}}{{end}}
{{- if .Action}}
{{- if .Others}}
Also asked:    {{join .Others ", "}}{{end}}
{{- if .Request.EscalatesAt}}
{{if .Request.FinalTier}}Times out at:  {{else}}Escalates at:  {{end}}{{when .Request.EscalatesAt}}{{end}}
{{- end}}
{{- if .Request.ExpiresAt}}
Expires at:    {{when .Request.ExpiresAt}}{{end}}
{{- if .Request.Reason}}
{{if .Action}}Why:           {{else}}Reason:        {{end}}{{indent .Request.Reason}}{{end}}
{{if .Link}}
To approve or deny, open your personal link:
  {{.Link}}
It works only for you; please do not forward this email.
{{else if .Action}}
To decide, call the jitflow API with your own token:
  POST {{.APIBase}}/api/v1/requests/{{.Request.ID}}/approve
  POST {{.APIBase}}/api/v1/requests/{{.Request.ID}}/deny
with a JSON body {"comment": "..."}.
{{else if .Extend}}
To ask for more time before the grant ends, run
  jitflow extend {{.Request.ID}} --duration 30m --justification "..."
or call the jitflow API with your own token:
  POST {{.APIBase}}/api/v1/requests/{{.Request.ID}}/extend
with a JSON body {"duration": "30m", "justification": "..."}.
{{end}}{{if .Details}}
Details: {{.Details}}
{{end}}
{{- define "stage"}}{{.Request.Stage}} of {{.Request.Stages}}{{if .Request.StageName}} ({{.Request.StageName}}){{end}}{{if .Request.Approvals}}, {{.Request.Approved}} of {{.Request.Approvals}} approvals{{end}}{{end}}
{{- define "extension"}}{{.Request.Extension}}{{if .Request.ExtensionDuration}} ({{duration .Request.ExtensionDuration}} more){{end}}{{end}}`))

var htmlTmpl = template.Must(template.New("html").Funcs(funcs).Parse(`<!doctype html>
<html><body style="font-family:sans-serif">
<p>{{.Lead}}</p>
<table>
<tr><th align="left">Request</th><td>{{.Request.ID}}</td></tr>
<tr><th align="left">Requester</th><td>{{.Request.Requester}}</td></tr>
<tr><th align="left">Role</th><td>{{.Request.Role}} ({{.Request.RoleID}})</td></tr>
<tr><th align="left">Scope</th><td>{{.Request.Scope}}</td></tr>
<tr><th align="left">Duration</th><td>{{.Duration}}</td></tr>
<tr><th align="left">Justification</th><td>{{.Request.Justification}}</td></tr>
{{- if .Request.Ticket}}<tr><th align="left">Ticket</th><td>{{.Request.Ticket}}</td></tr>{{end}}
{{- if .Request.Stages}}<tr><th align="left">Stage</th><td>{{template "stage" .}}</td></tr>{{end}}
{{- if .Request.Extension}}<tr><th align="left">Extension</th><td>{{template "extension" .}}</td></tr>{{end}}
{{- if .Action}}
{{- if .Others}}<tr><th align="left">Also asked</th><td>{{join .Others ", "}}</td></tr>{{end}}
{{- if .Request.EscalatesAt}}<tr><th align="left">{{if .Request.FinalTier}}Times out at{{else}}Escalates at{{end}}</th><td>{{when .Request.EscalatesAt}}</td></tr>{{end}}
{{- end}}
{{- if .Request.ExpiresAt}}<tr><th align="left">Expires at</th><td>{{when .Request.ExpiresAt}}</td></tr>{{end}}
{{- if .Request.Reason}}<tr><th align="left">{{if .Action}}Why{{else}}Reason{{end}}</th><td>{{.Request.Reason}}</td></tr>{{end}}
</table>
{{if .Link}}<p><a href="{{.Link}}">Review and decide</a></p>
<p>This link works only for you; please do not forward this email.</p>
{{else if .Action}}<p>To decide, call <code>POST {{.APIBase}}/api/v1/requests/{{.Request.ID}}/approve</code> or <code>/deny</code> with your own token.</p>
{{else if .Extend}}<p>To ask for more time before the grant ends, run <code>jitflow extend {{.Request.ID}} --duration 30m</code>, or call <code>POST {{.APIBase}}/api/v1/requests/{{.Request.ID}}/extend</code> with your own token and a JSON body such as <code>{"duration": "30m"}</code>.</p>
{{end}}{{if .Details}}<p><a href="{{.Details}}">Request details (API)</a></p>{{end}}
</body></html>
{{define "stage"}}{{.Request.Stage}} of {{.Request.Stages}}{{if .Request.StageName}} ({{.Request.StageName}}){{end}}{{if .Request.Approvals}}, {{.Request.Approved}} of {{.Request.Approvals}} approvals{{end}}{{end}}
{{- define "extension"}}{{.Request.Extension}}{{if .Request.ExtensionDuration}} ({{duration .Request.ExtensionDuration}} more){{end}}{{end}}`))
