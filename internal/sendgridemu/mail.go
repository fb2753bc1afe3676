package sendgridemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
)

// SendGrid's documented limits on a Mail Send request.
const (
	maxPersonalizations = 1000
	maxCategories       = 10
	maxCategoryLen      = 255
	maxCustomArgsBytes  = 10000
)

// Mail is the part of the v3 payload jitflow uses, as the endpoint read it.
type Mail struct {
	Personalizations []Personalization `json:"personalizations"`
	From             *Address          `json:"from"`
	ReplyTo          *Address          `json:"reply_to,omitempty"`
	Subject          string            `json:"subject"`
	Content          []Content         `json:"content"`
	Categories       []string          `json:"categories,omitempty"`
	CustomArgs       map[string]string `json:"custom_args,omitempty"`
	MailSettings     *MailSettings     `json:"mail_settings,omitempty"`
	TrackingSettings *TrackingSettings `json:"tracking_settings,omitempty"`
}

// Personalization is one envelope of a message.
type Personalization struct {
	To      []Address `json:"to"`
	CC      []Address `json:"cc,omitempty"`
	BCC     []Address `json:"bcc,omitempty"`
	Subject string    `json:"subject,omitempty"`
}

// Address is an email address with an optional display name.
type Address struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

// Content is one body of the message.
type Content struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Setting is a switch such as sandbox_mode.
type Setting struct {
	Enable *bool `json:"enable"`
}

// MailSettings holds sandbox mode.
type MailSettings struct {
	SandboxMode *Setting `json:"sandbox_mode,omitempty"`
}

// TrackingSettings says which tracking SendGrid applies.
type TrackingSettings struct {
	ClickTracking *struct {
		Enable     *bool `json:"enable"`
		EnableText *bool `json:"enable_text"`
	} `json:"click_tracking,omitempty"`
	OpenTracking         *Setting `json:"open_tracking,omitempty"`
	SubscriptionTracking *Setting `json:"subscription_tracking,omitempty"`
}

// ClickTrackingOff reports whether click tracking is off, in HTML and text.
// SendGrid's account default is on, so leaving it out means on.
func (m Mail) ClickTrackingOff() bool {
	t := m.TrackingSettings
	if t == nil || t.ClickTracking == nil || t.ClickTracking.Enable == nil {
		return false
	}
	ct := t.ClickTracking
	return !*ct.Enable && (ct.EnableText == nil || !*ct.EnableText)
}

// OpenTrackingOff reports whether open tracking is off.
func (m Mail) OpenTrackingOff() bool {
	t := m.TrackingSettings
	return t != nil && t.OpenTracking != nil && t.OpenTracking.Enable != nil && !*t.OpenTracking.Enable
}

func (m Mail) sandbox() bool {
	s := m.MailSettings
	return s != nil && s.SandboxMode != nil && s.SandboxMode.Enable != nil && *s.SandboxMode.Enable
}

// parse decodes the payload and checks what SendGrid checks, returning every
// problem found.
func parse(body []byte) (Mail, []apiError) {
	var m Mail
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&m); err != nil {
		return m, []apiError{{Message: fmt.Sprintf("Bad Request: the body is not a valid mail object: %v", err)}}
	}
	var errs []apiError
	add := func(field, format string, args ...any) { errs = append(errs, fieldError(field, format, args...)) }
	checkPersonalizations(m, add)
	switch {
	case m.From == nil || m.From.Email == "":
		add("from.email", "The from object must be provided for every email send, with an email address.")
	case !validAddress(m.From.Email):
		add("from.email", "The from email does not contain a valid address.")
	}
	checkContent(m, add)
	if len(m.Categories) > maxCategories {
		add("categories", "You may not have more than %d categories per request.", maxCategories)
	}
	for _, c := range m.Categories {
		if len(c) > maxCategoryLen {
			add("categories", "A category cannot be more than %d characters.", maxCategoryLen)
		}
	}
	if n := customArgsBytes(m.CustomArgs); n > maxCustomArgsBytes {
		add("custom_args", "The custom_args are %d bytes; they may total at most %d.", n, maxCustomArgsBytes)
	}
	if s := m.MailSettings; s != nil && s.SandboxMode != nil && s.SandboxMode.Enable == nil {
		add("mail_settings.sandbox_mode.enable", "The sandbox mode enable param should be a boolean value.")
	}
	return m, errs
}

func checkPersonalizations(m Mail, add func(field, format string, args ...any)) {
	switch n := len(m.Personalizations); {
	case n == 0:
		add("personalizations", "The personalizations field is required and must have at least one personalization.")
	case n > maxPersonalizations:
		add("personalizations", "You may not have more than %d personalizations per request.", maxPersonalizations)
	}
	for i, p := range m.Personalizations {
		if len(p.To) == 0 {
			add(fmt.Sprintf("personalizations.%d.to", i), "The to array is required for all personalization objects, and must have at least one email object with a valid email address.")
		}
		for j, a := range p.To {
			if !validAddress(a.Email) {
				add(fmt.Sprintf("personalizations.%d.to.%d.email", i, j), "Does not contain a valid address.")
			}
		}
	}
	for _, p := range m.Personalizations {
		if m.Subject == "" && p.Subject == "" {
			add("subject", "The subject is required, for the message or for every personalization.")
			return
		}
	}
}

// checkContent: at least one non-empty body, and text/plain, when given,
// comes first, then text/html.
func checkContent(m Mail, add func(field, format string, args ...any)) {
	if len(m.Content) == 0 {
		add("content", "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block.")
		return
	}
	for i, c := range m.Content {
		if c.Value == "" {
			add(fmt.Sprintf("content.%d.value", i), "The content value must be a string at least one character in length.")
		}
		if c.Type == "" {
			add(fmt.Sprintf("content.%d.type", i), "The content type must be a string at least one character in length.")
		}
		if c.Type == "text/plain" && i != 0 {
			add(fmt.Sprintf("content.%d.type", i), "If present, text/plain must be first, followed by text/html, followed by any other content.")
		}
		if c.Type == "text/html" && i > 0 && !(i == 1 && m.Content[0].Type == "text/plain") {
			add(fmt.Sprintf("content.%d.type", i), "If present, text/plain must be first, followed by text/html, followed by any other content.")
		}
	}
}

func customArgsBytes(args map[string]string) int {
	n := 0
	for k, v := range args {
		n += len(k) + len(v)
	}
	return n
}

func validAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}
