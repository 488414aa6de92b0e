package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestHelperVar is run by TestVar in a child test binary.
func TestHelperVar(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") != "1" {
		t.Skip("run by TestVar")
	}
	Var(t, "TESTENV_UNSET_VARIABLE")
	t.Log("reached past Var")
}

// TestVar: a missing variable skips the test, or fails it under
// OPENIM_TEST_STRICT=1; either way the test goes no further.
func TestVar(t *testing.T) {
	for _, strict := range []string{"", "1"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperVar$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", "OPENIM_TEST_STRICT="+strict, "TESTENV_UNSET_VARIABLE=")
		out, err := cmd.CombinedOutput()
		s := string(out)
		if strings.Contains(s, "reached past Var") || !strings.Contains(s, "TESTENV_UNSET_VARIABLE is not set") {
			t.Errorf("strict=%q: output %s", strict, s)
		}
		if failed := err != nil; failed != (strict == "1") || (strict == "" && !strings.Contains(s, "--- SKIP")) {
			t.Errorf("strict=%q: err %v, output %s", strict, err, s)
		}
	}
	t.Setenv("TESTENV_SET_VARIABLE", "x")
	if v := Var(t, "TESTENV_SET_VARIABLE"); v != "x" {
		t.Errorf("Var = %q", v)
	}
}
