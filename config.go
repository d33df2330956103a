package slackexporter // import "github.com/slackexporter/slackexporter"

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"strings"
	"text/template"
	"time"

	"go.opentelemetry.io/collector/component"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/slackexporter/slackexporter/internal/dynchannel"
	"github.com/slackexporter/slackexporter/internal/fleet"
	"github.com/slackexporter/slackexporter/internal/render"
	"github.com/slackexporter/slackexporter/internal/selection"
)

// Config is the slack exporter's configuration.
type Config struct {
	// ClientConfig (proxy_url, tls, headers, timeout, …) applies to the Web
	// API and to webhooks alike. Its timeout also bounds each push.
	confighttp.ClientConfig `mapstructure:",squash"`

	// Token is a bot token for chat.postMessage. Exactly one of Token and
	// WebhookURL is set.
	Token configopaque.String `mapstructure:"token"`
	// WebhookURL is an incoming webhook; its path holds a secret.
	WebhookURL configopaque.String `mapstructure:"webhook_url"`
	// APIURL is the Web API base URL.
	APIURL string `mapstructure:"api_url"`
	// Channel is the default channel (token mode only).
	Channel string `mapstructure:"channel"`
	// Mention opens messages to the default destination (off by default).
	Mention string `mapstructure:"mention"`
	// Message holds templates that shape every message.
	Message MessageConfig `mapstructure:"message"`

	Filter    FilterConfig    `mapstructure:"filter"`
	Routes    []RouteConfig   `mapstructure:"routes"`
	Grouping  GroupingConfig  `mapstructure:"grouping"`
	RateLimit RateLimitConfig `mapstructure:"rate_limit"`
	Threads   ThreadsConfig   `mapstructure:"threads"`
	// Interactivity puts Mute and Acknowledge on every entry and receives
	// the clicks (token mode only; absent: messages carry no actions).
	Interactivity configoptional.Optional[InteractivityConfig] `mapstructure:"interactivity"`

	QueueConfig   configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	BackOffConfig configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// FilterConfig keeps the records that matter.
type FilterConfig struct {
	// MinSeverity: trace, debug, info, warn, error or fatal.
	MinSeverity string `mapstructure:"min_severity"`
	// Include: OTTL log conditions; if any are given, a record must match one.
	Include []string `mapstructure:"include"`
	// Exclude: OTTL log conditions; a record matching any is dropped.
	Exclude []string `mapstructure:"exclude"`
}

// RouteConfig sends the records matching Condition to Channel or WebhookURL.
type RouteConfig struct {
	Condition string `mapstructure:"condition"`
	// Channel is a name or id, or a Go template over the record (the data
	// of message templates) that gives one per record: "{{" makes it a
	// template. A result that is not a channel goes to the default channel.
	Channel    string              `mapstructure:"channel"`
	WebhookURL configopaque.String `mapstructure:"webhook_url"`
	// Mention opens this route's messages: here, channel, everyone, a user
	// id (U…) or a user group id (S…). Log records can never produce one.
	Mention string `mapstructure:"mention"`
}

// channelTemplate parses a templated route channel (see dynchannel).
func (r RouteConfig) channelTemplate(key string) (*dynchannel.Template, error) {
	return dynchannel.Parse(key, r.Channel, selection.DestinationAttribute)
}

// MessageConfig holds Go text/template strings over render.Data. Their
// output is escaped like any log text.
type MessageConfig struct {
	// Title replaces the header (plain text, 150 characters at most).
	Title string `mapstructure:"title"`
	// Text replaces each group's body.
	Text string `mapstructure:"text"`
	// Link adds a link to each group, e.g. a trace view from .TraceID.
	Link string `mapstructure:"link"`
}

// parse compiles the templates; each is checked against a sample record.
func (m MessageConfig) parse() (*render.Layout, error) {
	var l render.Layout
	var errs []error
	for _, t := range []struct {
		key, text string
		into      **template.Template
	}{{"message.title", m.Title, &l.Title}, {"message.text", m.Text, &l.Text}, {"message.link", m.Link, &l.Link}} {
		if t.text == "" {
			continue
		}
		tmpl, err := render.ParseTemplate(t.key, t.text)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.key, err))
			continue
		}
		*t.into = tmpl
	}
	return &l, errors.Join(errs...)
}

// GroupingConfig says which records are the same error: same service,
// severity, exception.type and body, plus the attributes in By.
type GroupingConfig struct {
	// By adds attribute keys (record attributes first, then resource).
	By []string `mapstructure:"by"`
	// Mask compares bodies with their variable parts (numbers, ids, IP
	// addresses, UUIDs, quoted values) masked.
	Mask bool `mapstructure:"mask"`
}

// RateLimitConfig paces posts per destination (channel or webhook).
type RateLimitConfig struct {
	PerSecond float64 `mapstructure:"per_second"`
	Burst     int     `mapstructure:"burst"`
}

// ThreadsConfig turns repeats into live counters (bot token only): the
// first occurrence of a fingerprint posts a message, repeats update its
// counter with chat.update and reply with a sample now and then.
type ThreadsConfig struct {
	// Enabled defaults to true with a token; a webhook cannot update.
	Enabled *bool `mapstructure:"enabled"`
	// Window: repeats this long after a message was posted start a new one.
	Window time.Duration `mapstructure:"window"`
	// ReplyEvery: at most one sample reply per fingerprint this often.
	ReplyEvery time.Duration `mapstructure:"reply_every"`
	// QuietAfter: a fingerprint silent this long is marked quiet, once.
	QuietAfter time.Duration `mapstructure:"quiet_after"`
	// Storage names a storage extension (file_storage) that keeps the live
	// messages across restarts; without it they are kept in memory.
	Storage *component.ID `mapstructure:"storage"`
	// MaxTracked bounds the fingerprints remembered (least recent dropped).
	MaxTracked int `mapstructure:"max_tracked"`
	// UpdatesPerMinute is the workspace's chat.update budget (Slack tier 3).
	UpdatesPerMinute float64 `mapstructure:"updates_per_minute"`
	// RestoreFromSlack reads a channel's live messages back from Slack
	// (their metadata) before delivering there after a quiet spell, so a
	// gateway that takes a channel over from another updates the messages
	// that one posted.
	RestoreFromSlack bool `mapstructure:"restore_from_slack"`
	// Fleet, on a fleet's gateways, watches the Kafka consumer group they
	// form: each spends its share of UpdatesPerMinute (the budget divided
	// by the gateways in the group), and after any change in the group it
	// reads each channel back before delivering there again.
	Fleet *FleetConfig `mapstructure:"fleet"`
}

// FleetConfig names the consumer group of a fleet's gateways, as their
// kafka receiver has it.
type FleetConfig struct {
	Brokers []string `mapstructure:"brokers"`
	GroupID string   `mapstructure:"group_id"`
	// PollInterval is how often the group is described. A rebalance takes
	// at least a heartbeat, so a poll this often sees the group change
	// before partitions move.
	PollInterval time.Duration `mapstructure:"poll_interval"`
}

// defaultFleetPollInterval: well under the kafka receiver's default
// heartbeat (3 s).
const defaultFleetPollInterval = fleet.DefaultInterval

// InteractivityConfig receives clicks from Slack: over Socket Mode (an
// app-level token, no public endpoint) or at a request URL (Slack POSTs to
// http.endpoint + /slack/actions, signed with the signing secret), or both.
type InteractivityConfig struct {
	AppToken      configopaque.String                              `mapstructure:"app_token"`
	SigningSecret configopaque.String                              `mapstructure:"signing_secret"`
	HTTP          configoptional.Optional[confighttp.ServerConfig] `mapstructure:"http"`
	// MuteDurations are the Mute choices each entry offers, shortest first.
	MuteDurations []time.Duration `mapstructure:"mute_durations"`
	// AllowedUsers may click (Slack user ids); empty: anyone who sees the
	// message.
	AllowedUsers []string `mapstructure:"allowed_users"`
	// Storage names a storage extension (file_storage) that keeps mutes
	// and acknowledgements across restarts; without it they are in memory.
	Storage *component.ID `mapstructure:"storage"`
	// Kafka, on a fleet's gateways, relays each click through the topic
	// the gateways read, to the gateway that owns the clicked channel.
	Kafka *KafkaRelayConfig `mapstructure:"kafka"`
}

// KafkaRelayConfig names the fleet's topic: the one the agents write and
// the gateways' kafka receiver reads.
type KafkaRelayConfig struct {
	Brokers []string `mapstructure:"brokers"`
	Topic   string   `mapstructure:"topic"`
}

// maxMuteDurations: an overflow menu holds 5 options, and Acknowledge and
// Unmute take two.
const maxMuteDurations = 3

func defaultInteractivity() InteractivityConfig {
	return InteractivityConfig{
		HTTP:          configoptional.Default(confighttp.NewDefaultServerConfig()),
		MuteDurations: []time.Duration{time.Hour, 24 * time.Hour},
	}
}

func (c *Config) interactivityErrors() []error {
	if !c.Interactivity.HasValue() {
		return nil
	}
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("interactivity.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	ic := c.Interactivity.Get()
	if c.Token == "" {
		add("app_token", "interactivity needs a bot token: a webhook's messages cannot be updated to show a mute")
	}
	endpoint := ""
	if ic.HTTP.HasValue() {
		endpoint = ic.HTTP.Get().NetAddr.Endpoint
	}
	switch {
	case ic.AppToken == "" && ic.SigningSecret == "":
		add("app_token", "set app_token (Socket Mode) or signing_secret with http.endpoint (request URL), or both")
	case ic.SigningSecret != "" && endpoint == "":
		add("http.endpoint", "required with signing_secret: where Slack posts the clicks")
	case ic.SigningSecret == "" && endpoint != "":
		add("signing_secret", "required with http.endpoint: every request must be verified")
	}
	if ic.AppToken != "" && !strings.HasPrefix(string(ic.AppToken), "xapp-") {
		add("app_token", "must be an app-level token (xapp-…) with connections:write (value not shown: it is a secret)")
	}
	switch {
	case len(ic.MuteDurations) == 0:
		add("mute_durations", "give at least one duration, e.g. [1h, 24h]")
	case len(ic.MuteDurations) > maxMuteDurations:
		add("mute_durations", "at most %d: an entry's menu holds 5 choices, Acknowledge and Unmute among them", maxMuteDurations)
	}
	for i, d := range ic.MuteDurations {
		if d < time.Second {
			add(fmt.Sprintf("mute_durations[%d]", i), "%v is too short: at least 1s", d)
		}
	}
	if k := ic.Kafka; k != nil {
		if len(k.Brokers) == 0 || slices.Contains(k.Brokers, "") {
			add("kafka.brokers", "give the fleet's brokers (host:port), as the gateways' kafka receiver has them")
		}
		if k.Topic == "" {
			add("kafka.topic", "give the topic the gateways' kafka receiver reads")
		}
	}
	for i, u := range ic.AllowedUsers {
		if !render.IsUserID(u) {
			add(fmt.Sprintf("allowed_users[%d]", i), "%q is not a Slack user id (U… or W…)", u)
		}
	}
	return errs
}

// threadsEnabled: threads are on with a token unless turned off.
func (c *Config) threadsEnabled() bool {
	return c.Token != "" && (c.Threads.Enabled == nil || *c.Threads.Enabled)
}

// integerKeys are the integer settings. The decoder truncates a fraction
// given for one (burst: 2.9 would load as 2); Unmarshal refuses it instead.
var integerKeys = []string{"rate_limit::burst", "threads::max_tracked"}

// Unmarshal loads conf into c, refusing a fraction where a whole number is
// meant rather than letting the decoder silently truncate it.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	var errs []error
	for _, key := range integerKeys {
		if f, ok := conf.Get(key).(float64); ok && f != math.Trunc(f) {
			errs = append(errs, fmt.Errorf("%s: %v is not a whole number", strings.ReplaceAll(key, confmap.KeyDelimiter, "."), f))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return conf.Unmarshal(c)
}

// Validate reports every mistake at once, each naming its key. It never
// prints a token or a webhook URL.
func (c *Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	webhookMode := c.WebhookURL != ""
	switch {
	case c.Token == "" && !webhookMode:
		add("token", "set token (bot token) or webhook_url (incoming webhook)")
	case c.Token != "" && webhookMode:
		add("token", "set either token or webhook_url, not both")
	case c.Token != "" && c.Channel == "":
		add("channel", "required with token: the channel for records no route matches")
	case webhookMode && c.Channel != "":
		add("channel", "a webhook posts to the channel it was created for; remove channel or use a token")
	case dynchannel.IsTemplate(c.Channel):
		add("channel", "the default channel cannot be a template: it is where records go when a route's templated channel gives no channel or Slack refuses it")
	}
	if webhookMode {
		if err := checkWebhookURL(string(c.WebhookURL)); err != nil {
			add("webhook_url", "%v", err)
		}
	}
	if err := checkAPIURL(c.APIURL); err != nil {
		add("api_url", "%v", err)
	}
	if c.Endpoint != "" {
		add("endpoint", "not used by the slack exporter: set api_url (Web API) or webhook_url")
	}
	if c.Mention != "" {
		if _, err := render.NormalizeMention(c.Mention); err != nil {
			add("mention", "%v", err)
		}
	}
	if _, err := c.Message.parse(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.selectionErrors()...)
	if !positive(c.RateLimit.PerSecond) {
		add("rate_limit.per_second", "must be greater than 0 and finite")
	}
	if c.RateLimit.Burst < 1 {
		add("rate_limit.burst", "must be at least 1")
	}
	if c.WebhookURL != "" && c.Threads.Enabled != nil && *c.Threads.Enabled {
		add("threads.enabled", "threads need a bot token: a webhook can neither update a message nor reply in a thread")
	}
	if c.Threads.Window <= 0 {
		add("threads.window", "must be greater than 0")
	}
	if c.Threads.ReplyEvery < 0 {
		add("threads.reply_every", "must not be negative")
	}
	if c.Threads.QuietAfter <= 0 {
		add("threads.quiet_after", "must be greater than 0")
	}
	if c.Threads.MaxTracked < 1 {
		add("threads.max_tracked", "must be at least 1")
	}
	if !positive(c.Threads.UpdatesPerMinute) {
		add("threads.updates_per_minute", "must be greater than 0 and finite")
	}
	if c.Threads.RestoreFromSlack && !c.threadsEnabled() {
		add("threads.restore_from_slack", "needs threads, and so a bot token: it reads back live messages")
	}
	if f := c.Threads.Fleet; f != nil {
		switch {
		case !c.threadsEnabled():
			add("threads.fleet", "needs threads, and so a bot token: it shares the chat.update budget of live messages")
		case len(f.Brokers) == 0 || slices.Contains(f.Brokers, ""):
			add("threads.fleet.brokers", "give the fleet's brokers (host:port), as the gateways' kafka receiver has them")
		case f.GroupID == "":
			add("threads.fleet.group_id", "give the consumer group of the gateways' kafka receiver")
		case f.PollInterval < 0 || (f.PollInterval > 0 && f.PollInterval < 100*time.Millisecond):
			add("threads.fleet.poll_interval", "must be at least 100ms (omit it for %v)", defaultFleetPollInterval)
		}
	}
	errs = append(errs, c.interactivityErrors()...)
	if c.Timeout <= 0 {
		add("timeout", "must be greater than 0: it is what bounds each push and each call to Slack")
	}
	return errors.Join(errs...)
}

// selectionErrors checks what decides which records go to Slack and where:
// the filter and the routes. Validate and ValidateSelection share it.
func (c *Config) selectionErrors() []error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	webhookMode := c.WebhookURL != ""
	if _, err := selection.ParseMinSeverity(c.Filter.MinSeverity); err != nil {
		add("filter.min_severity", "%v", err)
	}
	for i, cond := range c.Filter.Include {
		if err := selection.CheckCondition(cond); err != nil {
			add(fmt.Sprintf("filter.include[%d]", i), "%v", err)
		}
	}
	for i, cond := range c.Filter.Exclude {
		if err := selection.CheckCondition(cond); err != nil {
			add(fmt.Sprintf("filter.exclude[%d]", i), "%v", err)
		}
	}
	for i, r := range c.Routes {
		key := fmt.Sprintf("routes[%d]", i)
		if r.Condition == "" {
			add(key+".condition", "required")
		} else if err := selection.CheckCondition(r.Condition); err != nil {
			add(key+".condition", "%v", err)
		}
		if r.Mention != "" {
			if _, err := render.NormalizeMention(r.Mention); err != nil {
				add(key+".mention", "%v", err)
			}
		}
		switch {
		case r.Channel == "" && r.WebhookURL == "":
			add(key, "set channel or webhook_url")
		case r.Channel != "" && r.WebhookURL != "":
			add(key, "set either channel or webhook_url, not both")
		case r.Channel != "" && webhookMode:
			add(key+".channel", "a channel needs a token; in webhook mode give the route its own webhook_url")
		case r.WebhookURL != "":
			if err := checkWebhookURL(string(r.WebhookURL)); err != nil {
				add(key+".webhook_url", "%v", err)
			}
		case dynchannel.IsTemplate(r.Channel):
			if _, err := r.channelTemplate(key + ".channel"); err != nil {
				add(key+".channel", "%v", err)
			}
		}
	}
	return errs
}

// ValidateSelection checks only the keys that decide which records go to
// Slack and where (channel, mention, filter, routes), with the same errors
// as Validate. The slackroute processor, which runs this selection on a
// fleet's agents, uses it: an agent holds no Slack credentials, so token is
// not required, and delivery settings are not its business.
func (c *Config) ValidateSelection() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	webhookMode := c.WebhookURL != ""
	switch {
	case !webhookMode && c.Channel == "":
		add("channel", "required unless webhook_url is set: the channel for records no route matches")
	case webhookMode && c.Channel != "":
		add("channel", "a webhook posts to the channel it was created for; remove channel or use a token")
	}
	if webhookMode {
		if err := checkWebhookURL(string(c.WebhookURL)); err != nil {
			add("webhook_url", "%v", err)
		}
	}
	if c.Mention != "" {
		if _, err := render.NormalizeMention(c.Mention); err != nil {
			add("mention", "%v", err)
		}
	}
	errs = append(errs, c.selectionErrors()...)
	return errors.Join(errs...)
}

// positive refuses 0, negatives, NaN (which compares false with everything,
// so it would pass a "<= 0" check) and infinity.
func positive(f float64) bool {
	return f > 0 && !math.IsInf(f, 1)
}

func checkAPIURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", raw)
	}
	return nil
}

// checkWebhookURL checks the shape of a webhook URL without ever quoting it.
func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("not an http(s) URL (value not shown: it is a secret)")
	}
	return nil
}

// plaintextWarnings names the URLs that would carry a secret (the token, or
// the webhook's own path) unencrypted to a host other than this one.
func (c *Config) plaintextWarnings() []string {
	var keys []string
	if c.Token != "" && isPlaintextRemote(c.APIURL) {
		keys = append(keys, "api_url")
	}
	if isPlaintextRemote(string(c.WebhookURL)) {
		keys = append(keys, "webhook_url")
	}
	for i, r := range c.Routes {
		if isPlaintextRemote(string(r.WebhookURL)) {
			keys = append(keys, fmt.Sprintf("routes[%d].webhook_url", i))
		}
	}
	return keys
}

func isPlaintextRemote(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "http" && !isLoopback(u.Hostname())
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// fleetPollInterval is f's poll interval, or the default.
func fleetPollInterval(f *FleetConfig) time.Duration {
	if f.PollInterval > 0 {
		return f.PollInterval
	}
	return defaultFleetPollInterval
}
