package slackemu

import (
	"encoding/json"
	"strings"
)

// renderBody is what Slack shows for a message: its blocks, or its text when
// it has none (a webhook post, or text only). Blocks that do not parse show
// the text too, as Slack would refuse them.
func renderBody(text string, blocks json.RawMessage) []node {
	var bs []map[string]any
	if len(blocks) > 0 {
		_ = json.Unmarshal(blocks, &bs)
	}
	if len(bs) == 0 {
		return []node{{Tag: "div", Class: "text", Kids: renderMrkdwn(text)}}
	}
	out := make([]node, 0, len(bs))
	for _, b := range bs {
		out = append(out, renderBlock(b))
	}
	return out
}

func renderBlock(b map[string]any) node {
	typ, _ := b["type"].(string)
	id, _ := b["block_id"].(string)
	n := node{Tag: "div", Class: "block " + typ, Block: id}
	switch typ {
	case "header":
		n.Kids = textObject(b["text"])
	case "section":
		if t := textObject(b["text"]); len(t) > 0 {
			n.Kids = append(n.Kids, node{Tag: "div", Class: "text", Kids: t})
		}
		if fields, _ := b["fields"].([]any); len(fields) > 0 {
			f := node{Tag: "div", Class: "fields"}
			for _, v := range fields {
				f.Kids = append(f.Kids, node{Tag: "div", Class: "field", Kids: textObject(v)})
			}
			n.Kids = append(n.Kids, f)
		}
		if acc, ok := b["accessory"].(map[string]any); ok {
			n.Kids = append(n.Kids, node{Tag: "div", Class: "accessory", Kids: []node{element(acc, id)}})
		}
	case "context":
		elements, _ := b["elements"].([]any)
		for _, e := range elements {
			n.Kids = append(n.Kids, node{Tag: "span", Class: "element", Kids: textObject(e)})
		}
	case "divider":
		n.Kids = []node{{Tag: "hr"}}
	case "actions":
		elements, _ := b["elements"].([]any)
		for _, e := range elements {
			obj, _ := e.(map[string]any)
			n.Kids = append(n.Kids, element(obj, id))
		}
	case "markdown":
		s, _ := b["text"].(string)
		n.Kids = renderMrkdwn(s)
	case "rich_text":
		n.Kids = []node{textNode(richText(b))}
	case "image":
		alt, _ := b["alt_text"].(string)
		n.Kids = []node{textNode("[image: " + alt + "]")}
	default:
		n.Kids = []node{textNode("[" + typ + "]")}
	}
	return n
}

// textObject renders a text object: mrkdwn parsed, plain_text as is (both
// decode the three escapes). An image element in a context shows its alt text.
func textObject(v any) []node {
	obj, _ := v.(map[string]any)
	s, _ := obj["text"].(string)
	switch obj["type"] {
	case "mrkdwn":
		return renderMrkdwn(s)
	case "image":
		alt, _ := obj["alt_text"].(string)
		return []node{textNode("[" + alt + "]")}
	}
	if s == "" {
		return nil
	}
	return []node{textNode(decode.Replace(s))}
}

// element renders an interactive element of a section's accessory or an
// actions block: a button, an overflow menu, or a placeholder for the rest.
func element(e map[string]any, blockID string) node {
	typ, _ := e["type"].(string)
	actionID, _ := e["action_id"].(string)
	switch typ {
	case "button":
		value, _ := e["value"].(string)
		class := "button"
		if style, _ := e["style"].(string); style == "primary" || style == "danger" {
			class += " " + style
		}
		return node{Tag: "button", Class: class, Text: plainOf(e["text"]),
			Act: &action{BlockID: blockID, ActionID: actionID, Value: value}}
	case "overflow":
		menu := node{Tag: "div", Class: "menu"}
		options, _ := e["options"].([]any)
		for _, o := range options {
			opt, _ := o.(map[string]any)
			value, _ := opt["value"].(string)
			menu.Kids = append(menu.Kids, node{Tag: "button", Class: "option", Text: plainOf(opt["text"]),
				Act: &action{BlockID: blockID, ActionID: actionID, Value: value}})
		}
		return node{Tag: "details", Class: "overflow", Kids: []node{{Tag: "summary", Text: "⋯"}, menu}}
	case "image":
		alt, _ := e["alt_text"].(string)
		return node{Tag: "span", Text: "[" + alt + "]"}
	}
	return node{Tag: "span", Class: "unknown", Text: "[" + typ + "]"}
}

// plainOf is a text object's text, escapes decoded, without formatting.
func plainOf(v any) string {
	obj, _ := v.(map[string]any)
	s, _ := obj["text"].(string)
	return strings.TrimSpace(decode.Replace(s))
}
