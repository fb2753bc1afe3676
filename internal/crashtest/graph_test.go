package crashtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// The Graph emulator's lists, in Microsoft Graph's shapes.
const (
	instancesPath = "/v1.0/roleManagement/directory/roleAssignmentScheduleInstances"
	requestsPath  = "/v1.0/roleManagement/directory/roleAssignmentScheduleRequests"
)

// graphInstance is the part of a roleAssignmentScheduleInstance the tests read.
type graphInstance struct {
	ID               string `json:"id"`
	PrincipalID      string `json:"principalId"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	EndDateTime      string `json:"endDateTime"`
}

// graphRequest is the part of a roleAssignmentScheduleRequest the tests read.
type graphRequest struct {
	ID            string `json:"id"`
	Action        string `json:"action"`
	Status        string `json:"status"`
	PrincipalID   string `json:"principalId"`
	Justification string `json:"justification"`
}

// marker is how jitflow names its request in a Graph justification.
var marker = regexp.MustCompile(`\(jitflow request ([^)\s]+)\)`)

// graphList reads one of the emulator's lists.
func graphList[T any](ctx context.Context, graphURL, path string) ([]T, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, graphURL+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	var out struct {
		Value []T `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return out.Value, nil
}

// assignmentsByRequest counts the assignments Graph made (adminAssign
// requests it provisioned) for each jitflow request id.
func assignmentsByRequest(reqs []graphRequest) map[string]int {
	n := map[string]int{}
	for _, r := range reqs {
		if !strings.EqualFold(r.Action, "adminAssign") || !strings.EqualFold(r.Status, "Provisioned") {
			continue
		}
		if m := marker.FindStringSubmatch(r.Justification); m != nil {
			n[m[1]]++
		}
	}
	return n
}
