package notify

import "os"

// socketSet reports whether systemd gave us a notify socket.
func socketSet() bool { return os.Getenv("NOTIFY_SOCKET") != "" }
