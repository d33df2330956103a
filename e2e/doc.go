// Package e2e runs the built otelcol-slack collector against the Slack
// emulator and sends it logs through the OpenTelemetry Go SDK, as an
// application would.
//
// The tests use the binaries `make build` produces:
//
//	make build && go -C e2e test ./...
//
// SLACKEMU_BIN and OTELCOL_BIN override their paths (default ../bin/slackemu
// and ../bin/otelcol-slack). A collector binary older than the exporter's
// sources (go.mod, go.sum, builder-config.yaml, the non-test .go files of the
// module root and internal/) fails the test that starts it: it would test
// old code. Everything listens on 127.0.0.1 only.
//
// Beside package e2e: e2e/reliability (issue #4's scenarios), e2e/ocb (a
// collector built with ocb from the README's "Add it to your collector"
// manifest, outside the repository) and e2e/deploy (the Kubernetes manifests
// and the image's config).
//
// The harness lives in package e2e/harness (aliased into package e2e by
// harness_test.go): StartEmulator, StartCollector,
// SlackConfig, SendLogs / NewSender, Record, Eventually, and the emulator's
// and the collector's query helpers.
package e2e
