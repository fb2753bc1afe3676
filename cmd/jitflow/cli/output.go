package cli

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jitflow/jitflow/client"
	"github.com/jitflow/jitflow/durations"
	"github.com/jitflow/jitflow/freetext"
)

// timeLayout shows times in the reader's local time zone.
const timeLayout = "2006-01-02 15:04:05"

// printer writes answers for people, relative to one moment.
type printer struct {
	w   io.Writer
	now time.Time
}

func newPrinter(w io.Writer) printer { return printer{w: w, now: time.Now()} }

// raw writes the API's JSON as it came, ending in a newline.
func writeRaw(w io.Writer, raw []byte) error {
	raw = bytes.TrimRight(raw, "\n")
	_, err := fmt.Fprintf(w, "%s\n", raw)
	return err
}

// at writes a time in local time with how far it is from now.
func (p printer) at(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	d := t.Sub(p.now)
	switch {
	case d > time.Second:
		return fmt.Sprintf("%s (in %s)", t.Local().Format(timeLayout), human(d))
	case d < -time.Second:
		return fmt.Sprintf("%s (%s ago)", t.Local().Format(timeLayout), human(-d))
	}
	return t.Local().Format(timeLayout) + " (now)"
}

// clock writes a time in local time, short, for tables.
func clock(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.Local().Format(timeLayout)
}

// human writes a duration for people: "2h", "1h30m", "45s"; under an hour
// to the second, over it to the minute.
func human(d time.Duration) string {
	if d >= time.Hour {
		d = d.Round(time.Minute)
	} else {
		d = d.Round(time.Second)
	}
	return durations.Format(d)
}

// show is a value from the API as one line of output: text from older
// requests may hold control or bidi characters (and free text may hold
// line breaks), which would redraw the terminal or reorder what it shows;
// they become visible escapes.
func show(s string) string { return freetext.EscapeLine(s) }

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return show(s)
}

// detail writes one request as labelled lines.
func (p printer) detail(r client.Request) error {
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	line := func(label, value string) { fmt.Fprintf(tw, "%s\t%s\n", label, value) }
	line("ID", show(r.ID))
	line("Status", statusLine(r))
	line("Role", show(r.Role))
	line("Requester", show(r.Requester))
	line("Duration", human(r.GrantDuration()))
	line("Justification", orDash(r.Justification))
	line("Ticket", orDash(r.Ticket))
	line("Created", p.at(&r.CreatedAt))
	if r.Status == client.StatusPending {
		line("Approvers", approverNames(r.Approvers))
		if r.EscalatesAt != nil {
			line("Escalates", p.at(r.EscalatesAt))
		}
	}
	if r.ActivatedAt != nil {
		line("Activated", p.at(r.ActivatedAt))
	}
	if r.ExpiresAt != nil {
		line("Expires", p.at(r.ExpiresAt))
	}
	if r.EndedAt != nil {
		line("Ended", p.at(r.EndedAt))
	}
	if r.AutoApprovedBy != "" {
		line("Approved by", "policy rule "+show(r.AutoApprovedBy))
	}
	if r.AlreadyHeld {
		line("Already held", "yes: the requester held the role before; it stays when this grant ends")
	}
	if r.Extensions > 0 {
		line("Extensions", fmt.Sprint(r.Extensions))
	}
	if x := r.Extension; x != nil {
		line("Extension", fmt.Sprintf("#%d for %s more, %s", x.Number, show(x.Duration), show(string(x.Status))))
		if x.Status == client.StatusPending {
			line("  Approvers", approverNames(x.Approvers))
		}
	}
	if r.Reason != "" {
		line("Reason", show(r.Reason))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Decisions) == 0 {
		return nil
	}
	fmt.Fprintln(p.w, "\nDecisions:")
	tw = tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  STAGE\tDECISION\tAPPROVER\tTIME\tCOMMENT")
	for _, d := range r.Decisions {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\n", d.Stage, show(d.Decision), show(d.Approver), clock(&d.Time), orDash(d.Comment))
	}
	return tw.Flush()
}

// statusLine is the status with where an approval stands.
func statusLine(r client.Request) string {
	s := show(string(r.Status))
	switch {
	case r.BreakGlass:
		s += " (break-glass)"
	case r.Status == client.StatusPending && r.Stages > 0:
		s += fmt.Sprintf(" (stage %d of %d, tier %d)", r.Stage, r.Stages, r.Tier)
	}
	return s
}

func approverNames(as []client.Approver) string {
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = a.Approver
	}
	return orDash(strings.Join(names, ", "))
}

// summary is one line about a request after an action.
func (p printer) summary(r client.Request) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s  %s for %s: %s", show(r.ID), show(r.Requester), show(r.Role), human(r.GrantDuration()), statusLine(r))
	switch {
	case r.Status == client.StatusPending:
		fmt.Fprintf(&b, ", waiting for %s", approverNames(r.Approvers))
	case r.Status == client.StatusActive && r.ExpiresAt != nil:
		fmt.Fprintf(&b, " until %s", p.at(r.ExpiresAt))
	case r.Reason != "":
		fmt.Fprintf(&b, ": %s", show(r.Reason))
	}
	if x := r.Extension; x != nil && x.Status == client.StatusPending {
		fmt.Fprintf(&b, "; extension #%d for %s more waits for %s", x.Number, show(x.Duration), approverNames(x.Approvers))
	}
	_, err := fmt.Fprintln(p.w, b.String())
	return err
}

// requests writes a listing as a table.
func (p printer) requests(rs []client.Request) error {
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tROLE\tREQUESTER\tDURATION\tCREATED\tENDS")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", show(r.ID), show(string(r.Status)), show(r.Role), show(r.Requester),
			human(r.GrantDuration()), clock(&r.CreatedAt), ends(r))
	}
	return tw.Flush()
}

// ends is when the grant ends or ended, if that is known.
func ends(r client.Request) string {
	if r.EndedAt != nil {
		return clock(r.EndedAt)
	}
	return clock(r.ExpiresAt)
}

// audit writes a trail as a table.
func (p printer) audit(events []client.AuditEvent) error {
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tEVENT\tACTOR\tDETAIL")
	for _, ev := range events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", clock(&ev.Time), show(ev.Type), show(ev.Actor), orDash(ev.Detail))
	}
	return tw.Flush()
}
