package openimtest

import "syscall"

// stopWithTest makes the kernel send SIGTERM to the started process when
// the test binary dies without its cleanups (a panic, a timeout): the
// supervisor then stops the OpenIM set it runs instead of outliving the test.
func stopWithTest(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGTERM }
