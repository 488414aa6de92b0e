//go:build !linux && !windows && !darwin

package service

// New reports that this OS has no service manager integration.
func New(opts Options) (Manager, error) {
	return nil, ErrUnsupported
}
