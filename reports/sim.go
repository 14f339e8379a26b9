package reports

// ModeSimulate is Result.Mode of a result of stampede simulate.
const ModeSimulate = "simulate"

// Sim is what the discrete-event simulator of stampede simulate did
// (docs/simulate.md).
type Sim struct {
	// EventsProcessed counts the simulator's events: the clients' deadlines,
	// requests' arrivals, service completions, answers, timeouts, fleet
	// steps and timeline samples.
	EventsProcessed int64 `json:"events_processed"`
	// SimulatedS is the simulated time covered, in seconds.
	SimulatedS float64 `json:"simulated_s"`
	// EventsPerSecond is EventsProcessed per wall-clock second and
	// BytesPerClient the heap the fleet and the backend model held, per
	// client; WallS the wall-clock seconds the simulation took. They are
	// measurements of the machine, so they are written only when asked for
	// (simulate --measure): without them the same seed gives a
	// byte-identical result.json.
	EventsPerSecond float64 `json:"events_per_second,omitempty"`
	BytesPerClient  float64 `json:"bytes_per_client,omitempty"`
	WallS           float64 `json:"wall_s,omitempty"`
	// Partitions is how many partitions the simulation ran in, each a
	// share of the fleet against a share of the backend, merged (absent:
	// one). With more than one, Backend's servers and max_queue are the
	// partitions' sums, peak_queue the sum of their peaks (an upper bound
	// of the requests waiting at once) and utilisation their mean
	// weighted by servers.
	Partitions int `json:"partitions,omitempty"`
	// Backend is the backend model the simulation used, per endpoint,
	// and what each endpoint did.
	Backend map[string]SimEndpoint `json:"backend,omitempty"`
}

// SimEndpoint is one endpoint of the modelled backend: its parameters and
// what it served.
type SimEndpoint struct {
	Servers   int     `json:"servers"`
	MaxQueue  int     `json:"max_queue"`
	QueueWait float64 `json:"queue_wait_ms"`
	// Service is the service-time distribution ("exponential 2ms",
	// "calibrated" for a histogram from a live run).
	Service string `json:"service"`
	// Arrived counts requests that reached it, Served those it answered,
	// ShedFull and ShedWait those shed with 503 (queue full on arrival,
	// no server within queue_wait), Abandoned those whose client gave up
	// while they waited.
	Arrived   int64 `json:"arrived"`
	Served    int64 `json:"served"`
	ShedFull  int64 `json:"shed_queue_full"`
	ShedWait  int64 `json:"shed_queue_wait"`
	Abandoned int64 `json:"abandoned"`
	// PeakQueue is the longest its wait queue grew; Utilisation the
	// share of its servers' time spent serving.
	PeakQueue   int64   `json:"peak_queue"`
	Utilisation float64 `json:"utilisation"`
}
