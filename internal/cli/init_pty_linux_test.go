package cli

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns the controlling and the terminal side of a new pseudo-terminal.
func openPTY(t *testing.T) (ctl, tty *os.File) {
	t.Helper()
	ctl, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ctl.Close() })
	fd := int(ctl.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return ctl, tty
}

// On a terminal, init asks before replacing a config and does what the answer says.
func TestInitAsksOnTerminal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		answer   string
		replaced bool
	}{{"n", false}, {"", false}, {"yes", true}, {"y", true}} {
		cfgPath := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(cfgPath, []byte("mine\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		ctl, tty := openPTY(t)
		// The terminal echoes; the answer is what the user types.
		go func() { _, _ = ctl.WriteString(tc.answer + "\n") }()
		go func() { _, _ = bufio.NewReader(ctl).WriteTo(discard{}) }()

		done := make(chan struct{})
		var out, errOut string
		var code int
		go func() {
			defer close(done)
			out, errOut, code = execCLI(tty, "init", "--config", cfgPath)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("answer %q: init did not return", tc.answer)
		}
		if !strings.Contains(out, cfgPath+" exists. Replace it with the default config (a backup is kept)? [y/N] ") {
			t.Errorf("answer %q: no question asked: %q", tc.answer, out)
		}
		b, _ := os.ReadFile(cfgPath)
		replaced := string(b) != "mine\n"
		if replaced != tc.replaced {
			t.Errorf("answer %q: replaced=%v, want %v (exit %d, %s)", tc.answer, replaced, tc.replaced, code, errOut)
		}
		if !tc.replaced && (code != ExitError || !strings.Contains(errOut, "kept "+cfgPath+"; nothing written")) {
			t.Errorf("answer %q: exit %d: %s", tc.answer, code, errOut)
		}
		if tc.replaced && code != ExitOK {
			t.Errorf("answer %q: exit %d: %s", tc.answer, code, errOut)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
