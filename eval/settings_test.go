package eval

import (
	"strings"
	"testing"
)

func TestAppearanceSettingsValidate(t *testing.T) {
	for _, c := range []struct {
		s    AppearanceSettings
		want string
	}{
		{AppearanceSettings{Net: "faceapi", Face: FaceFull}, ""},
		{AppearanceSettings{Net: "human", Face: FaceAuto}, ""},
		{AppearanceSettings{Net: "nope", Face: FaceFull}, "--appearance: "},
		{AppearanceSettings{Net: "faceapi", Face: "whole"}, "--face whole is now called full"},
		{AppearanceSettings{Net: "faceapi", Face: "detect"}, `--face "detect"`},
	} {
		err := c.s.Validate()
		if (err == nil) != (c.want == "") || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.s, err, c.want)
		}
	}
}
