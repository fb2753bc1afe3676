package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jitflow/jitflow/client"
	"github.com/jitflow/jitflow/durations"
)

type listFlags struct {
	status, role, requester string
	mine, pendingMine       bool
	limit                   int
	pageToken               string
	after, before           string
	quiet                   bool
}

func listCommand() *cobra.Command {
	var (
		api apiFlags
		lf  listFlags
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the requests you may see, newest first",
		Long: `List the requests you may see, newest first: your own and those you may
approve (operators and auditors see all). Filters combine.`,
		Example: `  jitflow list --as bob
  jitflow list --pending-my-approval --as bob
  jitflow list --status active --role reader --created-after 24h --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := lf.options(time.Now())
			if err != nil {
				return err
			}
			s, err := api.session(cmd)
			if err != nil {
				return err
			}
			var keep func(client.Request) bool
			if lf.mine || lf.pendingMine {
				who, err := s.whoami(cmd.Context())
				if err != nil {
					return fmt.Errorf("--mine / --pending-my-approval: %w", err)
				}
				if lf.mine {
					opts.Requester = who.ID
				} else {
					keep = func(r client.Request) bool {
						return slices.ContainsFunc(r.Approvers, func(a client.Approver) bool { return a.ApproverID == who.ID })
					}
				}
			}
			page, err := s.List(cmd.Context(), opts)
			if err != nil {
				return err
			}
			return lf.print(cmd, s, opts, page, keep)
		},
	}
	f := cmd.Flags()
	f.StringVar(&lf.status, "status", "", "only this status: "+statusNames())
	f.StringVar(&lf.role, "role", "", "only this role")
	f.StringVar(&lf.requester, "requester", "", "only this requester: principal name, object id or dev name")
	f.BoolVar(&lf.mine, "mine", false, "only your own requests")
	f.BoolVar(&lf.pendingMine, "pending-my-approval", false, "only pending requests you may decide now")
	f.StringVar(&lf.after, "created-after", "", `only requests created after this time (RFC 3339, or a duration ago such as "24h")`)
	f.StringVar(&lf.before, "created-before", "", `only requests created before this time (RFC 3339, or a duration ago)`)
	f.IntVar(&lf.limit, "limit", 0, "at most this many requests (the API's default is 50)")
	f.StringVar(&lf.pageToken, "page-token", "", "continue a listing where an earlier one stopped")
	f.BoolVarP(&lf.quiet, "quiet", "q", false, "print only the request ids")
	api.register(f)
	cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions(statusList(), cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func statusList() []string {
	out := make([]string, len(client.Statuses))
	for i, s := range client.Statuses {
		out[i] = string(s)
	}
	return out
}

func statusNames() string { return strings.Join(statusList(), ", ") }

// options checks the filters and turns them into the API's.
func (lf listFlags) options(now time.Time) (client.ListOptions, error) {
	opts := client.ListOptions{Role: lf.role, Requester: lf.requester, Limit: lf.limit, PageToken: lf.pageToken}
	if lf.status != "" {
		if !slices.Contains(client.Statuses, client.Status(lf.status)) {
			return opts, usagef("--status %q: use one of %s", lf.status, statusNames())
		}
		opts.Status = client.Status(lf.status)
	}
	if lf.mine && lf.requester != "" {
		return opts, usagef("--mine and --requester both pick the requester; give one")
	}
	if lf.mine && lf.pendingMine {
		return opts, usagef("--mine and --pending-my-approval exclude each other: nobody approves their own request")
	}
	if lf.pendingMine {
		if opts.Status != "" && opts.Status != client.StatusPending {
			return opts, usagef("--pending-my-approval lists %s requests; --status %s contradicts it", client.StatusPending, opts.Status)
		}
		opts.Status = client.StatusPending
	}
	if lf.limit < 0 {
		return opts, usagef("--limit %d: give a positive number", lf.limit)
	}
	var err error
	if opts.CreatedAfter, err = pointInTime("--created-after", lf.after, now); err != nil {
		return opts, err
	}
	if opts.CreatedBefore, err = pointInTime("--created-before", lf.before, now); err != nil {
		return opts, err
	}
	return opts, nil
}

// pointInTime reads an RFC 3339 time or a duration before now.
func pointInTime(flag, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if d, err := durations.Parse(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, usagef(`%s %q: give a time such as 2026-11-26T09:00:00Z or a duration ago such as "24h" or "P7D"`, flag, v)
}

func (lf listFlags) print(cmd *cobra.Command, s *session, opts client.ListOptions, page client.ListPage, keep func(client.Request) bool) error {
	out := cmd.OutOrStdout()
	if keep != nil {
		page.Requests = slices.DeleteFunc(page.Requests, func(r client.Request) bool { return !keep(r) })
	}
	switch {
	case s.flags.json:
		raw := page.Raw
		if keep != nil {
			var err error
			if raw, err = keepRaw(page.Raw, keep); err != nil {
				return err
			}
		}
		return writeRaw(out, raw)
	case lf.quiet:
		for _, r := range page.Requests {
			fmt.Fprintln(out, r.ID)
		}
	case len(page.Requests) == 0:
		fmt.Fprintln(out, "No requests.")
	default:
		if err := newPrinter(out).requests(page.Requests); err != nil {
			return err
		}
	}
	if page.NextPageToken != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "There are more: %s\n", lf.nextPage(opts, page.NextPageToken))
	}
	return nil
}

// nextPage is the command line of the next page. A page token only
// continues the very query it came from, so times given as "24h ago" are
// written out as the times they stood for.
func (lf listFlags) nextPage(opts client.ListOptions, token string) string {
	args := []string{"jitflow list"}
	add := func(flag, v string) {
		if v != "" {
			args = append(args, flag+" "+v)
		}
	}
	if lf.pendingMine {
		args = append(args, "--pending-my-approval")
	} else {
		add("--status", string(opts.Status))
	}
	if lf.mine {
		args = append(args, "--mine")
	} else {
		add("--requester", opts.Requester)
	}
	add("--role", opts.Role)
	if !opts.CreatedAfter.IsZero() {
		add("--created-after", opts.CreatedAfter.UTC().Format(time.RFC3339))
	}
	if !opts.CreatedBefore.IsZero() {
		add("--created-before", opts.CreatedBefore.UTC().Format(time.RFC3339))
	}
	if opts.Limit > 0 {
		add("--limit", strconv.Itoa(opts.Limit))
	}
	add("--page-token", token)
	return strings.Join(args, " ")
}

// keepRaw filters the requests of a raw listing, keeping every other
// member of the answer as it came.
func keepRaw(raw json.RawMessage, keep func(client.Request) bool) (json.RawMessage, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("read the listing: %w", err)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(doc["requests"], &items); err != nil {
		return nil, fmt.Errorf("read the listing's requests: %w", err)
	}
	kept := []json.RawMessage{}
	for _, item := range items {
		var r client.Request
		if err := json.Unmarshal(item, &r); err != nil {
			return nil, fmt.Errorf("read a listed request: %w", err)
		}
		if keep(r) {
			kept = append(kept, item)
		}
	}
	b, err := json.Marshal(kept)
	if err != nil {
		return nil, err
	}
	doc["requests"] = b
	return json.Marshal(doc)
}
