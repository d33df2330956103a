// Package interactivity proves issue 10 end to end: bin/otelcol-slack with
// exporters.slack.interactivity set, against bin/slackemu, which clicks an
// entry's menu as a person in Slack would (POST /_emu/click) over Socket
// Mode or to the collector's request URL. What the tests read back is what
// Slack received (the emulator's messages) and what the collector counted
// (its Prometheus endpoint).
package interactivity
