package cli

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/control"
)

// completeTargets completes target arguments with the process names (and
// NAME:INDEX once a colon is typed): asked from the running supervisor,
// else read from the config file. withAll adds "all".
func completeTargets(g *globals, f *ctlFlags, withAll bool) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		counts, order := targetNames(g, f)
		given := map[string]bool{}
		for _, a := range args {
			given[a] = true
		}
		var out []cobra.Completion
		add := func(s string) {
			if !given[s] && strings.HasPrefix(s, toComplete) {
				out = append(out, s)
			}
		}
		if name, _, ok := strings.Cut(toComplete, ":"); ok {
			for i := 0; i < counts[name]; i++ {
				add(name + ":" + strconv.Itoa(i))
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		}
		if withAll {
			add("all")
		}
		for _, n := range order {
			add(n)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// targetNames returns the process names in config order with their
// instance counts: from the running supervisor when it answers within a
// second, else from the config file; nothing when neither works (a
// completion must never print errors).
func targetNames(g *globals, f *ctlFlags) (map[string]int, []string) {
	counts := map[string]int{}
	var order []string
	note := func(name string, n int) {
		if _, ok := counts[name]; !ok {
			order = append(order, name)
		}
		counts[name] += n
	}
	quiet := *g
	quiet.stderr = io.Discard
	if sock, err := f.socketPath(&quiet); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if st, err := control.NewClient(sock).Status(ctx); err == nil {
			for _, s := range st.Instances {
				note(s.Name, 1)
			}
			return counts, order
		}
	}
	if cfg, err := config.LoadWith(g.ConfigPath(), config.Options{SkipFileChecks: true}); err == nil {
		for _, p := range cfg.Processes {
			note(p.Name, p.Instances)
		}
	}
	return counts, order
}
