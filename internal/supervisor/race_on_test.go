//go:build race

package supervisor

// raceEnabled: the race detector slows memory-heavy paths several times;
// timing bounds are scaled for it.
const raceEnabled = true
