package target

import (
	"strings"
	"testing"
)

func TestJoinURL(t *testing.T) {
	for _, tc := range [][3]string{
		{"http://h/dex", "/token", "http://h/dex/token"},
		{"http://h/dex/", "token", "http://h/dex/token"},
		{"http://h", "https://other/t", "https://other/t"},
		{"", "/token", "/token"},
		{"http://h/", "/api?x=1", "http://h/api?x=1"},
	} {
		if got := joinURL(tc[0], tc[1]); got != tc[2] {
			t.Errorf("joinURL(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
	if got := RedactURL("https://u:secret@h/x"); strings.Contains(got, "secret") {
		t.Errorf("RedactURL: %s", got)
	}
}
