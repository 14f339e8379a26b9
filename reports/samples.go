package reports

import "slices"

// MaxSamples is how many requests of each kind a result keeps as evidence
// for the invariants: the earliest ones.
const MaxSamples = 5

// Samples are the evidence behind the invariants (docs/results.md#invariants):
// the earliest few requests that broke each one, at most MaxSamples of each.
type Samples struct {
	// Lost are API requests the app issued and never settled.
	Lost []RequestSample `json:"lost,omitempty"`
	// RetryLoops are API requests retried past the interceptor's bound of one retry.
	RetryLoops []RequestSample `json:"retry_loops,omitempty"`
	// StaleTokenRetries are retries sent with a token older than the client's newest.
	StaleTokenRetries []RequestSample `json:"stale_token_retries,omitempty"`
	// DuplicateRefreshes are refreshes a client sent while another of its
	// own was in flight.
	DuplicateRefreshes []RequestSample `json:"duplicate_refreshes,omitempty"`
}

// RequestSample is one request kept as evidence.
type RequestSample struct {
	// Client is the client's index in the fleet (0-based).
	Client int `json:"client"`
	// AtS is when it happened, in seconds from the start of the run: when
	// the app issued a lost request, when a retry or a duplicate refresh
	// went out. IssuedS is when the app issued the API request.
	AtS     float64 `json:"at_s"`
	IssuedS float64 `json:"issued_s"`
	// TokenGeneration is the generation of the session token it carried
	// (1 for the client's first token, 0 for none); NewestGeneration the
	// client's newest at the time.
	TokenGeneration  uint64 `json:"token_generation"`
	NewestGeneration uint64 `json:"newest_generation"`
	// Retries counts its retries after a 401.
	Retries int `json:"retries"`
	// Interceptor is what the app's 401 interceptor was doing, or where
	// the request was stuck.
	Interceptor string `json:"interceptor"`
}

// AddSample adds s to list, which it keeps sorted by time (then client)
// and at most MaxSamples long: the earliest.
func AddSample(list []RequestSample, s RequestSample) []RequestSample {
	i, _ := slices.BinarySearchFunc(list, s, func(a, b RequestSample) int {
		switch {
		case a.AtS < b.AtS:
			return -1
		case a.AtS > b.AtS:
			return 1
		}
		return a.Client - b.Client
	})
	if i >= MaxSamples {
		return list
	}
	list = slices.Insert(list, i, s)
	if len(list) > MaxSamples {
		list = list[:MaxSamples]
	}
	return list
}

// Merge adds o's samples to s's, keeping the earliest of each kind.
func (s *Samples) Merge(o Samples) {
	for _, k := range [...]struct{ dst, src *[]RequestSample }{
		{&s.Lost, &o.Lost}, {&s.RetryLoops, &o.RetryLoops},
		{&s.StaleTokenRetries, &o.StaleTokenRetries}, {&s.DuplicateRefreshes, &o.DuplicateRefreshes},
	} {
		for _, x := range *k.src {
			*k.dst = AddSample(*k.dst, x)
		}
	}
}

// Shifted is a copy of s with every time moved by d seconds.
func (s Samples) Shifted(d float64) Samples {
	shift := func(l []RequestSample) []RequestSample {
		out := slices.Clone(l)
		for i := range out {
			out[i].AtS += d
			out[i].IssuedS += d
		}
		return out
	}
	return Samples{Lost: shift(s.Lost), RetryLoops: shift(s.RetryLoops),
		StaleTokenRetries: shift(s.StaleTokenRetries), DuplicateRefreshes: shift(s.DuplicateRefreshes)}
}
