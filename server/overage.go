package server

import (
	"context"
	"net/http"
)

// overageGroups reads the groups a token left out. Without a directory the
// caller keeps only the groups the policy directory gives them: fewer
// rights, never more.
func (s *Server) overageGroups(ctx context.Context, userID string) ([]string, error) {
	if s.directory == nil {
		s.log.Warn("token has a group overage and no group directory is configured; using the policy's groups only", "caller_id", userID)
		return nil, nil
	}
	groups, err := s.directory.MemberGroups(ctx, userID)
	if err != nil {
		return nil, &apiError{status: http.StatusServiceUnavailable, cause: err,
			detail: "your token has too many groups to list them, and the directory that holds them cannot be read now; try again shortly"}
	}
	return groups, nil
}
