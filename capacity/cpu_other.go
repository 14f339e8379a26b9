//go:build !unix

package capacity

import "time"

// processCPU is not measured here: the CPU check is off.
func processCPU() time.Duration { return 0 }
