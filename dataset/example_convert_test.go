package dataset_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tell-project/tell/dataset"
)

func ExampleConvertCASME2() {
	root, _ := os.MkdirTemp("", "casme2")
	defer os.RemoveAll(root)
	// A CSV export of the coding sheet (blank columns as in the original)
	// and one clip's frame folder.
	os.WriteFile(filepath.Join(root, "CASME2-coding-20140508.csv"), []byte(
		"Subject,Filename,,OnsetFrame,ApexFrame,OffsetFrame,,Action Units,Estimated Emotion\n"+
			"1,EP02_01f,,46,/,86,,L12+R14,happiness\n"), 0o644)
	clip := filepath.Join(root, "CASME2-RAW", "sub01", "EP02_01f")
	os.MkdirAll(clip, 0o755)
	for _, n := range []int{46, 66, 86} {
		os.WriteFile(filepath.Join(clip, fmt.Sprintf("img%d.jpg", n)), []byte("jpeg"), 0o644)
	}
	conv, err := dataset.ConvertCASME2(context.Background(), dataset.ConvertOptions{Root: root, Classes: dataset.Classes3})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := conv.Samples[0]
	fmt.Println(s.ID, s.Subject, s.Label, s.Onset, s.Apex, s.Offset, s.AUs)
	fmt.Println(len(conv.Notes), "note:", conv.Notes[0])
	// Output:
	// sub01/EP02_01f sub01 positive 46 66 86 L12+R14
	// 1 note: CASME2-coding-20140508.csv row 2 column E (ApexFrame): ApexFrame "/" unknown; using the midpoint frame 66
}
