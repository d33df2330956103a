// Command slogapp is a small "service" that logs with log/slog through the
// OpenTelemetry slog bridge. The SDK's BatchProcessor queues every record in
// memory and ships them over OTLP/HTTP from a background goroutine, so a log
// call never waits on the network — and never on Slack, which sits behind the
// collector's slack exporter.
//
// It plays a short scripted scenario (noise, warnings, a handful of errors, a
// repeated error, an error carrying Slack mentions, an error inside a trace, a
// fatal record), times every slog call, and prints the figures at the end.
//
//	slogapp -service checkout -env dev -endpoint 127.0.0.1:4318
//
// With -count it plays no scenario: it makes that many log calls, a fraction
// -errors of them ERROR and the rest INFO, and prints the same figures (make
// bench uses this to time the log call under load).
//
// The endpoint can also come from the standard OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_LOGS_ENDPOINT environment variables.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
)

// levelFatal is one step above ERROR; the bridge maps it to OTel severity FATAL (21).
const levelFatal = slog.LevelError + 4

func main() {
	var (
		endpoint = flag.String("endpoint", "", "OTLP/HTTP host:port (default: OTEL_EXPORTER_OTLP_[LOGS_]ENDPOINT, else 127.0.0.1:4318)")
		service  = flag.String("service", "checkout", "service.name resource attribute")
		env      = flag.String("env", "dev", "deployment.environment resource attribute")
		noise    = flag.Int("n", 200, "scale of the INFO/DEBUG noise (records per noise burst)")
		quiet    = flag.Bool("quiet", false, "print only the timing summary")
		count    = flag.Int("count", 0, "instead of the scenario, make this many log calls (INFO, and ERROR per -errors)")
		errRatio = flag.Float64("errors", 0.01, "with -count: the fraction of the calls that log an ERROR")
		queue    = flag.Int("queue", 0, "records the SDK's batch processor holds before it drops (default max(2048, 8×n))")
	)
	flag.Parse()
	if *errRatio < 0 || *errRatio > 1 {
		fmt.Fprintln(os.Stderr, "slogapp: -errors must be between 0 and 1")
		os.Exit(2)
	}
	if *count > 0 {
		*quiet = true
	}
	if *queue <= 0 {
		*queue = max(2048, 8*(*noise))
	}
	if err := run(*endpoint, *service, *env, *noise, *quiet, *count, *errRatio, *queue); err != nil {
		fmt.Fprintln(os.Stderr, "slogapp:", err)
		os.Exit(1)
	}
}

func run(endpoint, service, env string, noise int, quiet bool, count int, errRatio float64, queue int) error {
	ctx := context.Background()
	say := func(format string, args ...any) {
		if !quiet {
			fmt.Printf(format+"\n", args...)
		}
	}

	exporter, where, err := newExporter(ctx, endpoint)
	if err != nil {
		return err
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", service),
		attribute.String("deployment.environment", env),
	))
	if err != nil {
		return err
	}
	provider := sdklog.NewLoggerProvider(
		sdklog.WithResource(res),
		// The queue is sized so that the noise bursts never push out the errors
		// that follow them; a full queue drops records rather than block the caller.
		// Batches leave every 200ms (the SDK's default is 1s): an alert should
		// not sit in the process longer than the collector's own batching.
		sdklog.WithProcessor(sdklog.NewBatchProcessor(exporter,
			sdklog.WithMaxQueueSize(queue), sdklog.WithExportInterval(200*time.Millisecond))),
	)
	logger := otelslog.NewLogger("slogapp", otelslog.WithLoggerProvider(provider))
	say("slogapp: service=%s env=%s, sending OTLP/HTTP to %s", service, env, where)

	// Every slog call goes through this timer: the whole point is how long the caller waits.
	took := make([]time.Duration, 0, max(count, 1024))
	logAt := func(ctx context.Context, level slog.Level, msg string, args ...any) {
		start := time.Now()
		logger.Log(ctx, level, msg, args...)
		took = append(took, time.Since(start))
	}

	noiseBurst := func() {
		for i := range noise {
			logAt(ctx, slog.LevelInfo, "request served",
				"http.method", "GET", "http.route", "/api/cart/{id}", "http.status_code", 200, "duration_ms", 3+i%17)
			logAt(ctx, slog.LevelDebug, "cache hit", "key", fmt.Sprintf("cart:%d", 5000+i))
		}
	}

	if count > 0 {
		loadCalls(ctx, logAt, count, errRatio)
		return finish(provider, took, service, env, where)
	}

	say("  %d INFO/DEBUG records of routine noise (the exporter drops these)", 2*noise+1)
	logAt(ctx, slog.LevelInfo, "service started", "version", "1.4.2", "port", 8080)
	noiseBurst()

	say("  3 WARN records (below the error threshold)")
	logAt(ctx, slog.LevelWarn, "slow upstream response", "upstream", "inventory-service", "latency_ms", 1840)
	logAt(ctx, slog.LevelWarn, "retrying request", "upstream", "payments-gateway", "attempt", 2)
	logAt(ctx, slog.LevelWarn, "connection pool nearly exhausted", "pool", "orders-db", "in_use", 47, "size", 50)

	say("  3 ERROR records with attributes")
	logAt(ctx, slog.LevelError, "payment declined by provider",
		"order_id", "ord-10042", "http.status_code", 402, "provider", "acme-pay", "amount_cents", 12999)
	logAt(ctx, slog.LevelError, "database query failed",
		"order_id", "ord-10043", "table", "orders", "error", "pq: deadlock detected")
	logAt(ctx, slog.LevelError, "upstream returned an error",
		"upstream", "shipping-rates", "http.status_code", 503, "http.route", "/v2/quote")
	say("  %d more INFO/DEBUG records", 2*noise)
	noiseBurst()

	say("  20 ERROR records of one failure, each with different numbers in its text")
	for i := range 20 {
		logAt(ctx, slog.LevelError, fmt.Sprintf("failed to reserve stock for order ord-%d: item %d out of stock", 10100+i, 770+i%3),
			"warehouse", "eu-west")
	}
	say("  10 identical ERROR records (the exporter collapses these into one entry with a count)")
	for range 10 {
		logAt(ctx, slog.LevelError, "inventory-service unavailable: connection refused", "upstream", "inventory-service")
	}

	say("  1 ERROR whose text contains <!channel> and <@U123> (must arrive escaped, not as a ping)")
	logAt(ctx, slog.LevelError, "customer note rejected: \"<!channel> refund me now <@U123>\"",
		"order_id", "ord-10077", "field", "note")

	sc := newSpanContext()
	say("  1 ERROR inside a span (trace_id=%s span_id=%s)", sc.TraceID(), sc.SpanID())
	spanCtx := trace.ContextWithSpanContext(ctx, sc)
	logAt(spanCtx, slog.LevelError, "checkout request failed",
		"order_id", "ord-10099", "http.route", "/api/checkout", "http.status_code", 500)

	say("  1 FATAL record")
	logAt(ctx, levelFatal, "cannot reach orders database, shutting down", "dsn_host", "orders-db.internal", "attempts", 5)
	return finish(provider, took, service, env, where)
}

// loadCalls makes count log calls, spreading the ERROR ones evenly among the
// INFO ones.
func loadCalls(ctx context.Context, logAt func(context.Context, slog.Level, string, ...any), count int, errRatio float64) {
	errs := 0
	for i := range count {
		if float64(errs) < errRatio*float64(i+1) {
			errs++
			logAt(ctx, slog.LevelError, "payment declined by provider",
				"order_id", fmt.Sprintf("ord-%d", 10000+i), "http.status_code", 402, "provider", "acme-pay")
			continue
		}
		logAt(ctx, slog.LevelInfo, "request served",
			"http.method", "GET", "http.route", "/api/cart/{id}", "http.status_code", 200, "duration_ms", 3+i%17)
	}
}

// finish flushes the provider and prints the timing summary.
func finish(provider *sdklog.LoggerProvider, took []time.Duration, service, env, where string) error {
	ctx := context.Background()
	// Shutdown flushes whatever the BatchProcessor still holds. This is the only
	// place the program waits on the network, and it is not a log call.
	flushStart := time.Now()
	shutdownCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	shutdownErr := provider.Shutdown(shutdownCtx)
	flush := time.Since(flushStart)

	slices.Sort(took)
	fmt.Printf("slogapp[%s/%s]: %d log calls: p50=%v p99=%v max=%v; Shutdown flushed the rest in %v\n",
		service, env, len(took), percentile(took, 50), percentile(took, 99), took[len(took)-1], flush.Round(time.Millisecond))
	if shutdownErr != nil {
		return fmt.Errorf("flushing logs to %s: %w", where, shutdownErr)
	}
	return nil
}

// newExporter builds the OTLP/HTTP exporter. An explicit -endpoint wins; otherwise the
// SDK reads the standard environment variables; otherwise 127.0.0.1:4318. Plain HTTP is
// used only towards a loopback address.
func newExporter(ctx context.Context, endpoint string) (sdklog.Exporter, string, error) {
	for _, name := range []string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		if v := os.Getenv(name); v != "" && endpoint == "" {
			exp, err := otlploghttp.New(ctx)
			return exp, v, err
		}
	}
	if endpoint == "" {
		endpoint = "127.0.0.1:4318"
	}
	opts := []otlploghttp.Option{otlploghttp.WithEndpoint(endpoint)}
	if host, _, err := net.SplitHostPort(endpoint); err != nil {
		return nil, "", fmt.Errorf("-endpoint %q: want host:port: %w", endpoint, err)
	} else if isLoopback(host) {
		opts = append(opts, otlploghttp.WithInsecure())
	}
	exp, err := otlploghttp.New(ctx, opts...)
	return exp, endpoint, err
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newSpanContext makes a valid, sampled SpanContext as a tracing SDK would; the log
// bridge copies its trace and span ids into the record. No tracer is needed.
func newSpanContext() trace.SpanContext {
	var tid trace.TraceID
	var sid trace.SpanID
	_, _ = rand.Read(tid[:])
	_, _ = rand.Read(sid[:])
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
}

// percentile returns the p-th percentile (nearest rank) of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)]
}
