package render

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"text/template"
	"time"

	"github.com/slackexporter/slackexporter/internal/group"
)

// Layout is how one destination's messages look: the default layout, or
// one with a mention and templates from the configuration. The zero value
// is the default.
type Layout struct {
	// Mention (a Slack mention like <!here>, validated by the config)
	// opens every message. It is the only markup that ever comes from
	// outside the exporter, and it comes from the configuration alone.
	Mention string
	// Note, when set, is a context line under the header (and mention) of
	// every message, escaped like log text: why the messages are where
	// they are ("meant for #payments: channel_not_found").
	Note string
	// Title replaces the header; Text replaces an entry's body; Link adds a
	// link to each entry. Each sees Data. Nil means the default.
	Title, Text, Link *template.Template
	// Destination, when set, goes into every message's metadata, so that a
	// process reading a channel back takes only its own destination's
	// messages (two routes with different mentions share a channel).
	Destination string
	// Actions, when set, gives every entry a menu (Mute, Acknowledge,
	// Unmute) and shows who used it.
	Actions *Actions
}

// WithoutMention is l for messages that must not ping anyone again: thread
// replies.
func (l *Layout) WithoutMention() *Layout {
	out := *l
	out.Mention = ""
	// A reply's entries are samples: the menu belongs to the entry in the
	// parent, which shows what a click did.
	out.Actions = nil
	return &out
}

// defaultLayout renders with no mention and no templates.
var defaultLayout Layout

// Messages lays entries out with the default layout (see Layout.Messages).
func Messages(entries []*group.Entry, maxMessages int) []Message {
	return defaultLayout.Messages(entries, maxMessages)
}

// Live renders a live message with the default layout (see Layout.Live).
func Live(entries []*group.Entry, folded, foldedGroups int) Message {
	return defaultLayout.Live(entries, folded, foldedGroups)
}

// Data is what message templates see: one entry (a group of identical
// records) and, for the title, the message it opens.
type Data struct {
	Severity       string // ERROR, FATAL, …
	SeverityNumber int
	SeverityText   string
	Service        string
	Body           string
	Attributes     map[string]string // of the sample record
	Resource       map[string]string
	TraceID        string
	SpanID         string
	Count          int // records this entry stands for
	First, Last    time.Time
	// For the title only: all records and groups of the message.
	Records, Groups int
}

func dataOf(e *group.Entry) Data {
	d := Data{
		Severity: severityLabel(e.Severity), SeverityNumber: int(e.Severity), SeverityText: e.SeverityText,
		Service: e.Service, Body: e.Body, TraceID: e.TraceID, SpanID: e.SpanID,
		Count: e.Count, First: e.First, Last: e.Last, Records: e.Count, Groups: 1,
		Attributes: map[string]string{}, Resource: map[string]string{},
	}
	for _, a := range e.Attributes {
		d.Attributes[a.Key] = a.Value
	}
	for _, a := range e.Resource {
		d.Resource[a.Key] = a.Value
	}
	return d
}

// SampleData is what templates are checked against at startup.
func SampleData() Data {
	t := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	return Data{
		Severity: "ERROR", SeverityNumber: 17, SeverityText: "ERROR", Service: "checkout",
		Body:       "payment failed for order 42",
		Attributes: map[string]string{"order_id": "42", "http.status_code": "502"},
		Resource:   map[string]string{"service.name": "checkout", "deployment.environment": "prod"},
		TraceID:    "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7",
		Count: 3, First: t, Last: t.Add(time.Minute), Records: 3, Groups: 1,
	}
}

// ParseTemplate parses a message template and runs it once against
// SampleData, so that a typo fails at startup rather than at 3 a.m.
func ParseTemplate(name, text string) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=zero").Parse(text)
	if err != nil {
		return nil, err
	}
	if _, err := execute(t, SampleData()); err != nil {
		return nil, err
	}
	return t, nil
}

func execute(t *template.Template, d Data) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

// apply runs t for e; on an error at run time (a template that passed the
// startup check but fails on some record) it returns ok=false and the
// caller shows its default.
func apply(t *template.Template, d Data) (string, bool) {
	if t == nil {
		return "", false
	}
	out, err := execute(t, d)
	return out, err == nil
}

// linkText renders the Link template as Slack link markup, or "" when it
// does not give an http(s) URL. Characters that would end the markup are
// percent-encoded, so record content inside the URL stays in the URL.
func (l *Layout) linkText(e *group.Entry) string {
	raw, ok := apply(l.Link, dataOf(e))
	raw = strings.TrimSpace(raw)
	if !ok || raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	safe := strings.NewReplacer("<", "%3C", ">", "%3E", "|", "%7C", " ", "%20", "&", "&amp;").Replace(u.String())
	return fmt.Sprintf("<%s|🔗 link>", safe)
}

// NormalizeMention turns a configured mention into Slack markup: <!here>,
// <!channel>, <!everyone>, a user (U…/W…) or a user group (S…), given bare
// or already in markup. Anything else is an error: a mention is the one
// piece of markup the exporter sends on purpose.
func NormalizeMention(m string) (string, error) {
	switch m {
	case "here", "channel", "everyone", "@here", "@channel", "@everyone":
		return "<!" + strings.TrimPrefix(m, "@") + ">", nil
	case "<!here>", "<!channel>", "<!everyone>":
		return m, nil
	}
	id := m
	switch {
	case strings.HasPrefix(m, "<@") && strings.HasSuffix(m, ">"):
		id = m[2 : len(m)-1]
	case strings.HasPrefix(m, "<!subteam^") && strings.HasSuffix(m, ">"):
		id = m[len("<!subteam^") : len(m)-1]
		if !isSlackID(id) || id[0] != 'S' {
			return "", fmt.Errorf("%q is not a user group mention (<!subteam^S…>)", m)
		}
		return m, nil
	}
	if !isSlackID(id) {
		return "", fmt.Errorf("%q is not a mention: use here, channel, everyone, a user id (U…, W…) or a user group id (S…)", m)
	}
	switch id[0] {
	case 'U', 'W':
		return "<@" + id + ">", nil
	case 'S':
		return "<!subteam^" + id + ">", nil
	}
	return "", fmt.Errorf("%q is not a user (U…, W…) or user group (S…) id", m)
}

func isSlackID(s string) bool {
	if len(s) < 2 || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
