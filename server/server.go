// Package server is jitflow's HTTP API: it authenticates callers by their
// Entra ID (or dev) bearer token, checks requests against the policy, and
// starts, queries and updates the access-request workflows in Temporal.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"

	"github.com/jitflow/jitflow/policies"
)

// Config holds what the API needs.
type Config struct {
	Temporal client.Client
	Policy   *policies.Policy
	Verifier *TokenVerifier
	// BaseURL is the public base URL, e.g. "https://jitflow.example.com", for
	// Location headers and the links in emails.
	BaseURL string
	// Ready reports whether the API can serve (Temporal reachable, a worker
	// polling); nil means only Temporal's health is checked.
	Ready  func(ctx context.Context) error
	Logger *slog.Logger
	// Eligibility answers whether a requester holds a PIM eligibility in
	// Entra; required when a role of the policy sets require_eligibility.
	Eligibility Eligibility
}

// Server is the HTTP API.
type Server struct {
	temporal temporalClient
	policy   *policies.Policy
	verifier *TokenVerifier
	baseURL  string
	ready    func(ctx context.Context) error
	log      *slog.Logger
	echo     *echo.Echo
	eligible Eligibility
	now      func() time.Time
}

// New builds the API and its routes.
func New(cfg Config) (*Server, error) {
	var missing []string
	if cfg.Temporal == nil {
		missing = append(missing, "Temporal")
	}
	if cfg.Policy == nil {
		missing = append(missing, "Policy")
	}
	if cfg.Verifier == nil {
		missing = append(missing, "Verifier")
	}
	if cfg.Policy != nil && cfg.Eligibility == nil {
		if r := eligibilityRole(cfg.Policy); r != "" {
			missing = append(missing, fmt.Sprintf("Eligibility (role %q sets require_eligibility)", r))
		}
	}
	if len(missing) > 0 {
		return nil, errors.New("server: config needs " + strings.Join(missing, ", "))
	}
	s := &Server{
		temporal: cfg.Temporal,
		policy:   cfg.Policy,
		verifier: cfg.Verifier,
		baseURL:  strings.TrimSuffix(cfg.BaseURL, "/"),
		ready:    cfg.Ready,
		eligible: cfg.Eligibility,
		log:      newLogger(cfg.Logger),
		echo:     echo.New(),
		now:      time.Now,
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
	e.Use(withRequestID, s.logRequests, s.recoverPanics)

	e.GET("/healthz", s.health)
	// Each API route authenticates on its own (not through a group), so
	// unknown paths and methods get the router's 404 and 405.
	auth := s.authenticate
	e.POST("/api/v1/requests", s.createRequest, auth)
	e.GET("/api/v1/requests", s.listRequests, auth)
	e.GET("/api/v1/requests/:id", s.getRequest, auth)
	e.GET("/api/v1/requests/:id/audit", s.getAudit, auth)
	e.POST("/api/v1/requests/:id/approve", s.approve, auth)
	e.POST("/api/v1/requests/:id/deny", s.deny, auth)
	e.POST("/api/v1/requests/:id/cancel", s.cancel, auth)
	e.POST("/api/v1/requests/:id/revoke", s.revoke, auth)
	e.POST("/api/v1/requests/:id/extend", s.extend, auth)
}

// Echo returns the router, so the binary can mount more routes (dev
// routes, approval pages) on the same port and error handling.
func (s *Server) Echo() *echo.Echo { return s.echo }

// Handler returns the API as an http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

func (s *Server) requestURL(id string) string {
	return s.baseURL + "/api/v1/requests/" + id
}
