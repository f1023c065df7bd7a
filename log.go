package basiq

import (
	"context"
	"log/slog"
	"time"

	"github.com/banklink-go/basiq/internal/transport"
)

// Stable log keys, shared by every log line of the SDK.
const (
	logKeyUserID        = "user_id"
	logKeyConnectionID  = "connection_id"
	logKeyJobID         = "job_id"
	logKeyCorrelationID = "correlation_id"
	logKeyStatus        = "status"
	logKeyAttempt       = "attempt"
)

// idAttrs names the ids in a request's path parameters with the stable keys.
func idAttrs(r apiRequest) []slog.Attr {
	var attrs []slog.Attr
	for i, name := range placeholders(r.route) {
		if i >= len(r.params) {
			break
		}
		switch name {
		case "userId":
			attrs = append(attrs, slog.String(logKeyUserID, r.params[i]))
		case "connectionId":
			attrs = append(attrs, slog.String(logKeyConnectionID, r.params[i]))
		case "jobId":
			attrs = append(attrs, slog.String(logKeyJobID, r.params[i]))
		}
	}
	return attrs
}

func (c *Client) logRequest(ctx context.Context, r apiRequest, status, attempts int, start time.Time, correlationID string) {
	if c.logger == nil || !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.method),
		slog.String("route", r.route),
		slog.Int(logKeyStatus, status),
		slog.Duration("duration", time.Since(start)),
		slog.Int(logKeyAttempt, attempts),
	}
	if correlationID != "" {
		attrs = append(attrs, slog.String(logKeyCorrelationID, correlationID))
	}
	attrs = append(attrs, idAttrs(r)...)
	c.logger.LogAttrs(ctx, slog.LevelDebug, "basiq: request", attrs...)
}

func (c *Client) logRetry(ctx context.Context, r apiRequest, ev transport.RetryEvent) {
	if c.logger == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.method),
		slog.String("route", r.route),
		slog.Int(logKeyAttempt, ev.Attempt),
		slog.String("reason", ev.Reason),
		slog.Duration("wait", ev.Wait),
	}
	if ev.StatusCode != 0 {
		attrs = append(attrs, slog.Int(logKeyStatus, ev.StatusCode))
	}
	if ev.Err != nil {
		attrs = append(attrs, slog.String("error", ev.Err.Error()))
	}
	attrs = append(attrs, idAttrs(r)...)
	c.logger.LogAttrs(ctx, slog.LevelWarn, "basiq: retrying request", attrs...)
}

func (c *Client) warn(ctx context.Context, msg string, r apiRequest, extra ...slog.Attr) {
	if c.logger == nil {
		return
	}
	attrs := append([]slog.Attr{slog.String("method", r.method), slog.String("route", r.route)}, extra...)
	attrs = append(attrs, idAttrs(r)...)
	c.logger.LogAttrs(ctx, slog.LevelWarn, msg, attrs...)
}
