package e2e

import (
	"fmt"
	"testing"
	"time"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
)

func TestDbgTmp(t *testing.T) {
	col := StartCollector(t, `receivers:
  otlp:
    protocols:
      http:
        endpoint: ${env:OTLP_HTTP_ENDPOINT}
exporters:
  debug:
    verbosity: detailed
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [debug]
`)
	var recs []log.Record
	for i := range 3 {
		r := Record(log.SeverityError, "")
		r.SetBody(attribute.StringValue(fmt.Sprintf("body-%d", i)))
		recs = append(recs, r)
	}
	col.SendLogs(t, Service("x", "dev"), recs...)
	time.Sleep(time.Second)
	t.Log(col.Logs())
}
