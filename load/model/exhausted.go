package model

// CodeCredentialsExhausted is the outcome code of a sign-in a client cannot
// make: the credentials it was given are spent or refused (a stored refresh
// token the provider answered with invalid_grant, a line the credentials
// file does not have) and it has no other way to sign in. The client then
// stops in the session status StatusCredentialsExhausted: it sends nothing
// more, so no sign-in is counted that the target did not see.
const CodeCredentialsExhausted = "credentials_exhausted"

// StatusCredentialsExhausted is the session status of a client whose
// credentials are exhausted (see CodeCredentialsExhausted).
const StatusCredentialsExhausted = "credentials_exhausted"

// Exhausted reports whether the client's credentials are exhausted: it
// signs in no more.
func (c *Client) Exhausted() bool { return c.status == StatusCredentialsExhausted }
