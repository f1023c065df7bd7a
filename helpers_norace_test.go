//go:build !race

package basiq_test

// hardRaceEnabled reports a build with the race detector (-race).
const hardRaceEnabled = false
