package render

// Slack's limits (see DESIGN.md), and the budgets kept under them.
const (
	maxBlocks         = 50
	maxSectionText    = 3000
	maxHeaderText     = 150
	maxContextElement = 2000
	// maxBlocksJSON budgets all blocks of a message together, measured in
	// characters of their JSON: Slack has answered msg_blocks_too_long near
	// 13,000 even when every block was within its own limit.
	maxBlocksJSON = 12000
	// maxFallbackText keeps the notification text readable; Slack allows
	// 40,000 but cuts far earlier in notifications.
	maxFallbackText = 3000

	// Per entry: the body gets most of its section; attributes are shown
	// shortened, so one entry can never fill a message on its own.
	maxAttributeValue = 200
	maxAttributesText = 1000
	maxShownAttrs     = 10
	// minLiveSectionText is as far as a live update cuts an entry's text to
	// fit: about the smallest an entry was when it was posted. Below the
	// length of its title line the text is only the cut's marker; the title,
	// with the count, is never cut.
	minLiveSectionText = 120
)
