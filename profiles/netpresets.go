package profiles

import "time"

// NetworkPresetInfo is one network preset: the link it sets and where its
// figures come from.
type NetworkPresetInfo struct {
	Name    string
	Network Network
	// Source names the tool and the place its figures are published.
	Source string
}

// kibit is one Firefox "Kbps" in stampede's kbps: Firefox counts
// K = 1024 bits, stampede 1000.
const kibit = 1.024

// ms is a latency in milliseconds.
func ms(n int) Duration { return Duration(time.Duration(n) * time.Millisecond) }

// NetworkPresets lists every network preset with its source. Latency is a
// round trip, added once to each request; bandwidth is in kbps of 1000
// bits/s; loss is a share in [0, 1]. Presets carry no jitter: none of the
// sources gives one.
//
// Left out for want of a consistent published figure: Network Link
// Conditioner's "LTE" and "Very Bad Network" (the numbers quoted for them
// disagree from one write-up to the next).
func NetworkPresets() []NetworkPresetInfo {
	return []NetworkPresetInfo{
		{Name: "none", Source: "no impairment"},

		// Chrome DevTools throttling presets: front_end/core/sdk/NetworkManager.ts
		// in ChromeDevTools/devtools-frontend. The figures are each preset's
		// targets (its comments and targetLatency); DevTools itself applies
		// them scaled (latency ×5, ×3.75, ×2.75; bandwidth ×0.8 or ×0.9) to
		// make its request-level throttling look like a packet-level link.
		{Name: "chrome-slow-3g", Network: Network{Latency: ms(400), DownKbps: 500, UpKbps: 500},
			Source: `Chrome DevTools "3G" (called "Slow 3G" before 2024), Slow3GConditions: 400 ms RTT, ~500 kbps down and up`},
		{Name: "chrome-slow-4g", Network: Network{Latency: ms(150), DownKbps: 1600, UpKbps: 750},
			Source: `Chrome DevTools "Slow 4G", Slow4GConditions: 150 ms RTT, ~1.6 Mbps down, ~750 kbps up`},
		{Name: "chrome-fast-3g", Network: Network{Latency: ms(150), DownKbps: 1600, UpKbps: 750},
			Source: `Chrome DevTools "Fast 3G", renamed "Slow 4G" in May 2024 with the same figures (Slow4GConditions)`},
		{Name: "chrome-fast-4g", Network: Network{Latency: ms(60), DownKbps: 9000, UpKbps: 1500},
			Source: `Chrome DevTools "Fast 4G", Fast4GConditions: 60 ms RTT, 9 Mbps down, 1.5 Mbps up`},

		// Firefox DevTools throttling profiles:
		// devtools/client/shared/components/throttling/profiles.js in
		// mozilla/gecko-dev. Firefox's Kbps and Mbps count 1024 bits (×1.024
		// and ×1.048576 here); its latency is the minimum added to each request.
		{Name: "firefox-gprs", Network: Network{Latency: ms(500), DownKbps: 50 * kibit, UpKbps: 20 * kibit},
			Source: `Firefox DevTools "GPRS": 50 Kbps down, 20 Kbps up, 500 ms`},
		{Name: "firefox-regular-2g", Network: Network{Latency: ms(300), DownKbps: 250 * kibit, UpKbps: 50 * kibit},
			Source: `Firefox DevTools "Regular 2G": 250 Kbps down, 50 Kbps up, 300 ms`},
		{Name: "firefox-good-2g", Network: Network{Latency: ms(150), DownKbps: 450 * kibit, UpKbps: 150 * kibit},
			Source: `Firefox DevTools "Good 2G": 450 Kbps down, 150 Kbps up, 150 ms`},
		{Name: "firefox-regular-3g", Network: Network{Latency: ms(100), DownKbps: 750 * kibit, UpKbps: 250 * kibit},
			Source: `Firefox DevTools "Regular 3G": 750 Kbps down, 250 Kbps up, 100 ms`},
		{Name: "firefox-good-3g", Network: Network{Latency: ms(40), DownKbps: 1.5 * 1024 * kibit, UpKbps: 750 * kibit},
			Source: `Firefox DevTools "Good 3G": 1.5 Mbps down, 750 Kbps up, 40 ms`},
		{Name: "firefox-lte", Network: Network{Latency: ms(20), DownKbps: 4 * 1024 * kibit, UpKbps: 3 * 1024 * kibit},
			Source: `Firefox DevTools "Regular 4G / LTE": 4 Mbps down, 3 Mbps up, 20 ms`},

		// Apple Network Link Conditioner profiles (Additional Tools for
		// Xcode). Apple does not publish these figures: they are the ones
		// commonly quoted, read off the tool's profile editor. NLC delays
		// each direction, so the round trip is the sum of the two delays.
		{Name: "nlc-3g", Network: Network{Latency: ms(100 + 100), DownKbps: 780, UpKbps: 330},
			Source: `Network Link Conditioner "3G" (commonly quoted, not published by Apple): 780 kbps down, 330 kbps up, 100 ms delay each way`},
		{Name: "nlc-edge", Network: Network{Latency: ms(400 + 440), DownKbps: 240, UpKbps: 200},
			Source: `Network Link Conditioner "Edge" (commonly quoted, not published by Apple): 240 kbps down, 200 kbps up, 400 ms delay down, 440 ms up`},
		{Name: "nlc-100-loss", Network: Network{Loss: 1},
			Source: `Network Link Conditioner "100% Loss": every packet dropped`},
	}
}

// NetworkPresetNames lists the network presets, "none" first.
func NetworkPresetNames() []string {
	ps := NetworkPresets()
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return names
}

// NetworkPreset returns the link a preset sets, with Preset set to its name,
// and whether the name is a preset. "" is the same as "none".
func NetworkPreset(name string) (Network, bool) {
	if name == "" {
		return Network{}, true
	}
	for _, p := range NetworkPresets() {
		if p.Name == name {
			n := p.Network
			n.Preset = name
			return n, true
		}
	}
	return Network{}, false
}
