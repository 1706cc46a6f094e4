package etcd

import "testing"

func TestRangeEnd(t *testing.T) {
	cases := []struct{ prefix, want string }{
		{"", "\x00"},
		{"/registry/pods/", "/registry/pods0"},
		{"a", "b"},
		{"a\xff", "b"},
		{"\xff\xff", "\x00"},
	}
	for _, c := range cases {
		if got := rangeEnd(c.prefix); got != c.want {
			t.Errorf("rangeEnd(%q) = %q, want %q", c.prefix, got, c.want)
		}
	}
}
