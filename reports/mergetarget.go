package reports

// sameTarget reports whether two shards ran against one target: the
// token lifetime each measured may differ.
func sameTarget(a, b Target) bool {
	a.TokenLifetimeS, b.TokenLifetimeS = 0, 0
	return a == b
}

// mergeTargets is the shards' target, with the longest token lifetime any
// of them measured.
func mergeTargets(results []*Result) Target {
	t := results[0].Target
	for _, r := range results[1:] {
		t.TokenLifetimeS = max(t.TokenLifetimeS, r.Target.TokenLifetimeS)
	}
	return t
}
