package record

// Freeze keeps the fleet's client gauges as they are now for Live: the
// run is about to stop its clients, and a progress line printed while the
// last requests finish should show the fleet that ran, not the clients
// leaving it. The timeline's gauges go on sampling.
func (r *Recorder) Freeze() {
	l := r.live()
	r.frozen.CompareAndSwap(nil, &l)
}
