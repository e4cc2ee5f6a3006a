package video

// Sniff recognises an image or video file from its first bytes (512 are
// enough) and returns the file extension that decides how Open reads it
// and its kind ("image" or "video"); ext is "" for anything else.
func Sniff(head []byte) (ext, kind string) {
	has := func(off int, sig string) bool {
		return len(head) >= off+len(sig) && string(head[off:off+len(sig)]) == sig
	}
	switch {
	case has(0, "\x89PNG\r\n\x1a\n"):
		return ".png", "image"
	case has(0, "\xff\xd8\xff"):
		return ".jpg", "image"
	case has(0, "BM") && len(head) >= 18 && bmpInfoSize(head[14:18]):
		return ".bmp", "image"
	case has(4, "ftyp"):
		if has(8, "qt  ") {
			return ".mov", "video"
		}
		return ".mp4", "video"
	case has(0, "\x1a\x45\xdf\xa3"):
		return ".mkv", "video"
	case has(0, "RIFF") && has(8, "AVI "):
		return ".avi", "video"
	case has(0, "\x00\x00\x01\xba"), has(0, "\x00\x00\x01\xb3"):
		return ".mpg", "video"
	case has(0, "GIF87a"), has(0, "GIF89a"):
		// A GIF is read as a video (its delays give the times; one of a
		// single frame is analysed as an image).
		return ".gif", "video"
	}
	return "", ""
}

// bmpInfoSize checks the BMP info header's size field: "BM" alone starts
// too many text files.
func bmpInfoSize(b []byte) bool {
	n := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
	switch n {
	case 12, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}
