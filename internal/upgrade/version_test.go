package upgrade

import "testing"

func TestParseVersion(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want string // "" = error
	}{
		{"3.8.3", "3.8.3"},
		{"v3.8.3", "3.8.3"},
		{"3.8.3-patch.16", "3.8.3"},
		{"v3.8.3-patch.16", "3.8.3"},
		{"3.8.3-1", "3.8.3"},         // Debian revision
		{"3.8.3-1.el9", "3.8.3"},     // rpm release
		{"3.8.3-2+deb12u1", "3.8.3"}, // Debian security revision
		{"3.8.3-r2", "3.8.3"},        // apk
		{"1:3.8.3-1", "3.8.3"},       // dpkg epoch
		{"3.8.3-rc.1", "3.8.3"},      // prerelease: core compared
		{"3.5", "3.5.0"},
		{" 3.4.2 ", "3.4.2"},
		{"2.3.9", "2.3.9"},
		{"", ""},
		{"latest", ""},
		{"3.x", ""},
	}
	for _, c := range cases {
		v, err := ParseVersion(c.in)
		if c.want == "" {
			if err == nil {
				t.Errorf("ParseVersion(%q) = %s, want error", c.in, v)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", c.in, err)
			continue
		}
		if v.String() != c.want {
			t.Errorf("ParseVersion(%q) = %s, want %s", c.in, v, c.want)
		}
	}
	a, _ := ParseVersion("3.8.3-patch.16")
	b, _ := ParseVersion("3.8.3-1")
	if !a.Equal(b) {
		t.Errorf("3.8.3-patch.16 and 3.8.3-1 must compare equal (core versions)")
	}
}
