package slackemu

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// controlRoutes serve /_emu/, the API tests and the demo use to read what was
// posted and to inject faults.
func (s *Server) controlRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /_emu/health", func(w http.ResponseWriter, _ *http.Request) {
		textOut(w, http.StatusOK, "ok\n") // not logged: scripts poll it
	})
	m.Handle("GET /_emu/messages", s.logged(s.getMessages))
	m.Handle("POST /_emu/reset", s.logged(func(w http.ResponseWriter, _ *http.Request) {
		s.Reset()
		jsonOut(w, http.StatusOK, map[string]any{"ok": true})
	}))
	m.Handle("GET /_emu/faults", s.logged(func(w http.ResponseWriter, _ *http.Request) {
		jsonOut(w, http.StatusOK, map[string]any{"faults": s.Faults()})
	}))
	m.Handle("POST /_emu/faults", s.logged(s.postFault))
	m.Handle("DELETE /_emu/faults", s.logged(func(w http.ResponseWriter, r *http.Request) {
		if t := r.URL.Query().Get("target"); t != "" {
			jsonOut(w, http.StatusOK, map[string]any{"ok": true, "cleared": s.ClearFault(t)})
			return
		}
		s.ClearFaults()
		jsonOut(w, http.StatusOK, map[string]any{"ok": true})
	}))
	m.Handle("GET /_emu/channels", s.logged(func(w http.ResponseWriter, _ *http.Request) {
		jsonOut(w, http.StatusOK, map[string]any{"channels": s.ChannelStates()})
	}))
	m.Handle("POST /_emu/channels", s.logged(s.postChannel))
	m.Handle("GET /_emu/stats", s.logged(func(w http.ResponseWriter, _ *http.Request) {
		jsonOut(w, http.StatusOK, s.Stats())
	}))
	m.Handle("GET /_emu/calls", s.logged(func(w http.ResponseWriter, _ *http.Request) {
		jsonOut(w, http.StatusOK, map[string]any{"calls": s.Calls()})
	}))
	m.Handle("POST /_emu/click", s.logged(s.controlClick))
	m.Handle("GET /_emu/clicks", s.logged(func(w http.ResponseWriter, _ *http.Request) {
		jsonOut(w, http.StatusOK, map[string]any{"clicks": s.Clicks()})
	}))
	m.Handle("GET /_emu/sockets", s.logged(func(w http.ResponseWriter, _ *http.Request) {
		jsonOut(w, http.StatusOK, map[string]any{"open": s.SocketCount()})
	}))
	m.Handle("POST /_emu/sockets/disconnect", s.logged(func(w http.ResponseWriter, r *http.Request) {
		var n int
		if r.URL.Query().Get("abrupt") == "true" {
			n = s.DropSockets()
		} else {
			n = s.DisconnectSockets()
		}
		jsonOut(w, http.StatusOK, map[string]any{"ok": true, "disconnected": n})
	}))
}

// controlClick sends the click a JSON ClickSpec describes and answers its
// ClickResult, or 400 with {"ok":false,"error"} when it cannot be sent.
func (s *Server) controlClick(w http.ResponseWriter, r *http.Request) {
	s.noteHost(r.Host)
	var spec ClickSpec
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&spec); err != nil {
		jsonOut(w, http.StatusBadRequest, map[string]any{"ok": false, "error": err.Error()})
		return
	}
	res, err := s.Click(r.Context(), spec)
	if err != nil {
		jsonOut(w, http.StatusBadRequest, map[string]any{"ok": false, "error": err.Error()})
		return
	}
	jsonOut(w, http.StatusOK, res)
}

// getMessages lists messages, optionally for one destination (?channel= takes
// "#alerts" — %23alerts in a URL — "alerts", a channel id or "webhook/T/B"),
// as JSON or, with ?format=text, rendered for people.
func (s *Server) getMessages(w http.ResponseWriter, r *http.Request) {
	msgs := s.Messages()
	if ch := r.URL.Query().Get("channel"); ch != "" {
		want := faultTarget(ch)
		kept := msgs[:0]
		for _, m := range msgs {
			if m.Channel == want || m.ChannelID == want {
				kept = append(kept, m)
			}
		}
		msgs = kept
	}
	if r.URL.Query().Get("format") == "text" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		RenderText(w, msgs)
		return
	}
	jsonOut(w, http.StatusOK, map[string]any{"messages": msgs})
}

func (s *Server) postFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&f); err != nil {
		jsonOut(w, http.StatusBadRequest, map[string]any{"ok": false, "error": err.Error()})
		return
	}
	if err := s.SetFault(f); err != nil {
		jsonOut(w, http.StatusBadRequest, map[string]any{"ok": false, "error": err.Error()})
		return
	}
	_ = f.normalize(s.opts.RetryAfter) // echo the fault as it is in force, defaults filled
	jsonOut(w, http.StatusOK, map[string]any{"ok": true, "fault": f})
}

// postChannel sets a channel's state: {"channel":"#x","state":"archived"}.
func (s *Server) postChannel(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Channel string       `json:"channel"`
		State   ChannelState `json:"state"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		jsonOut(w, http.StatusBadRequest, map[string]any{"ok": false, "error": err.Error()})
		return
	}
	if err := s.SetChannel(req.Channel, req.State); err != nil {
		jsonOut(w, http.StatusBadRequest, map[string]any{"ok": false, "error": err.Error()})
		return
	}
	jsonOut(w, http.StatusOK, map[string]any{"ok": true})
}

func jsonOut(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // show message text as sent
	_ = enc.Encode(v)
}

func textOut(w http.ResponseWriter, status int, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(s))
}

// logged logs a control request with its status; control URLs hold no secrets.
func (s *Server) logged(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h(sw, r)
		s.logger.Printf("%s %s -> %s", r.Method, r.URL.RequestURI(), strconv.Itoa(sw.status))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
