package render

import "github.com/slackexporter/slackexporter/internal/group"

// DataOf is what a template sees for entry e: message templates see it for
// each group; a templated route channel sees it for each record, through
// group.One.
func DataOf(e *group.Entry) Data {
	return dataOf(e)
}
