package video

import "testing"

// TestSniff: each known signature, and look-alikes that are none.
func TestSniff(t *testing.T) {
	bmp := make([]byte, 30)
	copy(bmp, "BM")
	bmp[14] = 40
	cases := []struct {
		head      string
		ext, kind string
	}{
		{"\x89PNG\r\n\x1a\n....", ".png", "image"},
		{"\xff\xd8\xff\xe0", ".jpg", "image"},
		{string(bmp), ".bmp", "image"},
		{"\x00\x00\x00\x20ftypisom", ".mp4", "video"},
		{"\x00\x00\x00\x14ftypqt  ", ".mov", "video"},
		{"\x1a\x45\xdf\xa3\x01", ".mkv", "video"},
		{"RIFF\x00\x00\x00\x00AVI LIST", ".avi", "video"},
		{"\x00\x00\x01\xba\x44", ".mpg", "video"},
		{"GIF89a", ".gif", "video"},
		{"GIF87a\x10\x00", ".gif", "video"},
		{"GIF8", "", ""},
		{"BM short", "", ""},
		{"RIFF\x00\x00\x00\x00WAVEfmt ", "", ""},
		{"<html>", "", ""},
		{"", "", ""},
		{"\x89PN", "", ""},
	}
	for _, tc := range cases {
		ext, kind := Sniff([]byte(tc.head))
		if ext != tc.ext || kind != tc.kind {
			t.Errorf("Sniff(%q) = %q %q, want %q %q", tc.head, ext, kind, tc.ext, tc.kind)
		}
	}
}
