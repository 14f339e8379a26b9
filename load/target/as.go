package target

// As finds an optional capability T of a target's Authenticator, looking
// through the wrappers stampede puts around it (the pre-flight's canary):
// each wrapper offers Unwrap() Authenticator.
func As[T any](a Authenticator) (T, bool) {
	for a != nil {
		if t, ok := a.(T); ok {
			return t, true
		}
		u, ok := a.(interface{ Unwrap() Authenticator })
		if !ok {
			break
		}
		a = u.Unwrap()
	}
	var zero T
	return zero, false
}
