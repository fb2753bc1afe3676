package bench

import (
	"testing"
	"time"

	"github.com/jitflow/jitflow/internal/graphemu"
	"github.com/jitflow/jitflow/workflows"
)

const reader = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"

func TestMatchRemovals(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	g := func(principal string, approved time.Duration) grant {
		return grant{req: workflows.Request{RequesterID: principal, RoleDefinitionID: reader, DirectoryScopeID: "/"}, approvedAt: t0.Add(approved)}
	}
	rem := func(principal string, at time.Duration) graphemu.Removal {
		return graphemu.Removal{PrincipalID: principal, RoleDefinitionID: reader, DirectoryScopeID: "/", ReceivedAt: t0.Add(at)}
	}
	gs := []grant{g("a", 10*time.Second), g("b", 10*time.Second), g("c", 10*time.Second), g("a", 20*time.Second)}
	rems := []graphemu.Removal{
		rem("a", 5*time.Second), // an earlier grant's removal: not this one's
		rem("b", 16*time.Second),
		rem("a", 31*time.Second), // overlapping grants of a end with the last one
		{PrincipalID: "c", RoleDefinitionID: reader, DirectoryScopeID: "/administrativeUnits/x", ReceivedAt: t0.Add(15 * time.Second)},
	}
	if left := matchRemovals(gs, rems); left != 1 {
		t.Fatalf("%d grants left, want 1 (c, removed at another scope only)", left)
	}
	want := []time.Duration{31 * time.Second, 16 * time.Second, 0, 31 * time.Second}
	for i, w := range want {
		var got time.Duration
		if !gs[i].removedAt.IsZero() {
			got = gs[i].removedAt.Sub(t0)
		}
		if got != w {
			t.Errorf("grant %d removed at +%s, want +%s", i, got, w)
		}
	}
	// A later poll keeps what was matched and fills the rest.
	rems = append(rems, rem("c", 40*time.Second), rem("b", 50*time.Second))
	if left := matchRemovals(gs, rems); left != 0 {
		t.Fatalf("%d grants left after c's removal", left)
	}
	if gs[1].removedAt != t0.Add(16*time.Second) || gs[2].removedAt != t0.Add(40*time.Second) {
		t.Errorf("b removed at %s, c at %s", gs[1].removedAt, gs[2].removedAt)
	}
}
