package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/internal/devtemporal"
	"github.com/jitflow/jitflow/temporalsetup"
)

// TestExternalTemporal: with TemporalAddress the stack uses a Temporal
// server it did not start, whose namespace lacks jitflow's search
// attributes: it creates them and a request runs its course. A namespace
// that does not exist, or has no free search attribute slot, is refused
// saying what to do. The other server's Web UI takes no write actions.
func TestExternalTemporal(t *testing.T) {
	srv, err := devtemporal.Start(devtemporal.Options{DatabaseFile: filepath.Join(t.TempDir(), "temporal.db"), Namespace: "default", Retention: 24 * time.Hour, SearchAttributesAddedLater: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	checkReadOnlyUI(t, "http://"+srv.UIAddress)

	external := func(ns string) func(*Options) {
		return func(o *Options) { o.TemporalAddress, o.Namespace, o.NoUI = srv.FrontendAddress, ns, false }
	}
	s := newSession(t, fastPolicy(t), external("default"))
	if s.st.UIURL != "" || s.st.temporal != nil || s.st.TemporalAddr != srv.FrontendAddress {
		t.Errorf("stack UI %q, embedded server %v, Temporal at %s; want no UI, no server, %s", s.st.UIURL, s.st.temporal, s.st.TemporalAddr, srv.FrontendAddress)
	}
	req := s.active("1m")
	s.act("alice", req.ID, "revoke", `{}`)
	s.wait(req.ID, api.StatusRevoked, 30*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = Start(ctx, Options{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", GraphAddr: "127.0.0.1:0", TemporalAddress: srv.FrontendAddress, Namespace: "nosuch"})
	var notFound *temporalsetup.NamespaceNotFoundError
	if !errors.As(err, &notFound) || notFound.Namespace != "nosuch" || !strings.Contains(err.Error(), "jitflow setup") {
		t.Errorf("namespace nosuch: error %v, want one naming it and jitflow setup", err)
	}

	// A namespace whose ten Keyword slots (SQL visibility) are taken.
	c, err := client.DialContext(ctx, client.Options{HostPort: srv.FrontendAddress, Namespace: "full"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := temporalsetup.EnsureNamespace(ctx, c, "full", 48*time.Hour); err != nil {
		t.Fatal(err)
	}
	fillers := map[string]enumspb.IndexedValueType{}
	for i := range 10 {
		fillers[fmt.Sprintf("Other%d", i)] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: "full", SearchAttributes: fillers}); err != nil {
		t.Fatal(err)
	}
	_, err = Start(ctx, Options{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", GraphAddr: "127.0.0.1:0", TemporalAddress: srv.FrontendAddress, Namespace: "full"})
	if err == nil || !strings.Contains(err.Error(), "no free slot") || !strings.Contains(err.Error(), "temporal operator search-attribute create --namespace full") {
		t.Errorf("namespace full: error %v, want one saying there is no free slot and how to create the attributes", err)
	}
}

// checkReadOnlyUI: the Web UI says write actions are off and refuses one.
func checkReadOnlyUI(t *testing.T, ui string) {
	t.Helper()
	var settings struct{ DisableWriteActions bool }
	waitFor(t, 20*time.Second, "the Web UI's settings", func() bool {
		resp, err := http.Get(ui + "/api/v1/settings")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&settings) == nil
	})
	if !settings.DisableWriteActions {
		t.Error("the Web UI's settings do not disable write actions")
	}
	req, err := http.NewRequest("POST", ui+"/api/v1/namespaces/default/workflows/any/terminate", strings.NewReader(`{"reason":"test"}`))
	if err != nil {
		t.Fatal(err)
	}
	// A bearer token spares the call the UI's CSRF check (as for API
	// clients), so what answers is the write-actions switch.
	req.Header.Set("Authorization", "Bearer any")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("terminate through the Web UI: status %d, want 405", resp.StatusCode)
	}
}
