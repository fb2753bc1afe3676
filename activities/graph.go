package activities

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	az "github.com/microsoftgraph/msgraph-sdk-go-core/authentication"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
	"go.temporal.io/sdk/temporal"
)

// GraphConfig configures the Microsoft Graph PIM provider.
type GraphConfig struct {
	// BaseURL is Graph's root without the version, e.g.
	// "https://graph.microsoft.com" or "http://127.0.0.1:8091" (the emulator).
	BaseURL string
	// Credential gets tokens for Graph. nil sends no token, which is only
	// allowed when BaseURL's host is loopback (the dev emulator).
	Credential azcore.TokenCredential
	// Scopes asked of the credential; default: the BaseURL's origin + "/.default".
	Scopes []string
	// HTTPClient is optional. The SDK's middleware (retry with Retry-After,
	// redirects) is put in front of its transport either way.
	HTTPClient *http.Client
}

// GraphPIM assigns and removes Entra directory roles through Microsoft
// Graph's PIM API, as an application (adminAssign/adminRemove): the
// self-service actions need the user's own fresh token, which a workflow
// acting hours later does not have.
type GraphPIM struct {
	client *msgraphsdk.GraphServiceClient
}

var _ PIM = (*GraphPIM)(nil)

// NewGraphPIM checks the configuration and builds the Graph client.
func NewGraphPIM(cfg GraphConfig) (*GraphPIM, error) {
	base, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("graph BaseURL %q: %w", cfg.BaseURL, err)
	}
	if err := checkBaseURL(base, cfg.Credential != nil); err != nil {
		return nil, fmt.Errorf("graph BaseURL %q: %w", cfg.BaseURL, err)
	}
	auth, err := graphAuth(cfg, base)
	if err != nil {
		return nil, err
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, nil, nil, graphHTTPClient(cfg.HTTPClient))
	if err != nil {
		return nil, fmt.Errorf("graph client: %w", err)
	}
	// Set before the service client copies the base URL into its builders.
	adapter.SetBaseUrl(base.String() + "/v1.0")
	return &GraphPIM{client: msgraphsdk.NewGraphServiceClient(adapter)}, nil
}

// checkBaseURL accepts an absolute http(s) URL without the API version.
// Plain http and calls without a token are for a loopback emulator only.
func checkBaseURL(u *url.URL, hasCredential bool) error {
	loopback := isLoopbackHost(u.Hostname())
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("scheme must be https (or http for a loopback emulator), got %q", u.Scheme)
	case u.Host == "":
		return fmt.Errorf("a host is required, e.g. https://graph.microsoft.com")
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("must not have a query or fragment")
	case strings.HasSuffix(u.Path, "/v1.0") || strings.HasSuffix(u.Path, "/beta"):
		return fmt.Errorf("leave out the API version (/v1.0 is added), e.g. https://graph.microsoft.com")
	case u.Scheme == "http" && !loopback:
		return fmt.Errorf("plain http is only allowed for a loopback host (the dev emulator); use https")
	case !hasCredential && !loopback:
		return fmt.Errorf("a Credential is required: only a loopback host (the dev emulator) may be called without a token")
	}
	return nil
}

// IsLoopbackURL reports whether rawURL points at this machine (the dev
// emulator), which is called without a credential.
func IsLoopbackURL(rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && isLoopbackHost(u.Hostname())
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// graphAuth returns the token provider. Its allow-list holds only BaseURL's
// host: azidentity silently sends no token elsewhere, so a national cloud or
// the emulator must be listed or every call would go unauthenticated.
func graphAuth(cfg GraphConfig, base *url.URL) (absauth.AuthenticationProvider, error) {
	if cfg.Credential == nil {
		return &absauth.AnonymousAuthenticationProvider{}, nil
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{base.Scheme + "://" + base.Host + "/.default"}
	}
	auth, err := az.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cfg.Credential, scopes, []string{base.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("graph authentication for %s: %w", base.Host, err)
	}
	return auth, nil
}

// graphHTTPClient builds the HTTP client with the SDK's default middleware
// (retry honouring Retry-After, redirects, telemetry) in front of the
// caller's transport: handing the SDK a bare client would drop retries.
func graphHTTPClient(c *http.Client) *http.Client {
	opts := msgraphsdk.GetDefaultClientOptions()
	if c == nil {
		return msgraphcore.GetDefaultClient(&opts, graphMiddleware(&opts)...)
	}
	clone := *c
	parent := c.Transport
	if parent == nil {
		parent = http.DefaultTransport
	}
	clone.Transport = khttp.NewCustomTransportWithParentTransport(parent, graphMiddleware(&opts)...)
	if clone.CheckRedirect == nil {
		// The redirect middleware follows redirects itself.
		clone.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return &clone
}

// graphMiddleware is the SDK's default middleware with request compression
// off. The SDK orders its middleware by map iteration; when compression runs
// inside the retry handler, a retried POST goes out with
// "Content-Encoding: gzip" over the uncompressed body
// (microsoft/kiota-http-go#183), Graph answers 400, and a throttled
// activation would fail for good. Schedule requests are a few hundred bytes:
// compressing them gains nothing.
func graphMiddleware(opts *msgraphcore.GraphClientOptions) []khttp.Middleware {
	mw := msgraphcore.GetDefaultMiddlewaresWithOptions(opts)
	for i, m := range mw {
		if _, ok := m.(*khttp.CompressionHandler); ok {
			mw[i] = khttp.NewCompressionHandlerWithOptions(khttp.NewCompressionOptions(false))
		}
	}
	return mw
}

func (g *GraphPIM) scheduleRequests() *rolemanagement.DirectoryRoleAssignmentScheduleRequestsRequestBuilder {
	return g.client.RoleManagement().Directory().RoleAssignmentScheduleRequests()
}

// Assign asks Graph for an assignment that Entra itself ends after
// in.Duration (whole seconds: Graph's durations carry no fractions).
func (g *GraphPIM) Assign(ctx context.Context, in ActivateInput) (ActivateResult, error) {
	if err := checkAssignment(in.Assignment); err != nil {
		return ActivateResult{}, rejected("assign: %v", err)
	}
	d := in.Duration.Truncate(time.Second)
	if d < time.Second {
		return ActivateResult{}, rejected("assign: duration must be at least 1s, got %s", in.Duration)
	}
	resp, err := g.scheduleRequests().Post(ctx, assignBody(in, d), nil)
	if err != nil {
		ge := newGraphError("assign", err)
		if ge.Code == CodeRoleAssignmentExists {
			return g.existing(ctx, in)
		}
		return ActivateResult{}, ge.classify()
	}
	if err := checkRequestStatus("assign", resp); err != nil {
		return ActivateResult{}, err
	}
	return assignResult(resp, d), nil
}

func assignBody(in ActivateInput, d time.Duration) models.UnifiedRoleAssignmentScheduleRequestable {
	body := scheduleRequestBody(models.ADMINASSIGN_UNIFIEDROLESCHEDULEREQUESTACTIONS, in.Assignment, justification(in.Justification, in.RequestID))
	expType := models.AFTERDURATION_EXPIRATIONPATTERNTYPE
	exp := models.NewExpirationPattern()
	exp.SetTypeEscaped(&expType)
	exp.SetDuration(serialization.FromDuration(d))
	schedule := models.NewRequestSchedule()
	schedule.SetExpiration(exp)
	body.SetScheduleInfo(schedule)
	if in.Ticket != "" {
		ticket := models.NewTicketInfo()
		ticket.SetTicketNumber(&in.Ticket)
		body.SetTicketInfo(ticket)
	}
	return body
}

func scheduleRequestBody(action models.UnifiedRoleScheduleRequestActions, a Assignment, why string) *models.UnifiedRoleAssignmentScheduleRequest {
	body := models.NewUnifiedRoleAssignmentScheduleRequest()
	body.SetAction(&action)
	principal, role, scope := a.PrincipalID, a.RoleDefinitionID, directoryScope(a)
	body.SetPrincipalId(&principal)
	body.SetRoleDefinitionId(&role)
	body.SetDirectoryScopeId(&scope)
	body.SetJustification(&why)
	return body
}

// justification carries the request id into Entra's audit log, so an
// auditor there can find the jitflow request (and its approvals).
func justification(text, requestID string) string {
	if requestID == "" {
		return text
	}
	if text == "" {
		return "jitflow request " + requestID
	}
	return text + " (jitflow request " + requestID + ")"
}

// directoryScope defaults to the whole tenant.
func directoryScope(a Assignment) string {
	if a.DirectoryScopeID == "" {
		return "/"
	}
	return a.DirectoryScopeID
}

func checkAssignment(a Assignment) error {
	switch {
	case a.PrincipalID == "":
		return fmt.Errorf("principal id is required")
	case a.RoleDefinitionID == "":
		return fmt.Errorf("role definition id is required")
	}
	return nil
}

// assignResult reads when the assignment starts and ends from Graph's
// answer, falling back to what was asked for.
func assignResult(resp models.UnifiedRoleAssignmentScheduleRequestable, d time.Duration) ActivateResult {
	start := time.Now()
	if c := resp.GetCreatedDateTime(); c != nil {
		start = *c
	}
	var end *time.Time
	if si := resp.GetScheduleInfo(); si != nil {
		if s := si.GetStartDateTime(); s != nil {
			start = *s
		}
		if x := si.GetExpiration(); x != nil {
			end = x.GetEndDateTime()
		}
	}
	res := ActivateResult{
		GraphRequestID: deref(resp.GetId()),
		GraphStatus:    deref(resp.GetStatus()),
		StartDateTime:  start.UTC(),
		EndDateTime:    start.Add(d).UTC(),
	}
	if end != nil {
		res.EndDateTime = end.UTC()
	}
	return res
}

// existing handles RoleAssignmentExists: usually an earlier attempt of this
// activity succeeded and its answer was lost, so the assignment counts as
// made. A permanent assignment is refused: adopting it would have jitflow
// remove the principal's standing access when the grant ends.
func (g *GraphPIM) existing(ctx context.Context, in ActivateInput) (ActivateResult, error) {
	instances, err := g.ActiveInstances(ctx, in.PrincipalID)
	if err != nil {
		return ActivateResult{}, err
	}
	for _, inst := range instances {
		if !sameAssignment(inst, in.Assignment) {
			continue
		}
		if inst.EndDateTime.IsZero() {
			return ActivateResult{}, rejected("assign: %s already holds role %s at %s permanently (instance %s); jitflow does not take over standing assignments",
				in.PrincipalID, in.RoleDefinitionID, directoryScope(in.Assignment), inst.ID)
		}
		return ActivateResult{
			GraphStatus:     CodeRoleAssignmentExists,
			StartDateTime:   inst.StartDateTime,
			EndDateTime:     inst.EndDateTime,
			AlreadyAssigned: true,
		}, nil
	}
	// Graph lists new assignments with a delay; the retry will find it.
	return ActivateResult{}, fmt.Errorf("assign: Graph says %s already holds role %s at %s but does not list that assignment yet",
		in.PrincipalID, in.RoleDefinitionID, directoryScope(in.Assignment))
}

func sameAssignment(inst Instance, a Assignment) bool {
	return strings.EqualFold(inst.RoleDefinitionID, a.RoleDefinitionID) &&
		strings.EqualFold(inst.DirectoryScopeID, directoryScope(a))
}

// Remove asks Graph to end the assignment. Nothing left to remove counts as
// done: Entra's own expiration or an earlier attempt got there first.
func (g *GraphPIM) Remove(ctx context.Context, in DeactivateInput) (DeactivateResult, error) {
	if err := checkAssignment(in.Assignment); err != nil {
		return DeactivateResult{}, rejected("remove: %v", err)
	}
	why := in.Reason
	if why == "" {
		why = "access ended"
	}
	body := scheduleRequestBody(models.ADMINREMOVE_UNIFIEDROLESCHEDULEREQUESTACTIONS, in.Assignment, justification(why, in.RequestID))
	resp, err := g.scheduleRequests().Post(ctx, body, nil)
	if err != nil {
		ge := newGraphError("remove", err)
		switch {
		case ge.Code == CodeRoleAssignmentDoesNotExist:
			return DeactivateResult{GraphStatus: ge.Code, AlreadyGone: true}, nil
		case ge.Status == http.StatusNotFound:
			return g.goneAfterNotFound(ctx, in, ge)
		}
		return DeactivateResult{}, ge.classify()
	}
	if err := checkRequestStatus("remove", resp); err != nil {
		return DeactivateResult{}, err
	}
	return DeactivateResult{GraphRequestID: deref(resp.GetId()), GraphStatus: deref(resp.GetStatus())}, nil
}

// goneAfterNotFound decides what a 404 without RoleAssignmentDoesNotExist
// means. It may be Graph's way of saying there is nothing to remove, or a
// wrong base URL or a proxy: only the principal's instance list can tell.
// While the assignment is still listed, or the list cannot be read, the
// removal is retried: a role must never be reported removed while it is
// still there.
func (g *GraphPIM) goneAfterNotFound(ctx context.Context, in DeactivateInput, notFound *GraphError) (DeactivateResult, error) {
	instances, err := g.ActiveInstances(ctx, in.PrincipalID)
	if err != nil {
		return DeactivateResult{}, fmt.Errorf("remove: Graph answered 404 (%s) and the assignments could not be listed to check: %s", notFound.Error(), err.Error())
	}
	for _, inst := range instances {
		if sameAssignment(inst, in.Assignment) {
			return DeactivateResult{}, fmt.Errorf("remove: Graph answered 404 (%s) but still lists the assignment (instance %s)", notFound.Error(), inst.ID)
		}
	}
	return DeactivateResult{GraphStatus: "NotFound", AlreadyGone: true}, nil
}

// failedStatuses are request statuses that mean Graph turned the request
// down even though the call itself succeeded.
var failedStatuses = map[string]bool{"Failed": true, "Denied": true, "Canceled": true}

func checkRequestStatus(op string, resp models.UnifiedRoleAssignmentScheduleRequestable) error {
	if status := deref(resp.GetStatus()); failedStatuses[status] {
		return rejected("%s: Graph answered request %s with status %s", op, deref(resp.GetId()), status)
	}
	return nil
}

// maxInstancePages bounds paging, in case a server keeps sending next links.
const maxInstancePages = 100

// ActiveInstances lists the principal's active role assignments.
func (g *GraphPIM) ActiveInstances(ctx context.Context, principalID string) ([]Instance, error) {
	filter := "principalId eq '" + strings.ReplaceAll(principalID, "'", "''") + "'"
	builder := g.client.RoleManagement().Directory().RoleAssignmentScheduleInstances()
	resp, err := builder.Get(ctx, &rolemanagement.DirectoryRoleAssignmentScheduleInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleAssignmentScheduleInstancesRequestBuilderGetQueryParameters{Filter: &filter},
	})
	var out []Instance
	for page := 0; ; page++ {
		if err != nil {
			return nil, newGraphError("list instances", err).classify()
		}
		if resp == nil {
			return out, nil
		}
		for _, v := range resp.GetValue() {
			out = append(out, instanceFrom(v))
		}
		next := deref(resp.GetOdataNextLink())
		if next == "" {
			return out, nil
		}
		if page+1 >= maxInstancePages {
			return nil, fmt.Errorf("list instances for %s: more than %d pages", principalID, maxInstancePages)
		}
		resp, err = builder.WithUrl(next).Get(ctx, nil)
	}
}

func instanceFrom(v models.UnifiedRoleAssignmentScheduleInstanceable) Instance {
	inst := Instance{
		ID:               deref(v.GetId()),
		PrincipalID:      deref(v.GetPrincipalId()),
		RoleDefinitionID: deref(v.GetRoleDefinitionId()),
		DirectoryScopeID: deref(v.GetDirectoryScopeId()),
		AssignmentType:   deref(v.GetAssignmentType()),
	}
	if s := v.GetStartDateTime(); s != nil {
		inst.StartDateTime = s.UTC()
	}
	if e := v.GetEndDateTime(); e != nil {
		inst.EndDateTime = e.UTC()
	}
	return inst
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// rejected is a failure retrying cannot fix.
func rejected(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return temporal.NewNonRetryableApplicationError(msg, ErrGraphRejected, nil)
}
