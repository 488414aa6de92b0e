package cli

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/buildinfo"
)

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Execute(buildinfo.Info{Version: "test", OpenIMVersion: "3.8.3"}, args, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

// TestEveryCommandFollowsTheExitCodeTable walks the whole command tree:
// an unknown flag, an unknown subcommand, a missing or an extra argument
// exit 2 for every command; --help exits 0. Arguments are only given where
// the command's validator rejects them, so nothing is ever run for real.
func TestEveryCommandFollowsTheExitCodeTable(t *testing.T) {
	t.Setenv(EnvConfig, filepath.Join(t.TempDir(), "none.yaml"))
	t.Setenv(EnvSocket, "")
	root := newRootCmd(&globals{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}})
	var visit func(c *cobra.Command)
	count := 0
	visit = func(c *cobra.Command) {
		if strings.HasPrefix(c.Name(), "__") {
			return
		}
		count++
		path := strings.Fields(c.CommandPath())[1:]
		name := "'" + strings.Join(append([]string{"openim-supervisor"}, path...), " ") + "'"
		with := func(extra ...string) []string { return append(append([]string{}, path...), extra...) }

		if out, errOut, code := runCLI(t, with("--help")...); code != ExitOK || out == "" {
			t.Errorf("%s --help: exit %d, stdout %d bytes, stderr %q", name, code, len(out), errOut)
		}
		if _, errOut, code := runCLI(t, with("--no-such-flag")...); code != ExitUsage || !strings.Contains(errOut, "no-such-flag") {
			t.Errorf("%s --no-such-flag: exit %d, want %d; stderr %q", name, code, ExitUsage, errOut)
		}
		if c.HasSubCommands() {
			if _, errOut, code := runCLI(t, path...); code != ExitUsage || !strings.Contains(errOut, "needs a command") {
				t.Errorf("%s without a subcommand: exit %d, want %d; stderr %q", name, code, ExitUsage, errOut)
			}
			if _, errOut, code := runCLI(t, with("bogus-word")...); code != ExitUsage || !strings.Contains(errOut, `unknown command "bogus-word"`) {
				t.Errorf("%s bogus-word: exit %d, want %d; stderr %q", name, code, ExitUsage, errOut)
			}
			for _, sub := range c.Commands() {
				visit(sub)
			}
			return
		}
		if c.Args(c, nil) != nil {
			if _, errOut, code := runCLI(t, path...); code != ExitUsage || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("%s without arguments: exit %d, want %d; stderr %q", name, code, ExitUsage, errOut)
			}
		}
		if c.Args(c, []string{"bogus-arg"}) != nil {
			if _, errOut, code := runCLI(t, with("bogus-arg")...); code != ExitUsage {
				t.Errorf("%s bogus-arg: exit %d, want %d; stderr %q", name, code, ExitUsage, errOut)
			}
		}
	}
	visit(root)
	if count < 25 {
		t.Errorf("visited only %d commands", count)
	}
}

func TestTyposGetDidYouMean(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"config", "chekc"}, `unknown command "chekc" for "openim-supervisor config"; did you mean check?`},
		{[]string{"stpo", "all"}, `did you mean stop?`},
		{[]string{"stauts"}, `did you mean status?`},
		{[]string{"help", "chekc"}, `unknown command "chekc"`},
		{[]string{"stop"}, "openim-supervisor stop: needs a target"},
	} {
		_, errOut, code := runCLI(t, tc.args...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestREADMEExitCodes keeps README.md's exit-code table equal to exitCodeTable.
func TestREADMEExitCodes(t *testing.T) {
	f, err := os.Open("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| (\\d+) \\| (.*) \\|$")
	var got []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "### Exit codes") {
			in = true
			continue
		}
		if in && strings.HasPrefix(line, "#") {
			break
		}
		if m := row.FindStringSubmatch(line); in && m != nil {
			got = append(got, m[1]+" "+m[2])
		}
	}
	var want []string
	for _, e := range exitCodeTable {
		want = append(want, strconv.Itoa(e.Code)+" "+e.Meaning)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("README.md's exit codes:\n%s\nwant (exitCodeTable):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
