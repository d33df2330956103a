// Package reliability proves that the slack exporter survives what Slack and
// the machine can do to it (issue #4): outages, hangs, throttling, permanent
// errors, a crash with a persistent queue, shutdown with records queued, a
// queue too small for its input, secrets in every output, and abusive
// configs. Each scenario is a test that runs bin/otelcol-slack against
// bin/slackemu (package e2e/harness) on loopback.
//
// Every record carries a unique id made of the letters g–z ("rid-hkmpq"),
// which the exporter's grouping never masks, so each record is its own entry
// and the tests count, by scanning every message Slack received, which
// records were delivered, delivered twice, or lost.
//
// Environment:
//
//	RELIABILITY_WINDOW    length of the outage and hang windows (default 5s; `make reliability` uses 60s)
//	RELIABILITY_DOC       if set, write the results table (markdown) to this file after the run
//	RELIABILITY_FUZZ_LOG  output of the fuzz run, summarised in RELIABILITY_DOC
//	SLACKEMU_BIN, OTELCOL_BIN  as in package e2e
package reliability
