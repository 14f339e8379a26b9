package reports

import "testing"

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "",
		"no token here, eyJ alone, a.b.c": "no token here, eyJ alone, a.b.c",
		"bearer eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjF9.c2lnbmF0dXJl rejected": "bearer eyJ…[redacted] rejected",
		"alg none: eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0. end":             "alg none: eyJ…[redacted] end",
		`{"jwt":"eyJh.eyJp.sig","next":"eyJx.eyJy.z"}`:                   `{"jwt":"eyJ…[redacted]","next":"eyJ…[redacted]"}`,
		"JWE eyJhbGciOiJSU0EifQ.a2V5.aXY.Y2lwaGVy.dGFn.":                 "JWE eyJ…[redacted].",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Redact(RedactedJWT); got != RedactedJWT {
		t.Errorf("Redact is not idempotent: %q", got)
	}
}
