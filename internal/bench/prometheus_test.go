package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// A Temporal server's exposition: series of one operation are summed over
// their other labels, whichever exporter named the counters.
func TestParseStoreCounts(t *testing.T) {
	for name, text := range map[string]string{
		"opentelemetry": `# HELP persistence_requests_total Persistence requests, keyed by operation
# TYPE persistence_requests_total counter
persistence_requests_total{operation="UpdateWorkflowExecution",service_name="history"} 40
persistence_requests_total{operation="UpdateWorkflowExecution",service_name="frontend"} 2
persistence_requests_total{operation="GetWorkflowExecution",service_name="history"} 7
# TYPE visibility_persistence_requests_total counter
visibility_persistence_requests_total{operation="RecordWorkflowExecutionStarted",visibility_plugin_name="sqlite"} 5
# TYPE persistence_latency histogram
persistence_latency_bucket{operation="UpdateWorkflowExecution",le="+Inf"} 42
persistence_latency_sum{operation="UpdateWorkflowExecution"} 1
persistence_latency_count{operation="UpdateWorkflowExecution"} 42
`,
		"tally with a prefix": `temporal_persistence_requests{operation="UpdateWorkflowExecution",service_name="history"} 40
temporal_persistence_requests{operation="UpdateWorkflowExecution",service_name="frontend"} 2
temporal_persistence_requests{operation="GetWorkflowExecution",service_name="history"} 7
temporal_visibility_persistence_requests{operation="RecordWorkflowExecutionStarted"} 5
`,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := parseStoreCounts(strings.NewReader(text))
			if err != nil {
				t.Fatal(err)
			}
			want := StoreCounts{
				Main:       map[string]int64{"UpdateWorkflowExecution": 42, "GetWorkflowExecution": 7},
				Visibility: map[string]int64{"RecordWorkflowExecutionStarted": 5},
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("counts %+v, want %+v", got, want)
			}
		})
	}
}

func TestParseStoreCountsRefusesOtherMetrics(t *testing.T) {
	for text, want := range map[string]string{
		"go_goroutines 12\n":         "no persistence_requests or visibility_persistence_requests counter",
		"<html>not metrics</html>\n": "not Prometheus text format",
	} {
		if _, err := parseStoreCounts(strings.NewReader(text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to contain %q", text, err, want)
		}
	}
}

// The meter reads the endpoint each time it is asked, and names the flag
// when the endpoint fails.
func TestScrapedStore(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "persistence_requests{operation=\"AppendHistoryNodes\"} %d\n", calls*10)
	}))
	defer srv.Close()
	meter := ScrapedStore(srv.URL + "/metrics")
	before, err := meter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	after, err := meter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := writesBetween(before, after); got != (StoreWrites{Main: 10}) {
		t.Errorf("writes %+v, want 10 in the main store", got)
	}
	_, err = ScrapedStore(srv.URL + "/elsewhere")(context.Background())
	if err == nil || !strings.Contains(err.Error(), "--temporal-metrics-url "+srv.URL+"/elsewhere: answered 404") {
		t.Errorf("error %v, want it to name the flag and the answer", err)
	}
}
