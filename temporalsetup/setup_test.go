package temporalsetup

import (
	"errors"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
)

func TestTypeName(t *testing.T) {
	for typ, want := range map[enumspb.IndexedValueType]string{
		enumspb.INDEXED_VALUE_TYPE_KEYWORD:      "Keyword",
		enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST: "KeywordList",
		enumspb.INDEXED_VALUE_TYPE_DATETIME:     "Datetime",
	} {
		if got := typeName(typ); got != want {
			t.Errorf("typeName(%s) = %q, want %q", typ, got, want)
		}
	}
}

// TestAddHint: each refusal says what is wrong and gives the command that
// creates the missing attributes by hand.
func TestAddHint(t *testing.T) {
	missing := map[string]enumspb.IndexedValueType{
		"JitflowRole":        enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"JitflowApproverIds": enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
	}
	create := "temporal operator search-attribute create --namespace ns --name JitflowApproverIds --type KeywordList --name JitflowRole --type Keyword"
	for _, tt := range []struct {
		err  error
		want string
	}{
		{serviceerror.NewPermissionDenied("Request unauthorized.", ""), "may not create search attributes"},
		{serviceerror.NewUnimplemented("not here"), "may not create search attributes"},
		{serviceerror.NewInvalidArgument("Unable to create search attributes: cannot have more than 10 search attribute of type Keyword."), "no free slot"},
		{errors.New("other"), "to create them by hand"},
	} {
		got := addHint(tt.err, "ns", missing)
		if !strings.Contains(got, tt.want) || !strings.Contains(got, create) {
			t.Errorf("addHint(%v) = %q, want it to contain %q and %q", tt.err, got, tt.want, create)
		}
	}
}
