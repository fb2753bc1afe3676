// Package server is jitflow's HTTP API: it authenticates callers by their
// Entra ID (or dev) bearer token, checks requests against the policy, and
// starts, queries and updates the access-request workflows in Temporal.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"

	"github.com/jitflow/jitflow/approvals"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/proof"
	"github.com/jitflow/jitflow/telemetry"
)

// Config holds what the API needs.
type Config struct {
	Temporal client.Client
	// Policy is the policy in force; Policies, when set, supplies it
	// instead, as it is reloaded (policies.Live): each HTTP request reads
	// one snapshot.
	Policy   *policies.Policy
	Policies interface{ Current() *policies.Policy }
	Verifier *TokenVerifier
	// BaseURL is the public base URL, e.g. "https://jitflow.example.com", for
	// Location headers and the links in emails.
	BaseURL string
	// Proofs sign every request start and update the server sends, for
	// the caller it authenticated (proof.FromKeySet of jitflow's key
	// list): workflows refuse what carries no valid proof. Required.
	Proofs *proof.Keys
	// ApprovalKeys, when set, serves the approval pages at
	// /approvals/<token>: the keys that check approval links.
	ApprovalKeys *approvals.KeySet
	// SignIn, when set, lets roles with approver_sign_in or a step-up ask
	// approvers to sign in (OIDC) before a link decides; New refuses a
	// policy with such roles without it.
	SignIn *SignInConfig
	// Ready reports whether the API can serve (Temporal reachable, a worker
	// polling); nil means only Temporal's health is checked.
	Ready  func(ctx context.Context) error
	Logger *slog.Logger
	// Metrics, when set, counts refused calls (jitflow_refusals_total).
	Metrics *telemetry.Metrics
	// Directory answers what the policy's Entra references stand for
	// (groups, managers, users by id or principal name, eligibilities) and
	// reads the groups of callers whose token has a group overage. nil
	// leaves overage callers with the policy's own groups, and New refuses
	// a policy with Entra references without it.
	Directory policies.Directory
	// RateLimit bounds each caller's calls; zero means DefaultRateLimit.
	RateLimit RateLimit
	// AddressRateLimit bounds, per client address, the calls that carry no
	// valid token and the approval page loads; zero means RateLimit.
	AddressRateLimit RateLimit
	// TrustedProxies are the reverse proxies (load balancers, ingress)
	// whose X-Forwarded-For names the client address; without them the
	// client address is the connection's peer, as a client can write any
	// X-Forwarded-For it likes.
	TrustedProxies []netip.Prefix
	// PageTokenKey signs list page tokens. Servers behind one load balancer
	// must share it; nil means a random key (tokens then work only on the
	// server that made them, and not across its restarts).
	PageTokenKey []byte
	// Eligibility answers whether a requester holds a PIM eligibility in
	// Entra; required when a role of the policy sets require_eligibility.
	Eligibility Eligibility
	// TemporalUIURL, when set, links each request's portal page to its
	// workflow in the Temporal Web UI, for operators: the UI's address
	// with the namespace, e.g. "http://localhost:8233/namespaces/default".
	TemporalUIURL string
}

// NamespaceUI is the Temporal Web UI's page of namespace (Config's
// TemporalUIURL) given the UI's address; "" without one.
func NamespaceUI(ui, namespace string) string {
	if ui == "" {
		return ""
	}
	return strings.TrimSuffix(ui, "/") + "/namespaces/" + url.PathEscape(namespace)
}

// Server is the HTTP API.
type Server struct {
	temporal temporalClient
	policies interface{ Current() *policies.Policy }
	verifier *TokenVerifier
	baseURL  string
	// approvalKeys and signIn serve the approval pages; nil without them.
	approvalKeys *approvals.KeySet
	signIn       *signIn
	proofs       *proof.Keys
	ready        func(ctx context.Context) error
	log          *slog.Logger
	echo         *echo.Echo
	now          func() time.Time
	metrics      *telemetry.Metrics
	recent       recentStarts
	viewCache    viewCache
	warming      chan struct{}
	directory    policies.Directory
	limits       *limiters
	addrLimits   *limiters
	pages        pageSigner
	eligible     Eligibility
	temporalUI   string
}

// New builds the API and its routes.
func New(cfg Config) (*Server, error) {
	var missing []string
	if cfg.Temporal == nil {
		missing = append(missing, "Temporal")
	}
	if cfg.Policies == nil && cfg.Policy != nil {
		cfg.Policies = staticPolicy{cfg.Policy}
	}
	if cfg.Policies == nil {
		missing = append(missing, "Policy")
	}
	if cfg.Verifier == nil {
		missing = append(missing, "Verifier")
	}
	if cfg.Proofs == nil {
		missing = append(missing, "Proofs")
	}
	if len(missing) > 0 {
		return nil, errors.New("server: config needs " + strings.Join(missing, ", "))
	}
	baseURL := strings.TrimSuffix(cfg.BaseURL, "/")
	si, err := newSignIn(cfg.SignIn, baseURL)
	if err != nil {
		return nil, err
	}
	s := &Server{
		temporal:     cfg.Temporal,
		policies:     cfg.Policies,
		verifier:     cfg.Verifier,
		baseURL:      baseURL,
		approvalKeys: cfg.ApprovalKeys,
		signIn:       si,
		proofs:       cfg.Proofs,
		ready:        cfg.Ready,
		log:          newLogger(cfg.Logger),
		echo:         echo.New(),
		warming:      make(chan struct{}, warmers),
		now:          time.Now,
		metrics:      cfg.Metrics,
		directory:    cfg.Directory,
		eligible:     cfg.Eligibility,
		temporalUI:   strings.TrimSuffix(cfg.TemporalUIURL, "/"),
	}
	if err := s.CheckPolicy(cfg.Policies.Current()); err != nil {
		return nil, err
	}
	s.recent.now = func() time.Time { return s.now() }
	s.limits = newLimiters(cfg.RateLimit, "user", func() time.Time { return s.now() })
	addrLimit := cfg.AddressRateLimit
	if addrLimit == (RateLimit{}) {
		addrLimit = s.limits.cfg
	}
	s.addrLimits = newLimiters(addrLimit, "client address", func() time.Time { return s.now() })
	s.echo.IPExtractor = ipExtractor(cfg.TrustedProxies)
	if s.pages, err = newPageSigner(cfg.PageTokenKey); err != nil {
		return nil, err
	}
	if s.ready == nil {
		s.ready = s.temporalHealthy
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(withRequestID, s.logRequests, s.recoverPanics, s.recordRefusals, apiHeaders)

	e.GET("/healthz", s.health)
	e.GET("/api/openapi.yaml", serveSpec)
	// Each API route authenticates on its own (not through a group), so
	// unknown paths and methods get the router's 404 and 405.
	auth := s.authenticate
	e.POST("/api/v1/requests", s.createRequest, auth)
	e.GET("/api/v1/requests", s.listRequests, auth)
	e.GET("/api/v1/requests/:id", s.getRequest, auth)
	e.GET("/api/v1/roles", s.listRoles, auth)
	e.GET("/api/v1/requests/:id/audit", s.getAudit, auth)
	e.POST("/api/v1/requests/:id/approve", s.approve, auth)
	e.POST("/api/v1/requests/:id/deny", s.deny, auth)
	e.POST("/api/v1/requests/:id/cancel", s.cancel, auth)
	e.POST("/api/v1/requests/:id/revoke", s.revoke, auth)
	s.approvalRoutes()
	e.POST("/api/v1/requests/:id/extend", s.extend, auth)
	s.portalRoutes()
}

// Echo returns the router, so the binary can mount more routes (dev
// routes, approval pages) on the same port and error handling.
func (s *Server) Echo() *echo.Echo { return s.echo }

// Handler returns the API as an http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

func (s *Server) requestURL(id string) string {
	return s.baseURL + "/api/v1/requests/" + id
}
