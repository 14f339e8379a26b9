package run

import (
	"testing"

	"github.com/stampede-load/stampede/profiles"
)

// TestSpeaksTLS: per-client session caches are kept for the embedded
// backend over TLS and for a target with an https URL, not otherwise.
func TestSpeaksTLS(t *testing.T) {
	p := profiles.Default()
	if speaksTLS(p) {
		t.Error("the plain embedded backend speaks TLS")
	}
	p.Target.TLS = true
	if !speaksTLS(p) {
		t.Error("target.tls does not speak TLS")
	}
	p = profiles.Default()
	p.Target.URL = "http://127.0.0.1:8787"
	if speaksTLS(p) {
		t.Error("an http target speaks TLS")
	}
	p.Target.URL = "HTTPS://auth.example.com"
	if !speaksTLS(p) {
		t.Error("an https target does not speak TLS")
	}
}
