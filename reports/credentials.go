package reports

import "fmt"

// StatusCredentialsExhausted is the session status of a client whose
// stored credentials were spent or refused, or that had none: it sent
// nothing more (docs/client-model.md).
const StatusCredentialsExhausted = "credentials_exhausted"

// CredentialsWarning says how many clients ended with their credentials
// exhausted, and what to do about it; "" when none did.
func CredentialsWarning(r *Result) string {
	n := r.Sessions.ByStatus[StatusCredentialsExhausted]
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d %s had no credentials left (credentials_exhausted: a stored refresh token refused or spent, or no line of the credentials file for it): mint a fresh file with stampede creds, and run with --update-credentials so the next run finds the newest tokens",
		n, plural(int(n), "client", "clients"))
}
