package main

// A log sender built like an application's: OTel Go SDK logger provider,
// batch processor, OTLP/HTTP exporter. Its exporter notes when each record
// (by body) was handed to OTLP, so latency can be split into the SDK's part
// and the collector's.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
)

type stampingExporter struct {
	sdklog.Exporter
	stamp bool

	mu       sync.Mutex
	at       map[string]time.Time
	exported int
	failed   int
}

func (e *stampingExporter) Export(ctx context.Context, records []sdklog.Record) error {
	now := time.Now()
	if e.stamp {
		e.mu.Lock()
		for _, r := range records {
			body := r.Body().AsString()
			if _, ok := e.at[body]; !ok {
				e.at[body] = now
			}
		}
		e.mu.Unlock()
	}
	err := e.Exporter.Export(ctx, records)
	e.mu.Lock()
	if err != nil {
		e.failed += len(records)
	} else {
		e.exported += len(records)
	}
	e.mu.Unlock()
	return err
}

func (e *stampingExporter) counts() (exported, failed int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.exported, e.failed
}

func (e *stampingExporter) exportedAt(body string) (time.Time, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.at[body]
	return t, ok
}

type sender struct {
	provider *sdklog.LoggerProvider
	logger   log.Logger
	exp      *stampingExporter
}

// newSender sends OTLP/HTTP to the collector's port as service.
func newSender(ctx context.Context, httpPort int, service string, stamp bool, opts ...sdklog.BatchProcessorOption) (*sender, error) {
	otlp, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(fmt.Sprintf("127.0.0.1:%d", httpPort)), otlploghttp.WithInsecure())
	if err != nil {
		return nil, err
	}
	exp := &stampingExporter{Exporter: otlp, stamp: stamp, at: map[string]time.Time{}}
	res := resource.NewSchemaless(attribute.String("service.name", service), attribute.String("deployment.environment", "bench"))
	provider := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp, opts...)))
	return &sender{provider: provider, logger: provider.Logger("bench"), exp: exp}, nil
}

func (s *sender) errorRecord(body string, attrs ...attribute.KeyValue) log.Record {
	var r log.Record
	now := time.Now()
	r.SetTimestamp(now)
	r.SetObservedTimestamp(now)
	r.SetSeverity(log.SeverityError)
	r.SetSeverityText("ERROR")
	r.SetBody(attribute.StringValue(body))
	r.AddAttributes(attrs...)
	return r
}

func (s *sender) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.provider.Shutdown(ctx)
}

// word names fingerprint i with letters only ("bab", "bac", …): the
// exporter masks digits when it fingerprints, never letters.
func word(i int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	var b strings.Builder
	b.WriteByte(letters[1+(i/(26*26))%25])
	b.WriteByte(letters[(i/26)%26])
	b.WriteByte(letters[i%26])
	return b.String()
}
