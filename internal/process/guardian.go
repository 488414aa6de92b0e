package process

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// GuardianEnv, set to "1" in a process's environment, makes
// RunGuardianIfAsked run the guardian instead of the program.
const GuardianEnv = "OPENIM_SUPERVISOR_GUARDIAN"

// Guardian is a small helper process that outlives the supervisor. The
// supervisor tells it about each child it starts and each that ended, over
// a pipe only the supervisor holds. When the pipe closes (the supervisor
// exited, also by SIGKILL) the guardian kills what is left of the children
// it was told about, grandchildren in their process groups included (with
// KillLeftovers' identity checks), and exits. After a clean stop nothing is
// left and it just exits.
//
// Pdeathsig alone kills only the children; their grandchildren would be
// re-parented to init and live on.
type Guardian struct {
	mu  sync.Mutex
	w   *os.File
	cmd *exec.Cmd
	err error // first write error (the guardian is gone)

	forked   chan struct{} // closed when its fork and exec returned (cmd.Process nil: they failed)
	started  chan struct{} // closed when the guardian listens or is known not to
	startErr error         // why it did not come up; read after started closed
}

// fail records why the guardian did not come up: Started reports it, and
// every later Add and Drop fails with it.
func (g *Guardian) fail(err error) {
	g.startErr = err
	g.mu.Lock()
	if g.err == nil {
		g.err = err
	}
	g.mu.Unlock()
}

// Started waits until the guardian listens (nil) or is known not to (why).
func (g *Guardian) Started(ctx context.Context) error {
	select {
	case <-g.started:
		return g.startErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// PID of the guardian process (0 when it could not be started).
func (g *Guardian) PID() int {
	<-g.forked
	if g.cmd.Process == nil {
		return 0
	}
	return g.cmd.Process.Pid
}

// Add tells the guardian about a started child.
func (g *Guardian) Add(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return g.send(append(append([]byte("A "), b...), '\n'))
}

// Drop tells the guardian that the child pid of id is gone (and its group
// was killed with it).
func (g *Guardian) Drop(id string, pid int) error {
	return g.send([]byte("D " + strconv.Itoa(pid) + " " + id + "\n"))
}

func (g *Guardian) send(line []byte) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return g.err
	}
	if _, err := g.w.Write(line); err != nil {
		g.err = fmt.Errorf("guardian (pid %d) is gone: %w", g.PID(), err)
		return g.err
	}
	return nil
}

// Close closes the pipe (the guardian kills what is still recorded, which
// after a clean stop is nothing) and waits for it to exit.
func (g *Guardian) Close() error {
	g.mu.Lock()
	err := g.w.Close()
	g.mu.Unlock()
	<-g.forked
	if g.cmd.Process == nil {
		return err
	}
	if werr := g.cmd.Wait(); werr != nil && err == nil {
		err = fmt.Errorf("guardian: %w", werr)
	}
	<-g.started // it has exited: the ready pipe is closed
	return err
}

// RunGuardianIfAsked runs the guardian and exits when GuardianEnv is set;
// otherwise it returns at once. Call it first thing in main.
func RunGuardianIfAsked() {
	if os.Getenv(GuardianEnv) != "1" {
		return
	}
	os.Exit(guardianMain(os.Stdin, os.Stderr, os.NewFile(3, "ready")))
}

// readyWriter is the guardian's end of the start handshake.
type readyWriter interface {
	io.Writer
	io.Closer
}

// guardianMain reads records from in until EOF, then kills what is left.
// It writes "G" to ready and closes it once it listens.
func guardianMain(in io.Reader, logw io.Writer, ready readyWriter) int {
	// The supervisor decides when it ends: its own signals (a terminal's
	// Ctrl-C, a TERM to its group) are not for the guardian.
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	// It allocates only while children start, and holds a few hundred bytes
	// per child: keep its heap close to that.
	debug.SetGCPercent(10)
	if ready != nil {
		_, _ = ready.Write([]byte("G"))
		ready.Close()
	}
	live := map[int]Record{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		kind, rest, _ := strings.Cut(sc.Text(), " ")
		switch kind {
		case "A":
			var r Record
			if json.Unmarshal([]byte(rest), &r) == nil && r.PID > 0 {
				live[r.PID] = r
			}
		case "D":
			pid, _, _ := strings.Cut(rest, " ")
			if n, err := strconv.Atoi(pid); err == nil {
				delete(live, n)
			}
		}
	}
	if len(live) == 0 {
		return 0
	}
	recs := make([]Record, 0, len(live))
	for _, r := range live {
		recs = append(recs, r)
	}
	killed, err := KillLeftovers(recs)
	for _, k := range killed {
		fmt.Fprintf(logw, "openim-supervisor guardian: the supervisor is gone; killed pid %d (%s)\n", k.PID, k.Record.ID)
	}
	if err != nil {
		fmt.Fprintf(logw, "openim-supervisor guardian: %v\n", err)
		return 1
	}
	return 0
}
