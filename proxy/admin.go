package proxy

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net"
	"net/http"

	"github.com/stampede-load/stampede/profiles"
)

// maxAdminBody bounds an admin request's body.
const maxAdminBody = 64 << 10

// AdminHandler serves the proxy's admin API (docs/proxy.md#admin-api):
// GET /admin/faults lists the faults, POST /admin/faults starts one now
// (a profile event as JSON), DELETE /admin/faults ends every active one.
// With token "" only loopback clients are served; else every request
// needs "Authorization: Bearer TOKEN".
func (p *Proxy) AdminHandler(token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/admin/faults", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, map[string]any{"faults": p.Faults()})
		case http.MethodPost:
			var e profiles.Event
			dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAdminBody))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&e); err != nil {
				writeError(w, http.StatusBadRequest, "bad_fault", "want a fault as JSON: "+err.Error())
				return
			}
			f, err := p.AddFault(e)
			if err != nil {
				writeError(w, http.StatusBadRequest, "bad_fault", err.Error())
				return
			}
			writeJSON(w, http.StatusCreated, f)
		case http.MethodDelete:
			writeJSON(w, http.StatusOK, map[string]int{"cleared": p.ClearFaults()})
		default:
			w.Header().Set("Allow", "GET, POST, DELETE")
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on /admin/faults")
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" {
			got := bearer(r.Header.Get("Authorization"))
			if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				writeError(w, http.StatusUnauthorized, "unauthorized", "the proxy's admin API needs its --admin-token")
				return
			}
		} else if !loopback(r.RemoteAddr) {
			writeError(w, http.StatusForbidden, "forbidden", "the proxy's admin API answers loopback clients only, without --admin-token")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// loopback reports whether addr (host:port) is a loopback address.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", fmt.Sprint(err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
