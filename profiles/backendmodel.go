package profiles

// BackendModel is the modelled backend of `stampede simulate`
// (docs/simulate.md): each endpoint of the embedded backend is a queue
// with Servers servers, a service-time distribution and a bounded wait
// queue that sheds with 503 and Retry-After. A live run ignores it. Zero
// fields take the defaults docs/simulate.md lists.
type BackendModel struct {
	SignIn  EndpointModel `json:"sign_in,omitzero" yaml:"sign_in"`
	Refresh EndpointModel `json:"refresh,omitzero" yaml:"refresh"`
	API     EndpointModel `json:"api,omitzero" yaml:"api"`
}

// EndpointModel is one endpoint of a BackendModel.
type EndpointModel struct {
	// Servers is how many requests it serves at once (c of an M/G/c queue).
	Servers int `json:"servers,omitempty" yaml:"servers"`
	// Service is the time one request holds a server.
	Service Dist `json:"service,omitzero" yaml:"service"`
	// MaxQueue bounds the requests waiting for a server: one more is shed
	// at once with 503 "overloaded" and Retry-After.
	MaxQueue int `json:"max_queue,omitempty" yaml:"max_queue"`
	// QueueWait is how long a request waits for a server before it is shed
	// the same way.
	QueueWait Duration `json:"queue_wait,omitempty" yaml:"queue_wait"`
}

// validateBackendModel checks the backend_model section: every field is
// optional, and what is given must make sense.
func (p Profile) validateBackendModel(v *validator) {
	for _, e := range []struct {
		name string
		m    EndpointModel
	}{{"sign_in", p.BackendModel.SignIn}, {"refresh", p.BackendModel.Refresh}, {"api", p.BackendModel.API}} {
		path := "backend_model." + e.name
		if e.m.Servers < 0 {
			v.bad(path+".servers", "must be at least 1 (0 takes the default), got %d", e.m.Servers)
		}
		if e.m.MaxQueue < 0 {
			v.bad(path+".max_queue", "must not be negative (0 takes the default), got %d", e.m.MaxQueue)
		}
		v.nonNegative(path+".queue_wait", e.m.QueueWait)
		if !e.m.Service.IsZero() {
			validDist(v, path+".service", e.m.Service)
		}
	}
}
