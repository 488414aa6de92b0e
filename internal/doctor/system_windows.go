package doctor

import "errors"

func diskSpace(string) (uint64, uint64, error) { return 0, 0, errNoStatfs }

func ownNofile() (uint64, error) {
	return 0, errors.New("Windows has no open-file limit like ulimit -n")
}
