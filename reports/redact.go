package reports

import "regexp"

// jwtPattern matches a JWT (three base64url segments, the signature
// possibly empty, as with alg none), and a JWE's five.
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){1,3}`)

// RedactedJWT is what Redact puts in place of a JWT.
const RedactedJWT = "eyJ…[redacted]"

// Redact returns s with every JWT replaced by RedactedJWT: for text that
// came from a target (an error message, an answer's body) on its way to a
// terminal, a log or a report.
func Redact(s string) string {
	return jwtPattern.ReplaceAllLiteralString(s, RedactedJWT)
}
