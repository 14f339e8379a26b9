package reports

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrorAnswer is one kind of failed answer of an operation, "what the
// server said": its error class, HTTP status (0 when no answer came) and
// the error code the body carried (an OAuth 2.0 error, the embedded
// backend's errors[0].code, or stampede's own code such as html_body), with
// how many answers were of that kind and one redacted, truncated body.
// An operation's ErrorAnswers add up to its ErrorCount.
type ErrorAnswer struct {
	Class  string `json:"class"`
	Status int    `json:"status"`
	Code   string `json:"code,omitempty"`
	Count  int64  `json:"count"`
	// Sample is the body of the first such answer, at most SampleBytes,
	// tokens and secrets masked (RedactBody); "" when there was none.
	Sample string `json:"sample,omitempty"`
}

// MaxErrorAnswers bounds the distinct (class, status, code) kinds kept per
// operation; answers of further kinds are counted under their class with
// code OtherAnswers.
const MaxErrorAnswers = 32

// OtherAnswers is the code of the answers beyond MaxErrorAnswers kinds.
const OtherAnswers = "(other)"

// SampleBytes bounds an ErrorAnswer's sample body.
const SampleBytes = 256

// Label names the kind: "401 invalid_grant", "404", "network
// connection_refused", "timeout"; an API answer to a superseded token
// says so: "401 invalid_token (superseded_token)".
func (a ErrorAnswer) Label() string {
	var b strings.Builder
	if a.Status > 0 {
		b.WriteString(strconv.Itoa(a.Status))
	} else {
		b.WriteString(a.Class)
	}
	if a.Code != "" {
		b.WriteString(" " + a.Code)
	}
	if a.Status > 0 && a.Class == ClassSuperseded {
		b.WriteString(" (" + ClassSuperseded + ")")
	}
	return b.String()
}

// ClassSuperseded is the error class of an API answer (4xx) to a request
// sent with a token that a refresh had superseded by the time it came.
const ClassSuperseded = "superseded_token"

type answerKey struct {
	class, code string
	status      int
}

// AddErrorAnswers adds src to dst: counts of the same kind add up, the
// first sample is kept, kinds beyond MaxErrorAnswers fold into their
// class's OtherAnswers; the result is sorted (SortErrorAnswers).
func AddErrorAnswers(dst []ErrorAnswer, src []ErrorAnswer) []ErrorAnswer {
	if len(src) == 0 {
		return dst
	}
	idx := make(map[answerKey]int, len(dst)+len(src))
	for i, a := range dst {
		idx[answerKey{a.Class, a.Code, a.Status}] = i
	}
	kinds := 0
	for _, a := range dst {
		if a.Code != OtherAnswers {
			kinds++
		}
	}
	for _, a := range src {
		k := answerKey{a.Class, a.Code, a.Status}
		i, ok := idx[k]
		if !ok && a.Code != OtherAnswers && kinds >= MaxErrorAnswers {
			k = answerKey{a.Class, OtherAnswers, 0}
			a = ErrorAnswer{Class: a.Class, Code: OtherAnswers, Count: a.Count}
			i, ok = idx[k]
		}
		if ok {
			dst[i].Count += a.Count
			if dst[i].Sample == "" {
				dst[i].Sample = a.Sample
			}
			continue
		}
		if a.Code != OtherAnswers {
			kinds++
		}
		idx[k] = len(dst)
		dst = append(dst, a)
	}
	SortErrorAnswers(dst)
	return dst
}

// SortErrorAnswers orders answers by count, most first, then by status,
// class and code.
func SortErrorAnswers(as []ErrorAnswer) {
	slices.SortFunc(as, func(a, b ErrorAnswer) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Status, b.Status),
			cmp.Compare(a.Class, b.Class), cmp.Compare(a.Code, b.Code))
	})
}

// TopErrorAnswers is "401 invalid_grant: 25, 400 invalid_request: 3" for
// the first n of as (sorted), with "… and k more kinds" when there are more.
func TopErrorAnswers(as []ErrorAnswer, n int) string {
	parts := make([]string, 0, min(n, len(as))+1)
	for i, a := range as {
		if i == n {
			parts = append(parts, fmt.Sprintf("… and %d more %s", len(as)-n, plural(len(as)-n, "kind", "kinds")))
			break
		}
		parts = append(parts, fmt.Sprintf("%s: %d", a.Label(), a.Count))
	}
	return strings.Join(parts, ", ")
}

// secretField matches a JSON member (or form field) whose value is a
// credential: its value is masked in sample bodies.
var secretField = regexp.MustCompile(`(?i)("?[a-z_]*(?:token|secret|password|passwd|assertion|code_verifier|api_key|apikey|authorization|cookie|session)[a-z_]*"?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|[^\s,&}"]+)`)

// opaqueToken matches a long run of token characters with a digit in it: an
// opaque token or secret echoed in an error message.
var opaqueToken = regexp.MustCompile(`[A-Za-z0-9_\-~+/=.]{24,}`)

// RedactedValue is what RedactBody puts in place of a secret.
const RedactedValue = "[redacted]"

// RedactBody masks what may be secret in a body from a target: JWTs
// (Redact), the values of members named like a credential (access_token,
// refresh_token, client_secret, password, ...) and long opaque tokens.
func RedactBody(s string) string {
	s = Redact(s)
	s = secretField.ReplaceAllString(s, `${1}"`+RedactedValue+`"`)
	return opaqueToken.ReplaceAllStringFunc(s, func(m string) string {
		if m == RedactedJWT || !strings.ContainsAny(m, "0123456789") || !strings.ContainsAny(m, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			return m
		}
		return RedactedValue
	})
}

// SampleBody is body as an ErrorAnswer's sample: its first SampleBytes
// (cut at a character boundary, "…" appended when cut), on one line,
// redacted (RedactBody). Only the first SampleBytes are looked at, so a
// token cut in two is masked by its length alone.
func SampleBody(body []byte) string {
	cut := len(body) > SampleBytes
	if cut {
		body = body[:SampleBytes]
		for len(body) > 0 && !utf8.Valid(body) {
			body = body[:len(body)-1]
		}
	}
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "?")), " ")
	if s == "" {
		return ""
	}
	s = RedactBody(s)
	if cut {
		s += "…"
	}
	return s
}

// TopAnswers is how many kinds of failed answers the text summary shows
// per operation.
const TopAnswers = 3

// writeServerSaid writes the text summary's "what the server said": the
// most frequent kinds of failed answers of each operation, and a sample
// body of each operation's most frequent one.
func writeServerSaid(b *strings.Builder, r *Result) {
	var lines []string
	for _, name := range OpNames {
		o := r.Ops[name]
		if o == nil || len(o.ErrorAnswers) == 0 {
			continue
		}
		lines = append(lines, fmt.Sprintf("  %-9s %s", name, TopErrorAnswers(o.ErrorAnswers, TopAnswers)))
		if a := o.ErrorAnswers[0]; a.Sample != "" {
			lines = append(lines, fmt.Sprintf("  %-9s   e.g. %s: %s", "", a.Label(), a.Sample))
		}
	}
	if len(lines) > 0 {
		b.WriteString("\nwhat the server said (errors by status and code, most frequent first):\n" + strings.Join(lines, "\n") + "\n")
	}
}

// writeMarkdownServerSaid writes the Markdown report's table of failed
// answers by status and code.
func writeMarkdownServerSaid(b *strings.Builder, r *Result) {
	var rows []string
	for _, name := range OpNames {
		o := r.Ops[name]
		if o == nil {
			continue
		}
		for _, a := range o.ErrorAnswers {
			rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %d | %s |\n", name, a.Class, statusText(a.Status),
				mdCode(a.Code), a.Count, mdCode(a.Sample)))
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("#### What the server said\n\nFailed answers by HTTP status and error code, with the body of the first of each kind (truncated, secrets masked).\n\n")
	b.WriteString("| operation | class | status | code | count | sample body |\n|---|---|--:|---|--:|---|\n")
	b.WriteString(strings.Join(rows, ""))
	b.WriteString("\n")
}

// statusText is an HTTP status, "-" when no answer came.
func statusText(status int) string {
	if status == 0 {
		return "-"
	}
	return strconv.Itoa(status)
}

// htmlAnswer is one row of the HTML report's failed answers.
type htmlAnswer struct {
	Op, Class, Status, Code, Count, Sample string
}

// htmlAnswers are the HTML report's rows of failed answers, by operation.
func htmlAnswers(r *Result) []htmlAnswer {
	var out []htmlAnswer
	for _, name := range OpNames {
		o := r.Ops[name]
		if o == nil {
			continue
		}
		for _, a := range o.ErrorAnswers {
			out = append(out, htmlAnswer{Op: name, Class: a.Class, Status: statusText(a.Status), Code: a.Code,
				Count: strconv.FormatInt(a.Count, 10), Sample: a.Sample})
		}
	}
	return out
}
