package basiqotel_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
	"github.com/banklink-go/basiq/contrib/otel/basiqotel"
)

// setup returns a fake, a client on it observed by basiqotel, and where its
// spans and metrics go: OpenTelemetry's in-memory span recorder and a manual
// metric reader.
func setup(t *testing.T) (*basiqtest.Server, *basiq.Client, *tracetest.SpanRecorder, *sdkmetric.ManualReader) {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	obs, err := basiqotel.NewObserver(basiqotel.WithTracerProvider(tp), basiqotel.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	srv := basiqtest.NewServer(basiqtest.InMemory())
	t.Cleanup(srv.Close)
	c, err := basiq.NewClient(srv.APIKey(), basiq.WithBaseURL(srv.URL), basiq.WithHTTPClient(srv.Client()),
		basiq.WithObserver(obs),
		basiq.WithRetryPolicy(basiq.RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, spans, reader
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// TestSpansPerOperation: one span per operation, named by its route
// template, with its attempts (more than one on a retried call), status and
// token mints; a failed operation's span has an error status.
func TestSpansPerOperation(t *testing.T) {
	srv, c, spans, _ := setup(t)
	ctx := t.Context()
	u, err := c.Users.Create(ctx, basiq.UserParams{Email: "otel@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/users/*", Status: http.StatusServiceUnavailable, Count: 2})
	if _, err := c.Users.Get(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Users.Get(ctx, "00000000-0000-4000-8000-000000000000"); err == nil {
		t.Fatal("Users.Get of a missing user: no error")
	}

	ended := spans.Ended()
	if len(ended) != 3 {
		t.Fatalf("%d spans for 3 operations", len(ended))
	}
	for i, want := range []struct {
		name     string
		route    string
		attempts int64
		status   int64
		mints    int64
		errType  string
	}{
		{"basiq POST /users", "/users", 1, http.StatusCreated, 1, ""},
		{"basiq GET /users/{userId}", "/users/{userId}", 3, http.StatusOK, 0, ""},
		{"basiq GET /users/{userId}", "/users/{userId}", 1, http.StatusNotFound, 0, "not_found"},
	} {
		s := ended[i]
		a := attrs(s)
		if s.Name() != want.name || s.SpanKind() != trace.SpanKindClient {
			t.Errorf("span %d: %q (%v), want %q (client)", i, s.Name(), s.SpanKind(), want.name)
		}
		if got := a["url.template"].AsString(); got != want.route {
			t.Errorf("span %d: url.template %q, want %q", i, got, want.route)
		}
		if got := a["basiq.attempts"].AsInt64(); got != want.attempts {
			t.Errorf("span %d: basiq.attempts %d, want %d", i, got, want.attempts)
		}
		if got := a["http.response.status_code"].AsInt64(); got != want.status {
			t.Errorf("span %d: status %d, want %d", i, got, want.status)
		}
		if got := a["basiq.token_mints"].AsInt64(); got != want.mints {
			t.Errorf("span %d: basiq.token_mints %d, want %d", i, got, want.mints)
		}
		if got := a["error.type"].AsString(); got != want.errType {
			t.Errorf("span %d: error.type %q, want %q", i, got, want.errType)
		}
		if (s.Status().Code == codes.Error) != (want.errType != "") {
			t.Errorf("span %d: status %v", i, s.Status())
		}
		if !s.EndTime().After(s.StartTime()) {
			t.Errorf("span %d: from %v to %v", i, s.StartTime(), s.EndTime())
		}
	}
	if a := attrs(ended[1]); a["http.request.method"].AsString() != http.MethodGet {
		t.Errorf("method attribute %v", a["http.request.method"])
	}
}

// TestSpanParent: the operation's span is a child of the caller's span.
func TestSpanParent(t *testing.T) {
	_, c, spans, _ := setup(t)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	ctx, parent := tp.Tracer("test").Start(t.Context(), "caller")
	if _, err := c.Users.Create(ctx, basiq.UserParams{Email: "parent@example.com"}); err != nil {
		t.Fatal(err)
	}
	parent.End()
	ended := spans.Ended()
	if len(ended) != 2 || ended[0].Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Fatalf("spans %v: want the operation's span under the caller's", ended)
	}
}

// TestMetrics: latency by operation, retries and token mints.
func TestMetrics(t *testing.T) {
	srv, c, _, reader := setup(t)
	ctx := t.Context()
	u, err := c.Users.Create(ctx, basiq.UserParams{Email: "metrics@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(basiqtest.Fault{Method: http.MethodGet, Path: "/users/*", Status: http.StatusServiceUnavailable, Count: 2})
	for range 2 {
		if _, err := c.Users.Get(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	byName := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != basiqotel.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			byName[m.Name] = m.Data
		}
	}
	routeOf := func(set attribute.Set) string {
		v, _ := set.Value("url.template")
		return v.AsString()
	}

	hist, ok := byName["basiq.client.operation.duration"].(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("no duration histogram: %v", byName)
	}
	counts := map[string]uint64{}
	for _, dp := range hist.DataPoints {
		counts[routeOf(dp.Attributes)] += dp.Count
	}
	if counts["/users"] != 1 || counts["/users/{userId}"] != 2 || len(counts) != 2 {
		t.Errorf("durations recorded by route: %v", counts)
	}

	sums := func(name string) map[string]int64 {
		sum, ok := byName[name].(metricdata.Sum[int64])
		if !ok || !sum.IsMonotonic {
			t.Fatalf("%s: not a counter: %v", name, byName[name])
		}
		got := map[string]int64{}
		for _, dp := range sum.DataPoints {
			got[routeOf(dp.Attributes)] += dp.Value
		}
		return got
	}
	if got := sums("basiq.client.operation.retries"); got["/users/{userId}"] != 2 || got["/users"] != 0 {
		t.Errorf("retries by route: %v", got)
	}
	if got := sums("basiq.client.token.mints"); got["/users"] != 1 || got["/users/{userId}"] != 0 {
		t.Errorf("token mints by route: %v", got)
	}
}

func TestZeroObserver(t *testing.T) {
	var o *basiqotel.Observer
	o.ObserveOperation(t.Context(), basiq.OperationInfo{Method: "GET", Route: "/users"})
	(&basiqotel.Observer{}).ObserveOperation(t.Context(), basiq.OperationInfo{})
	if _, err := basiqotel.NewObserver(nil); err != nil {
		t.Fatal(err)
	}
}
