package cli

// startHint is how the user starts the supervisor on this OS.
const startHint = "systemctl start openim-server"
