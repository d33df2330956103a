package slackemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Slack's limits, in characters (Unicode code points). A message beyond one
// is rejected here as Slack would, so tests catch it before production does.
const (
	MaxTextChars        = 40000 // top-level text: msg_too_long
	MaxBlocks           = 50
	MaxSectionTextChars = 3000
	MaxSectionFields    = 10
	MaxFieldChars       = 2000
	MaxHeaderChars      = 150
	MaxContextElements  = 10
	MaxBlockIDChars     = 255
	MaxBlocksTotalChars = 13000 // all blocks serialized: msg_blocks_too_long
	MaxAttachments      = 100
)

// knownBlocks are the block types Slack accepts in messages; any other type is
// invalid_blocks. Only the ones the exporter renders are checked in depth.
var knownBlocks = map[string]bool{
	"section": true, "header": true, "context": true, "divider": true,
	"image": true, "actions": true, "rich_text": true, "input": true,
	"file": true, "video": true, "markdown": true, "table": true,
}

// violation is a Slack error with Slack-style detail naming the offending spot.
type violation struct {
	code   string
	detail string
}

func invalid(pointer, format string, args ...any) *violation {
	return &violation{"invalid_blocks", fmt.Sprintf("[ERROR] "+format+" [json-pointer:%s]", append(args, pointer)...)}
}

// checkMessage applies Slack's content rules to a post or an update. On
// success it returns the blocks compacted for storage.
func checkMessage(c *call) (json.RawMessage, *violation) {
	if n := utf8.RuneCountInString(c.text); n > MaxTextChars {
		return nil, &violation{"msg_too_long", fmt.Sprintf("[ERROR] text is %d characters, the limit is %d", n, MaxTextChars)}
	}
	nblocks, v := checkBlocks(c.blocks)
	if v != nil {
		return nil, v
	}
	nattach, v := checkAttachments(c.attachments)
	if v != nil {
		return nil, v
	}
	if c.text == "" && nblocks == 0 && nattach == 0 {
		return nil, &violation{"no_text", ""}
	}
	if c.blocks == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, c.blocks); err != nil {
		return nil, invalid("/blocks", "malformed JSON")
	}
	return buf.Bytes(), nil
}

func checkAttachments(raw json.RawMessage) (int, *violation) {
	if raw == nil {
		return 0, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return 0, &violation{"invalid_attachments", "[ERROR] attachments must be a JSON array"}
	}
	if len(list) > MaxAttachments {
		return 0, &violation{"too_many_attachments", fmt.Sprintf("[ERROR] %d attachments, the limit is %d", len(list), MaxAttachments)}
	}
	return len(list), nil
}

// checkBlocks validates a blocks array and returns how many blocks it holds.
func checkBlocks(raw json.RawMessage) (int, *violation) {
	if raw == nil {
		return 0, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep numbers as written, so the size below is the sent size
	var doc any
	if !json.Valid(raw) || dec.Decode(&doc) != nil {
		return 0, invalid("/blocks", "malformed JSON")
	}
	if doc == nil {
		return 0, nil
	}
	blocks, ok := doc.([]any)
	if !ok {
		return 0, invalid("/blocks", "must be an array")
	}
	if len(blocks) > MaxBlocks {
		return 0, invalid("/blocks", "no more than %d items allowed", MaxBlocks)
	}
	ids := map[string]bool{}
	for i, b := range blocks {
		if v := checkBlock(fmt.Sprintf("/blocks/%d", i), b, ids); v != nil {
			return 0, v
		}
	}
	// Slack budgets the whole array, not only each block. Measure a canonical
	// encoding so that how the client escaped or spaced its JSON does not matter.
	if n := canonicalChars(doc); n > MaxBlocksTotalChars {
		return 0, &violation{"msg_blocks_too_long", fmt.Sprintf("[ERROR] blocks are %d characters, the limit is %d", n, MaxBlocksTotalChars)}
	}
	return len(blocks), nil
}

func canonicalChars(doc any) int {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(doc)
	return utf8.RuneCount(bytes.TrimSpace(buf.Bytes()))
}

func checkBlock(at string, b any, ids map[string]bool) *violation {
	block, ok := b.(map[string]any)
	if !ok {
		return invalid(at, "must be an object")
	}
	if raw, has := block["block_id"]; has {
		id, ok := raw.(string)
		switch {
		case !ok:
			return invalid(at+"/block_id", "must be a string")
		case utf8.RuneCountInString(id) > MaxBlockIDChars:
			return invalid(at+"/block_id", "must be less than %d characters", MaxBlockIDChars+1)
		case ids[id]:
			return invalid(at+"/block_id", "duplicate block_id %q", id)
		}
		ids[id] = true
	}
	typ, _ := block["type"].(string)
	switch typ {
	case "section":
		return checkSection(at, block)
	case "header":
		return checkText(at+"/text", block["text"], MaxHeaderChars, true)
	case "context":
		return checkContext(at, block)
	}
	if !knownBlocks[typ] {
		return invalid(at+"/type", "unsupported type %q", typ)
	}
	return nil
}

func checkSection(at string, block map[string]any) *violation {
	text, hasText := block["text"]
	fields, hasFields := block["fields"]
	if !hasText && !hasFields {
		return invalid(at, "must provide text or fields")
	}
	if hasText {
		if v := checkText(at+"/text", text, MaxSectionTextChars, false); v != nil {
			return v
		}
	}
	if !hasFields {
		return nil
	}
	list, ok := fields.([]any)
	if !ok {
		return invalid(at+"/fields", "must be an array")
	}
	if len(list) > MaxSectionFields {
		return invalid(at+"/fields", "must be at most %d items", MaxSectionFields)
	}
	for j, f := range list {
		if v := checkText(fmt.Sprintf("%s/fields/%d", at, j), f, MaxFieldChars, false); v != nil {
			return v
		}
	}
	return nil
}

func checkContext(at string, block map[string]any) *violation {
	list, ok := block["elements"].([]any)
	if !ok || len(list) == 0 {
		return invalid(at+"/elements", "must be a non-empty array")
	}
	if len(list) > MaxContextElements {
		return invalid(at+"/elements", "must be at most %d items", MaxContextElements)
	}
	for j, e := range list {
		el, _ := e.(map[string]any)
		if typ, _ := el["type"].(string); typ == "image" {
			continue
		}
		if v := checkText(fmt.Sprintf("%s/elements/%d", at, j), e, 0, false); v != nil {
			return v
		}
	}
	return nil
}

// checkText validates a text object: plain_text (or mrkdwn unless plainOnly),
// non-empty, at most limit characters when limit > 0.
func checkText(at string, v any, limit int, plainOnly bool) *violation {
	obj, ok := v.(map[string]any)
	if !ok {
		return invalid(at, "must be a text object")
	}
	typ, _ := obj["type"].(string)
	if typ != "plain_text" && (plainOnly || typ != "mrkdwn") {
		want := "plain_text or mrkdwn"
		if plainOnly {
			want = "plain_text"
		}
		return invalid(at+"/type", "must be %s", want)
	}
	s, ok := obj["text"].(string)
	if !ok {
		return invalid(at+"/text", "must be a string")
	}
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return invalid(at+"/text", "must be more than 0 characters")
	}
	if limit > 0 && n > limit {
		return invalid(at+"/text", "must be less than %d characters", limit+1)
	}
	return nil
}
