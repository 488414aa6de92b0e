package helmtest

// A small stand-in for a kubelet and runc, enough to run one container of a
// rendered pod from the unpacked image the way Kubernetes would: its own
// mount and PID namespaces (optionally network), the image's file system
// read-only, the pod's volumes bind-mounted (ConfigMap files by subPath,
// emptyDirs, the PVC as a directory), /proc and a minimal /dev, the user and
// groups of the pod's security context, the image's (or the container's)
// command, environment and working directory. The entrypoint is PID 1.
//
// The test binary re-executes itself under unshare(1) as TestHelperContainer,
// which mounts, chroots, drops to the user and execs the entrypoint.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const containerEnv = "OPENIM_HELMTEST_CONTAINER"

// mount is one bind mount into the container.
type mount struct {
	Src  string `json:"src"`
	Dst  string `json:"dst"`
	RO   bool   `json:"ro"`
	File bool   `json:"file"`
}

// containerSpec is what the helper needs to start the entrypoint.
type containerSpec struct {
	Rootfs   string   `json:"rootfs"`
	Hostname string   `json:"hostname"` // the pod's name, as in Kubernetes
	Mounts   []mount  `json:"mounts"`
	UID      int      `json:"uid"`
	GID      int      `json:"gid"`
	Groups   []int    `json:"groups"`
	WorkDir  string   `json:"workDir"`
	Env      []string `json:"env"`
	Argv     []string `json:"argv"`
}

// TestHelperContainer is not a test: re-executed under unshare with
// containerEnv set, it becomes the container (see the file comment).
func TestHelperContainer(t *testing.T) {
	spec := os.Getenv(containerEnv)
	if spec == "" {
		t.Skip("helper process of the container tests")
	}
	var s containerSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, "container spec:", err)
		os.Exit(120)
	}
	if err := enterContainer(&s); err != nil {
		fmt.Fprintln(os.Stderr, "container:", err)
		os.Exit(121)
	}
}

func enterContainer(s *containerSpec) error {
	r := s.Rootfs
	if s.Hostname != "" {
		if err := syscall.Sethostname([]byte(s.Hostname)); err != nil {
			return fmt.Errorf("hostname: %w", err)
		}
	}
	// A pod's network namespace has its loopback up (a new one starts down).
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set lo up: %v: %s", err, out)
	}
	// Mount points the runtime makes (runc creates them too).
	for _, d := range []string{"proc", "dev"} {
		if err := os.MkdirAll(filepath.Join(r, d), 0o755); err != nil {
			return err
		}
	}
	for _, m := range s.Mounts {
		dst := filepath.Join(r, m.Dst)
		if m.File {
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if _, err := os.Stat(dst); os.IsNotExist(err) {
				if err := os.WriteFile(dst, nil, 0o644); err != nil {
					return err
				}
			}
		} else if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
	}
	if err := syscall.Mount(r, r, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return fmt.Errorf("bind rootfs: %w", err)
	}
	if err := syscall.Mount("", r, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		return fmt.Errorf("read-only rootfs: %w", err)
	}
	if err := syscall.Mount("proc", filepath.Join(r, "proc"), "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	dev := filepath.Join(r, "dev")
	if err := syscall.Mount("tmpfs", dev, "tmpfs", syscall.MS_NOSUID, "mode=755,size=64k"); err != nil {
		return fmt.Errorf("mount /dev: %w", err)
	}
	for _, d := range []string{"null", "zero", "full", "random", "urandom"} {
		p := filepath.Join(dev, d)
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			return err
		}
		if err := syscall.Mount("/dev/"+d, p, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind /dev/%s: %w", d, err)
		}
	}
	for _, m := range s.Mounts {
		dst := filepath.Join(r, m.Dst)
		if err := syscall.Mount(m.Src, dst, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind %s at %s: %w", m.Src, m.Dst, err)
		}
		if m.RO {
			if err := syscall.Mount("", dst, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
				return fmt.Errorf("read-only %s: %w", m.Dst, err)
			}
		}
	}
	if err := syscall.Chroot(r); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	wd := s.WorkDir
	if wd == "" {
		wd = "/"
	}
	if err := syscall.Chdir(wd); err != nil {
		return fmt.Errorf("working dir %s: %w", wd, err)
	}
	if err := syscall.Setgroups(s.Groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(s.GID); err != nil {
		return fmt.Errorf("setgid: %w", err)
	}
	if err := syscall.Setuid(s.UID); err != nil {
		return fmt.Errorf("setuid: %w", err)
	}
	bin := s.Argv[0]
	if !strings.Contains(bin, "/") {
		for _, e := range s.Env {
			if p, ok := strings.CutPrefix(e, "PATH="); ok {
				for _, d := range filepath.SplitList(p) {
					if st, err := os.Stat(filepath.Join(d, bin)); err == nil && !st.IsDir() {
						bin = filepath.Join(d, bin)
						break
					}
				}
			}
		}
	}
	return syscall.Exec(bin, s.Argv, s.Env)
}

// container is a running container.
type container struct {
	cmd  *exec.Cmd
	out  *outFile // a file, not a pipe: Wait must not wait for the container's leftovers
	done chan struct{}
	err  error
}

// outFile is the container's stdout+stderr.
type outFile struct{ path string }

func (o *outFile) String() string {
	b, _ := os.ReadFile(o.path)
	return string(b)
}

// startContainer starts spec in new mount and PID namespaces (and a new
// network namespace when privateNet).
func startContainer(t *testing.T, spec containerSpec, privateNet bool) *container {
	t.Helper()
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--mount", "--pid", "--uts", "--fork", "--kill-child", "--propagation", "private"}
	if spec.Hostname == "" {
		spec.Hostname = fmt.Sprintf("pod-%d", time.Now().UnixNano()%1e9)
		b, _ = json.Marshal(spec)
	}
	if privateNet {
		args = append(args, "--net")
	}
	args = append(args, os.Args[0], "-test.run=^TestHelperContainer$")
	f, err := os.CreateTemp(t.TempDir(), "container-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := &container{out: &outFile{f.Name()}, done: make(chan struct{})}
	c.cmd = exec.Command("unshare", args...)
	c.cmd.Env = []string{containerEnv + "=" + string(b), "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	c.cmd.Stdout, c.cmd.Stderr = f, f
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("unshare: %v", err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = c.cmd.Process.Signal(syscall.SIGKILL)
			<-c.done
		}
	})
	return c
}

// wait waits for the container to exit and returns its exit code.
func (c *container) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	code, err := c.waitCode(timeout)
	if err != nil {
		t.Fatalf("%v; output:\n%s", err, c.out)
	}
	return code
}

// waitCode is wait for any goroutine (no t.Fatal).
func (c *container) waitCode(timeout time.Duration) (int, error) {
	select {
	case <-c.done:
	case <-time.After(timeout):
		return -1, fmt.Errorf("container still running after %s", timeout)
	}
	if c.err == nil {
		return 0, nil
	}
	if ee, ok := c.err.(*exec.ExitError); ok {
		return ee.ExitCode(), nil
	}
	return -1, fmt.Errorf("container: %w", c.err)
}

// pid1 is the host pid of the container's PID 1 (unshare's child).
func (c *container) pid1(t *testing.T) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", c.cmd.Process.Pid, c.cmd.Process.Pid))
		var pid int
		if _, err := fmt.Sscan(string(b), &pid); err == nil && pid > 0 {
			return pid
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no PID 1 in the container")
	return 0
}

// runOnce runs spec to completion (a Job's pod, an exec probe) and returns
// its exit code and output.
func runOnce(t *testing.T, ctx context.Context, spec containerSpec, privateNet bool, timeout time.Duration) (int, string) {
	t.Helper()
	c := startContainer(t, spec, privateNet)
	code := c.wait(t, timeout)
	return code, c.out.String()
}

// imageConfig is `openim-image inspect`'s output.
type imageConfig struct {
	Digest string `json:"digest"`
	Config struct {
		User       string   `json:"User"`
		Env        []string `json:"Env"`
		Entrypoint []string `json:"Entrypoint"`
		Cmd        []string `json:"Cmd"`
		WorkingDir string   `json:"WorkingDir"`
	} `json:"config"`
}

// image returns the unpacked image (OPENIM_IMAGE_ROOTFS) and its config
// (OPENIM_IMAGE_CONFIG, from `openim-image inspect`); the tests that need
// them are skipped without (failed under OPENIM_TEST_STRICT=1) or as non-root.
func image(t *testing.T) (string, *imageConfig) {
	t.Helper()
	rootfs, cfgFile := os.Getenv("OPENIM_IMAGE_ROOTFS"), os.Getenv("OPENIM_IMAGE_CONFIG")
	why := ""
	switch {
	case rootfs == "" || cfgFile == "":
		why = "OPENIM_IMAGE_ROOTFS and OPENIM_IMAGE_CONFIG are not set (scripts/test.d/60-helm.sh builds and unpacks the image)"
	case os.Geteuid() != 0:
		why = "running a container needs root"
	}
	if why != "" {
		if os.Getenv("OPENIM_TEST_STRICT") == "1" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	b, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	var ic imageConfig
	if err := json.Unmarshal(b, &ic); err != nil {
		t.Fatalf("%s: %v", cfgFile, err)
	}
	return rootfs, &ic
}

// emptyDir makes a directory owned by the pod's fsGroup, as the kubelet does.
func emptyDir(t *testing.T, gid int) string {
	t.Helper()
	d, err := os.MkdirTemp(t.TempDir(), "vol")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(d, 0, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o2775); err != nil {
		t.Fatal(err)
	}
	return d
}
