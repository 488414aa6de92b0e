package process

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	RunGuardianIfAsked() // the guardian tests re-execute this binary
	floodIfAsked()       // and BenchmarkPollerFlood
	os.Exit(m.Run())
}
