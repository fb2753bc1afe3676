#!/usr/bin/env bash
# Measures what msgraph-sdk-go costs to build: a cold build (empty GOCACHE,
# so the standard library and every dependency compile from scratch) of a
# tiny program, in up to three variants:
#   root      uses the SDK's root package (msgraphsdk.NewGraphServiceClient),
#             which pulls in every request builder of all of Graph
#   subpkg    uses only the packages jitflow needs: rolemanagement,
#             identitygovernance, models, models/odataerrors, msgraph-sdk-go-core
#   provider  uses jitflow's own Graph client (graph.New)
#   provider@REV  the same with the graph package as of git revision
#             REV, to compare the client before and after a change (REV
#             must have package graph: before it, the client was in
#             package activities)
# Each variant is built in its own empty cache; time reports wall clock, CPU
# and peak memory of the build.
# Usage: scripts/graph-build-cost.sh [root] [subpkg] [provider] [provider@REV]...
#        (default: root subpkg provider)
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(root subpkg provider)

# The programs live in an underscore directory inside the module, so they
# see its go.mod while ./... (go vet, go test) never picks them up.
work=$(mktemp -d "$PWD/_buildcost.XXXXXX")
trap 'rm -rf "$work"' EXIT

write() {
  mkdir -p "$work/$1"
  cat >"$work/$1/main.go"
}

write root <<'EOF'
package main

import (
	"fmt"

	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
)

func main() {
	adapter, err := msgraphsdk.NewGraphRequestAdapter(&absauth.AnonymousAuthenticationProvider{})
	if err != nil {
		panic(err)
	}
	client := msgraphsdk.NewGraphServiceClient(adapter)
	fmt.Println(client.RoleManagement().Directory().RoleAssignmentScheduleRequests() != nil,
		client.IdentityGovernance().PrivilegedAccess().Group().AssignmentScheduleRequests() != nil)
}
EOF

write subpkg <<'EOF'
package main

import (
	"fmt"

	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/identitygovernance"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
)

func main() {
	adapter, err := msgraphcore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		&absauth.AnonymousAuthenticationProvider{}, msgraphcore.GraphClientOptions{},
		jsonser.NewJsonParseNodeFactory(), jsonser.NewJsonSerializationWriterFactory(), nil)
	if err != nil {
		panic(err)
	}
	adapter.SetBaseUrl("https://graph.microsoft.com/v1.0")
	params := map[string]string{"baseurl": adapter.GetBaseUrl()}
	rm := rolemanagement.NewRoleManagementRequestBuilderInternal(params, adapter)
	ig := identitygovernance.NewIdentityGovernanceRequestBuilderInternal(params, adapter)
	fmt.Println(rm.Directory().RoleAssignmentScheduleRequests() != nil,
		ig.PrivilegedAccess().Group().AssignmentScheduleRequests() != nil, models.NewExpirationPattern() != nil)
}
EOF

write provider <<'EOF'
package main

import (
	"fmt"

	"github.com/jitflow/jitflow/graph"
)

func main() {
	c, err := graph.New(graph.Config{BaseURL: "http://127.0.0.1:8091"})
	fmt.Println(c != nil, err)
}
EOF

# provider@REV: that revision's graph package, beside a program using it.
at_revision() {
  local rev=$1 dir=$work/rev-$1
  mkdir -p "$dir/graph"
  git archive "$rev" graph | tar -x -C "$dir" --exclude='*_test.go'
  sed "s#github.com/jitflow/jitflow/graph#github.com/jitflow/jitflow/$(basename "$work")/rev-$rev/graph#" \
    "$work/provider/main.go" >"$dir/main.go"
}

for v in "${variants[@]}"; do
  dir=$v
  case $v in provider@*) dir=rev-${v#provider@}; at_revision "${v#provider@}" ;; esac
  [ -f "$work/$dir/main.go" ] || { echo "unknown variant $v: use root, subpkg, provider or provider@REV" >&2; exit 2; }
  cache=$(mktemp -d)
  echo "== $v: GOCACHE=$cache go build ./$(basename "$work")/$dir"
  GOCACHE=$cache /usr/bin/time -f "$v: %e s wall, %U s user, %S s sys, %M KB peak RSS" \
    go build -o "$work/$dir.bin" "./$(basename "$work")/$dir"
  echo "$v: binary $(du -k "$work/$dir.bin" | cut -f1) KB"
  rm -rf "$cache"
done
