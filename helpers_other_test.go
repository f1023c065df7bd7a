//go:build !unix

package basiq

import "time"

// processCPU is not measured here.
func processCPU() time.Duration { return 0 }
