// Package basiqotel turns the operations a basiq.Client reports to its
// Observer into OpenTelemetry spans and metrics:
//
//	obs, err := basiqotel.NewObserver() // the global tracer and meter providers
//	if err != nil {
//		return err
//	}
//	client, err := basiq.NewClient(apiKey, basiq.WithObserver(obs))
//
// It lives in the module github.com/banklink-go/basiq/contrib/otel, beside
// the SDK's, so that the SDK never depends on OpenTelemetry.
//
// # Spans
//
// One span per operation (one service method call, one Client.Do, one page
// of a list), of kind client, named "basiq " + method + " " + route template
// ("basiq GET /users/{userId}/connections/{connectionId}"): the template,
// never the ids, so that every user's call has the same name. It spans the
// whole operation, retries, waits and token mints included, and carries:
//
//   - http.request.method: GET, POST...
//   - url.template: the route template
//   - http.response.status_code: the final status (absent when none came)
//   - basiq.attempts: the HTTP requests sent, over retries and token replay
//   - basiq.token_mints: the tokens minted that the operation waited for
//   - error.type: the basiq.ErrorCategory, on a failed operation, whose span
//     status is Error with the category as its description. The error's text
//     is not recorded: it names the ids in the path.
//
// The Observer is told when the operation has ended, so the span is made then,
// with the operation's start and end times, as a child of the span in the
// caller's context. Spans of the HTTP attempts (from an otelhttp transport
// given through basiq.WithHTTPClient) are therefore its siblings, not its
// children.
//
// # Metrics
//
//   - basiq.client.operation.duration (histogram, s): each operation's
//     duration, by http.request.method, url.template,
//     http.response.status_code and error.type;
//   - basiq.client.operation.retries (counter): attempts beyond the first,
//     by http.request.method and url.template;
//   - basiq.client.token.mints (counter): token mints that operations
//     waited for, by http.request.method and url.template. A mint that
//     concurrent operations share counts in each; a background refresh
//     before expiry counts in none.
package basiqotel

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/banklink-go/basiq"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/banklink-go/basiq/contrib/otel/basiqotel"

// Attribute keys.
const (
	keyMethod     = attribute.Key("http.request.method")
	keyRoute      = attribute.Key("url.template")
	keyStatus     = attribute.Key("http.response.status_code")
	keyErrorType  = attribute.Key("error.type")
	keyAttempts   = attribute.Key("basiq.attempts")
	keyTokenMints = attribute.Key("basiq.token_mints")
)

// Observer is a basiq.Observer that records operations with OpenTelemetry.
// Make one with NewObserver; it is safe for concurrent use.
type Observer struct {
	tracer   trace.Tracer
	duration metric.Float64Histogram
	retries  metric.Int64Counter
	mints    metric.Int64Counter
}

// Option configures an Observer made by NewObserver.
type Option func(*config)

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider sets where spans go (default: otel.GetTracerProvider()
// when NewObserver runs). Nil means the default.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithMeterProvider sets where metrics go (default: otel.GetMeterProvider()
// when NewObserver runs). Nil means the default.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// NewObserver returns an Observer for basiq.WithObserver. It fails only when
// the meter provider refuses an instrument.
func NewObserver(opts ...Option) (*Observer, error) {
	var cfg config
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	meter := cfg.mp.Meter(ScopeName, metric.WithInstrumentationVersion(basiq.Version))
	o := &Observer{tracer: cfg.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(basiq.Version))}
	var err, errs error
	o.duration, err = meter.Float64Histogram("basiq.client.operation.duration",
		metric.WithUnit("s"), metric.WithDescription("Duration of Basiq API operations, retries and token mints included."))
	errs = errors.Join(errs, err)
	o.retries, err = meter.Int64Counter("basiq.client.operation.retries",
		metric.WithUnit("{retry}"), metric.WithDescription("HTTP attempts of Basiq API operations beyond the first."))
	errs = errors.Join(errs, err)
	o.mints, err = meter.Int64Counter("basiq.client.token.mints",
		metric.WithUnit("{token}"), metric.WithDescription("Tokens minted (POST /token) that Basiq API operations waited for."))
	errs = errors.Join(errs, err)
	if errs != nil {
		return nil, errs
	}
	return o, nil
}

// SpanName returns the name of an operation's span: "basiq " + method + " "
// + route template.
func SpanName(op basiq.OperationInfo) string {
	return "basiq " + op.Method + " " + op.Route
}

// ObserveOperation records op as a span and in the metrics. A nil or zero
// Observer records nothing.
func (o *Observer) ObserveOperation(ctx context.Context, op basiq.OperationInfo) {
	if o == nil || o.tracer == nil {
		return
	}
	if ctx == nil {
		ctx = context.Background()
	}
	end := time.Now()
	start := end.Add(-op.Duration)

	route := []attribute.KeyValue{keyMethod.String(op.Method), keyRoute.String(op.Route)}
	outcome := make([]attribute.KeyValue, 0, 4)
	outcome = append(outcome, route...)
	if op.StatusCode != 0 {
		outcome = append(outcome, keyStatus.Int(op.StatusCode))
	}
	if op.Category != basiq.CategoryNone {
		outcome = append(outcome, keyErrorType.String(string(op.Category)))
	}

	_, span := o.tracer.Start(ctx, SpanName(op),
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(start),
		trace.WithAttributes(outcome...),
		trace.WithAttributes(keyAttempts.Int(op.Attempts), keyTokenMints.Int(op.TokenMints)),
	)
	if op.Category != basiq.CategoryNone {
		span.SetStatus(codes.Error, string(op.Category))
	}
	span.End(trace.WithTimestamp(end))

	o.duration.Record(ctx, op.Duration.Seconds(), metric.WithAttributes(outcome...))
	o.retries.Add(ctx, int64(op.Retries()), metric.WithAttributes(route...))
	o.mints.Add(ctx, int64(op.TokenMints), metric.WithAttributes(route...))
}

var _ basiq.Observer = (*Observer)(nil)
