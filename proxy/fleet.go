package proxy

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/stampede-load/stampede/reports"
)

// Bucket is the width of the proxy's timeline buckets.
const Bucket = 100 * time.Millisecond

// maxTokens bounds each generation of the token tables: past it the older
// generation is dropped, so memory stays bounded however long the proxy
// runs (a token forgotten that way is treated as one never seen).
const maxTokens = 1 << 20

// issued is what the fleet remembers of a token it saw issued.
type issued struct {
	session string
	seq     uint64
	// rotated: a later answer replaced this refresh token.
	rotated bool
	// used: an API call bore this access token.
	used bool
	at   time.Time
	// byRefresh: a refresh answer issued it.
	byRefresh bool
}

// tokenTable is a map of token digests in two generations.
type tokenTable struct{ cur, old map[tokenHash]*issued }

func (t *tokenTable) get(h tokenHash) *issued {
	if v := t.cur[h]; v != nil {
		return v
	}
	return t.old[h]
}

func (t *tokenTable) put(h tokenHash, v *issued) {
	if t.cur == nil {
		t.cur = map[tokenHash]*issued{}
	}
	if len(t.cur) >= maxTokens {
		t.old, t.cur = t.cur, map[tokenHash]*issued{}
	}
	t.cur[h] = v
}

// retryState follows one request of a session answered 401.
type retryState struct {
	fails   int
	last    time.Time // the last 401
	counted bool
	// seq is the generation of the token the attempt answered 401 bore
	// (0: a token the proxy did not see issued, or none).
	seq uint64
}

// maxRetryStates is how many calls answered 401 a session keeps before
// it forgets those past the retry window (calls the app gave up on).
const maxRetryStates = 64

// pruneRetries forgets the calls whose last 401 is past the window: a
// request for them now would be a new call anyway.
func (s *session) pruneRetries(now time.Time, window time.Duration) {
	for k, st := range s.retries {
		if now.Sub(st.last) > window {
			delete(s.retries, k)
		}
	}
}

type session struct {
	reports.ProxySession
	inflight  int
	newestSeq uint64
	newest    *issued
	retries   map[[32]byte]*retryState
}

// fleet tracks every session through the proxy. Safe for concurrent use.
type fleet struct {
	retryLimit  int
	retryWindow time.Duration
	genWindow   time.Duration
	start       time.Time

	mu       sync.Mutex
	sessions map[string]*session
	access   tokenTable
	refresh  tokenTable
	seq      uint64
	fig      reports.ProxyFigures
	inflight int64
	hist     map[Kind]*hdrhistogram.Histogram
	ops      map[Kind]*reports.Op
	tl       reports.Timeline
}

func newFleet(start time.Time, retryLimit int, retryWindow, genWindow time.Duration) *fleet {
	f := &fleet{retryLimit: retryLimit, retryWindow: retryWindow, genWindow: genWindow, start: start,
		sessions: map[string]*session{}, hist: map[Kind]*hdrhistogram.Histogram{}, ops: map[Kind]*reports.Op{}}
	f.fig.Faults = map[string]int64{}
	f.tl.BucketMs = int(Bucket / time.Millisecond)
	for _, k := range []Kind{KindSignIn, KindRefresh, KindAPI} {
		f.hist[k] = reports.NewHistogram()
		f.ops[k] = &reports.Op{Errors: map[string]int64{}}
	}
	return f
}

// bucket grows the timeline to hold now and returns its index.
func (f *fleet) bucket(now time.Time) int {
	i := max(int(now.Sub(f.start)/Bucket), 0)
	for len(f.tl.RefreshAttempts) <= i {
		f.tl.RefreshAttempts = append(f.tl.RefreshAttempts, 0)
		f.tl.RefreshOK = append(f.tl.RefreshOK, 0)
		f.tl.RefreshErrors = append(f.tl.RefreshErrors, 0)
		f.tl.RefreshInflight = append(f.tl.RefreshInflight, f.inflight)
		f.tl.APICalls = append(f.tl.APICalls, 0)
		f.tl.API401 = append(f.tl.API401, 0)
	}
	return i
}

func (f *fleet) sessionLocked(key string) *session {
	s := f.sessions[key]
	if s == nil {
		s = &session{retries: map[[32]byte]*retryState{}}
		s.Session = hashToken(key).short()
		f.sessions[key] = s
		f.fig.Sessions++
	}
	return s
}

// flight is one request through the proxy as the fleet follows it.
type flight struct {
	kind     Kind
	session  string
	start    time.Time
	key      [32]byte
	token    *issued
	counted  bool // a refresh counted in flight
	presents tokenHash
	// ans is what the answer issued; ended: the fleet has recorded it.
	ans   answer
	ended bool
	// wait is the time the proxy spent waiting on others for it (a
	// fault's delay, the upstream), left out of its own time.
	wait time.Duration
}

// begin records a request arriving; it names its session when it can.
func (f *fleet) begin(now time.Time, q request, r *http.Request, body []byte) *flight {
	fl := &flight{kind: q.kind, start: now}
	if q.kind == KindOther {
		return fl
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.bucket(now)
	// The session: the path's, the token's claims, or the tokens issued.
	var bh tokenHash
	if q.bearer != "" {
		bh = hashToken(q.bearer)
	}
	switch {
	case q.sid != "":
		fl.session = "sid:" + q.sid
	case q.kind == KindRefresh && q.presented != "":
		fl.presents = hashToken(q.presented)
		if t := f.refresh.get(fl.presents); t != nil {
			fl.session = t.session
		}
	}
	if q.kind == KindRefresh && q.presented != "" {
		fl.presents = hashToken(q.presented)
	}
	if q.bearer != "" && q.kind == KindAPI {
		if t := f.access.get(bh); t != nil {
			fl.session, fl.token = t.session, t
		}
	}
	if fl.session == "" && q.bearer != "" {
		if c, ok := decodeJWT(q.bearer); ok {
			fl.session = sessionOf(c)
			if q.kind == KindAPI && fl.session != "" {
				// A token issued before the proxy saw it: remember it
				// (decoded once), older than any the proxy sees issued.
				fl.token = &issued{session: fl.session, at: c.Iat}
				f.access.put(bh, fl.token)
			}
		}
	}
	if fl.session == "" {
		switch {
		case fl.presents != (tokenHash{}):
			fl.session = "rt:" + fl.presents.short()
		case q.kind == KindAPI && q.bearer != "":
			fl.session = "tok:" + bh.short()
			fl.token = &issued{session: fl.session}
			f.access.put(bh, fl.token)
		}
	}
	if fl.session == "" {
		if q.kind != KindSignIn {
			f.fig.Unattributed++
		}
		if q.kind == KindAPI {
			f.tl.APICalls[i]++
		}
		return fl
	}
	s := f.sessionLocked(fl.session)
	switch q.kind {
	case KindRefresh:
		f.tl.RefreshAttempts[i]++
		s.Refreshes++
		if s.inflight > 0 {
			f.fig.DuplicateInflight++
			s.DuplicateRefreshes++
		} else if n := s.newest; n != nil && n.byRefresh && !n.used && now.Sub(n.at) < f.genWindow {
			f.fig.DuplicateSameGeneration++
			s.DuplicateRefreshes++
		}
		if t := f.refresh.get(fl.presents); t != nil && t.rotated {
			f.fig.RefreshTokenReuse++
			s.RefreshTokenReuse++
		}
		s.inflight++
		fl.counted = true
		f.inflight++
		f.tl.RefreshInflight[i] = max(f.tl.RefreshInflight[i], f.inflight)
	case KindAPI:
		f.tl.APICalls[i]++
		fl.key = callKey(r, body)
		// A call id the app sends tells a retry (the same id) from a new
		// call to the same URL.
		hasCallID := headerValue(r.Header, "Idempotency-Key") != "" || headerValue(r.Header, "X-Request-Id") != ""
		retry, failedSeq := false, uint64(0)
		if st := s.retries[fl.key]; st != nil {
			// With a call id, the same id is the same call however late
			// it comes; without, a request later than the window is a new
			// call to the same URL.
			if !hasCallID && now.Sub(st.last) > f.retryWindow {
				delete(s.retries, fl.key)
			} else {
				retry, failedSeq = true, st.seq
				if st.fails > f.retryLimit && !st.counted {
					st.counted = true
					f.fig.RetryLoops++
					s.RetryLoops++
				}
			}
		}
		if t := fl.token; t != nil {
			t.used = true
			// A stale retry: the app retried with the token its 401
			// answered (or an older one) although the session had been
			// issued a newer one by then.
			if retry && t.seq <= failedSeq && t.seq < s.newestSeq {
				f.fig.StaleRetries++
				s.StaleRetries++
			}
		}
	}
	return fl
}

// end records the answer to fl: its status, how long it took through the
// proxy, and the tokens a sign-in or refresh answer issued.
func (f *fleet) end(now time.Time, fl *flight, status int, a answer) {
	if fl.kind == KindOther {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.bucket(now)
	op := f.ops[fl.kind]
	op.Count++
	ok := status >= 200 && status < 300
	if ok {
		op.OK++
	} else {
		op.Errors[errorClass(status)]++
	}
	if !reports.RecordLatency(f.hist[fl.kind], now.Sub(fl.start)) {
		op.OutOfRange++
	}
	var s *session
	if fl.session != "" {
		s = f.sessions[fl.session]
	}
	switch fl.kind {
	case KindRefresh:
		if ok {
			f.tl.RefreshOK[i]++
		} else {
			f.tl.RefreshErrors[i]++
		}
		if fl.counted {
			f.inflight--
			if s != nil {
				s.inflight--
			}
		}
	case KindAPI:
		if status == http.StatusUnauthorized {
			f.tl.API401[i]++
			if s != nil {
				st := s.retries[fl.key]
				if st == nil {
					if len(s.retries) >= maxRetryStates {
						s.pruneRetries(now, f.retryWindow)
					}
					st = &retryState{}
					s.retries[fl.key] = st
				}
				st.fails++
				st.last = now
				st.seq = 0
				if fl.token != nil {
					st.seq = fl.token.seq
				}
			}
		} else if s != nil {
			delete(s.retries, fl.key)
		}
	}
	if !ok || (fl.kind != KindSignIn && fl.kind != KindRefresh) || a.access == "" {
		return
	}
	// The answer issued tokens: name the session, remember their digests.
	if fl.session == "" || fl.kind == KindSignIn {
		switch c, isJWT := decodeJWT(a.access); {
		case a.sid != "":
			fl.session = "sid:" + a.sid
		case isJWT && sessionOf(c) != "":
			fl.session = sessionOf(c)
		case a.refresh != "":
			fl.session = "rt:" + hashToken(a.refresh).short()
		default:
			fl.session = "tok:" + hashToken(a.access).short()
		}
		s = f.sessionLocked(fl.session)
	}
	if s == nil {
		s = f.sessionLocked(fl.session)
	}
	f.seq++
	t := &issued{session: fl.session, seq: f.seq, at: now, byRefresh: fl.kind == KindRefresh}
	f.access.put(hashToken(a.access), t)
	s.newest, s.newestSeq = t, t.seq
	if a.refresh != "" {
		rh := hashToken(a.refresh)
		if rh != fl.presents && fl.presents != (tokenHash{}) {
			if old := f.refresh.get(fl.presents); old != nil {
				old.rotated = true
			} else {
				f.refresh.put(fl.presents, &issued{session: fl.session, rotated: true, at: now})
			}
		}
		if f.refresh.get(rh) == nil {
			f.refresh.put(rh, &issued{session: fl.session, at: now})
		}
	}
	if fl.kind == KindRefresh && fl.presents != (tokenHash{}) && f.refresh.get(fl.presents) == nil {
		f.refresh.put(fl.presents, &issued{session: fl.session, at: now})
	}
}

// keyBufs hold the bytes callKey digests.
var keyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// callKey tells one API call from another: a digest of its method, path
// with query, call id headers and body. A call id the app sends tells a
// retry (the same id) from a new call to the same URL.
func callKey(r *http.Request, body []byte) [32]byte {
	bp := keyBufs.Get().(*[]byte)
	b := append((*bp)[:0], r.Method...)
	b = append(b, ' ')
	if r.URL.RawPath == "" && r.URL.Opaque == "" && plainPath(r.URL.Path) {
		// What r.URL.RequestURI() gives for a plain path, without a string built.
		b = append(b, r.URL.Path...)
		if r.URL.ForceQuery || r.URL.RawQuery != "" {
			b = append(b, '?')
			b = append(b, r.URL.RawQuery...)
		}
	} else {
		b = append(b, r.URL.RequestURI()...)
	}
	b = append(b, '\n')
	b = append(b, headerValue(r.Header, "Idempotency-Key")...)
	b = append(b, '\n')
	b = append(b, headerValue(r.Header, "X-Request-Id")...)
	b = append(b, '\n')
	b = append(b, body...)
	k := sha256.Sum256(b)
	if cap(b) <= 64<<10 {
		*bp = b
		keyBufs.Put(bp)
	}
	return k
}

// plainPath reports whether p is a path that URL escaping leaves as it
// is: a slash, then letters, digits and the characters a path may hold.
func plainPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') {
			continue
		}
		if !strings.ContainsRune("-_.~$&+,/:;=@!'()*", rune(c)) {
			return false
		}
	}
	return true
}

// fault counts an answer a fault made.
func (f *fleet) fault(name string) {
	f.mu.Lock()
	f.fig.Faults[name]++
	f.mu.Unlock()
}

// count adds to one of the proxy's own counters.
func (f *fleet) count(upstream, rejected int64) {
	f.mu.Lock()
	f.fig.UpstreamErrors += upstream
	f.fig.Rejected += rejected
	f.mu.Unlock()
}

// errorClass is result.json's error class of a status.
func errorClass(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "http_401"
	case status == http.StatusTooManyRequests:
		return "http_429"
	case status == http.StatusBadGateway || status == http.StatusGatewayTimeout:
		return "network"
	case status >= 500:
		return "http_5xx"
	}
	return "other"
}
