// Package dynchannel is what a route's channel becomes when it is a Go
// template over the record (issue 9): the template, checked at startup and
// run per record (or once per resource, when it reads only the resource),
// and the rule that says whether what it gave is a Slack channel at all.
package dynchannel

import (
	"strings"
	"text/template"
	"text/template/parse"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/slackexporter/slackexporter/internal/group"
	"github.com/slackexporter/slackexporter/internal/render"
)

// IsTemplate says whether a configured channel is a template. A channel
// without "{{" is a plain name or id and behaves as it always has.
func IsTemplate(channel string) bool {
	return strings.Contains(channel, "{{")
}

// Limits of what Slack accepts as a channel name or id.
const (
	maxNameLen = 80 // Slack's limit for a channel name
	minIDLen   = 9  // C + 8, the shortest ids Slack hands out
	maxIDLen   = 21 // ids have grown from 9 to 11 characters; leave room
)

// Name reads what a template gave as a channel: a name (lowercase letters,
// digits, "-" and "_", 1 to 80 of them, with or without a leading "#") or
// an id (C, G or D and 8 to 20 uppercase letters or digits, no "#").
// Surrounding white space is ignored. It returns the channel as its
// destination key spells it (a name without its "#"), or false when s is
// neither: empty, too long, upper case in a name, spaces or punctuation
// inside, a "#" before an id.
//
// Names are not lower-cased on the way: "Payments" is not the channel
// "payments" to Slack's API, and guessing would post somewhere nobody
// chose.
func Name(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if name, ok := strings.CutPrefix(s, "#"); ok {
		return name, isName(name)
	}
	return s, isName(s) || IsID(s)
}

func isName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// IsID says whether s is a conversation id: a public channel (C…), a
// private one (G…) or a direct message (D…).
func IsID(s string) bool {
	if len(s) < minIDLen || len(s) > maxIDLen || !strings.ContainsRune("CGD", rune(s[0])) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Display is how a channel key's channel is shown to people: "#name", or
// the id as it is.
func Display(channel string) string {
	if IsID(channel) {
		return channel
	}
	return "#" + channel
}

// Template is a templated route channel.
type Template struct {
	tmpl *template.Template
	// resourceOnly: the template reads nothing but .Resource, so one
	// resource's records all get one channel.
	resourceOnly bool
	hidden       string
}

// Parse parses a channel template as message templates are parsed (the
// same data, checked against the same sample record), so a typo fails at
// startup naming key. hidden is a record attribute templates never see
// (the exporter's own tag).
func Parse(key, text, hidden string) (*Template, error) {
	t, err := render.ParseTemplate(key, text)
	if err != nil {
		return nil, err
	}
	return &Template{tmpl: t, resourceOnly: readsOnlyResource(t.Root), hidden: hidden}, nil
}

// ResourceOnly says whether the template reads nothing but .Resource: its
// result for one resource holds for all the resource's records.
func (t *Template) ResourceOnly() bool {
	return t.resourceOnly
}

// Execute runs the template for one record. A template that reads only
// the resource is given only the resource: building the rest of a record's
// data (its attributes, body) would be wasted.
func (t *Template) Execute(rl plog.ResourceLogs, lr plog.LogRecord, severity plog.SeverityNumber) (string, error) {
	var d render.Data
	if t.resourceOnly {
		attrs := rl.Resource().Attributes()
		d.Resource = make(map[string]string, attrs.Len())
		for k, v := range attrs.All() {
			d.Resource[k] = v.AsString()
		}
	} else {
		d = render.DataOf(group.One(rl.Resource(), lr, severity, t.hidden))
	}
	var b strings.Builder
	if err := t.tmpl.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

// readsOnlyResource reports whether every field the template reads is
// .Resource or $.Resource, and the dot is never used otherwise. It errs on
// the side of "no" (a with or range over .Resource, a nested template): the
// price is only that the template runs per record.
func readsOnlyResource(n parse.Node) bool {
	switch n := n.(type) {
	case nil:
		return true
	case *parse.ListNode:
		if n == nil {
			return true
		}
		for _, c := range n.Nodes {
			if !readsOnlyResource(c) {
				return false
			}
		}
		return true
	case *parse.TextNode, *parse.CommentNode, *parse.StringNode, *parse.NumberNode, *parse.BoolNode, *parse.NilNode, *parse.IdentifierNode:
		return true
	case *parse.ActionNode:
		return readsOnlyResource(n.Pipe)
	case *parse.PipeNode:
		if n == nil {
			return true
		}
		for _, c := range n.Cmds {
			if !readsOnlyResource(c) {
				return false
			}
		}
		return true
	case *parse.CommandNode:
		for _, a := range n.Args {
			if !readsOnlyResource(a) {
				return false
			}
		}
		return true
	case *parse.FieldNode:
		return n.Ident[0] == "Resource" // the parser never makes a field without a name
	case *parse.VariableNode:
		// $ is the data; $x a variable, whose value was checked where
		// it was set.
		return n.Ident[0] != "$" || (len(n.Ident) > 1 && n.Ident[1] == "Resource")
	case *parse.IfNode:
		return readsOnlyResource(n.Pipe) && readsOnlyResource(n.List) && readsOnlyResource(n.ElseList)
	}
	// The dot itself, chains, with, range, template, break/continue: the
	// dot may be the whole record's data, or change meaning.
	return false
}
