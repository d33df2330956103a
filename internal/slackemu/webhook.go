package slackemu

import (
	"net/http"
	"strconv"
	"time"
)

// webhookErrors maps a webhook error to the HTTP status Slack sends with it.
var webhookErrors = map[string]int{
	"invalid_payload":                   http.StatusBadRequest,
	"user_not_found":                    http.StatusBadRequest,
	"no_text":                           http.StatusBadRequest,
	"no_service_id":                     http.StatusBadRequest,
	"too_many_attachments":              http.StatusBadRequest,
	"invalid_attachments":               http.StatusBadRequest,
	"invalid_blocks":                    http.StatusBadRequest,
	"msg_too_long":                      http.StatusBadRequest,
	"msg_blocks_too_long":               http.StatusBadRequest,
	"action_prohibited":                 http.StatusForbidden,
	"posting_to_general_channel_denied": http.StatusForbidden,
	"invalid_token":                     http.StatusForbidden,
	"team_disabled":                     http.StatusForbidden,
	"channel_not_found":                 http.StatusNotFound,
	"no_service":                        http.StatusNotFound,
	"no_team":                           http.StatusNotFound,
	"no_active_hooks":                   http.StatusNotFound,
	"channel_is_archived":               http.StatusGone,
	"rate_limited":                      http.StatusTooManyRequests,
	"rollup_error":                      http.StatusInternalServerError,
	"internal_error":                    http.StatusInternalServerError,
	"service_unavailable":               http.StatusServiceUnavailable,
}

// webhookStatus is the status for a webhook error; unknown errors are 400.
func webhookStatus(code string) int {
	if st, ok := webhookErrors[code]; ok {
		return st
	}
	return http.StatusBadRequest
}

func (s *Server) handleWebhook(w http.ResponseWriter, r *http.Request) {
	s.serveSlack(w, r, parseWebhook(r), s.postWebhook)
}

// postWebhook is an incoming-webhook post: no auth beyond the URL, no ts returned.
func (s *Server) postWebhook(c *call) reply {
	s.mu.Lock()
	allowed := s.allowLocked("webhook "+c.dest, time.Now())
	s.mu.Unlock()
	if !allowed {
		return c.throttle(s.opts.RetryAfter)
	}
	blocks, v := checkMessage(c)
	if v != nil {
		rep := c.errorReply(v.code)
		rep.note = v.detail // Slack's webhook body is only the error; the log says more
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.storeLocked(c, blocks, nil)
	rep := textReply(http.StatusOK, "ok")
	rep.note = "seq=" + strconv.Itoa(m.Seq)
	return rep
}
