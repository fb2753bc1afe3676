package approvals

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jitflow/jitflow/activities"
)

// PathPrefix is where the approval pages live; a link is PathPrefix + token.
const PathPrefix = "/approvals/"

// DefaultLinkLifetime applies to a link asked for without an expiry (an
// email of a request started before links had one): long enough to act on
// a day's mail, and the workflow still refuses a decision once the stage
// is over.
const DefaultLinkLifetime = 24 * time.Hour

// Links mints the absolute approval links emails carry. It implements
// activities.ApprovalLinks.
type Links struct {
	keys *KeySet
	base string
	now  func() time.Time
}

var _ activities.ApprovalLinks = (*Links)(nil)

// NewLinks makes links under baseURL (the public URL of the jitflow
// server, e.g. https://jitflow.example.com).
func NewLinks(keys *KeySet, baseURL string) (*Links, error) {
	if keys == nil {
		return nil, errors.New("approval links: no keys")
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("approval links: base URL " + strconv.Quote(baseURL) + " must be an absolute http(s) URL such as https://jitflow.example.com")
	}
	return &Links{keys: keys, base: strings.TrimSuffix(baseURL, "/"), now: time.Now}, nil
}

// Link returns <base>/approvals/<token> for one approver, request (or one
// of its extensions) and stage.
func (l *Links) Link(_ context.Context, in activities.LinkInput) (string, error) {
	exp := in.Expires
	if exp.IsZero() {
		exp = l.now().Add(DefaultLinkLifetime)
	}
	tok, _, err := l.keys.Mint(Claims{RequestID: in.RequestID, Stage: in.Stage, Extension: in.Extension, ApproverID: in.ApproverID, Expires: exp})
	if err != nil {
		return "", err
	}
	return l.base + PathPrefix + tok, nil
}
