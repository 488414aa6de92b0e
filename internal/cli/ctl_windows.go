package cli

// startHint is how the user starts the supervisor on this OS.
const startHint = "openim-supervisor service start (or openim-supervisor run in the foreground)"

// permHint is what to do when the control pipe refuses the user.
const permHint = "run the command from an elevated (Administrator) prompt"
