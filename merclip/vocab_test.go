package merclip

import (
	"fmt"
	"reflect"
	"testing"
)

func TestVocabEncodeDecode(t *testing.T) {
	corpus := []string{
		"This micro-expression involves {}.",
		"raising the inner part of the brows",
		"pulling the %s corner of the lips",
		"left", "right", "a combination of", "and",
	}
	v := NewVocab(corpus)
	// Built from the corpus in either order: same ids.
	rev := append([]string(nil), corpus...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	if !reflect.DeepEqual(v.List(), NewVocab(rev).List()) {
		t.Fatal("vocabulary depends on corpus order")
	}
	want := []string{"[pad]", "[unk]", "[cls]", "a", "and", "brows", "combination", "corner",
		"expression", "inner", "involves", "left", "lips", "micro", "of", "part", "pulling",
		"raising", "right", "s", "the", "this"}
	if !reflect.DeepEqual(v.List(), want) {
		t.Fatalf("vocabulary\n got %q\nwant %q", v.List(), want)
	}
	dst := make([]int32, 10)
	n := v.Encode("This micro-expression involves raising the INNER part of the brows.", dst)
	if n != 10 {
		t.Fatalf("n = %d, want 10 (cut at max length)", n)
	}
	if got := v.Decode(dst); got != "this micro expression involves raising the inner part of" {
		t.Fatalf("decode = %q", got)
	}
	n = v.Encode("pulling the purple corner", dst)
	if n != 5 || dst[3] != TokUnk || dst[5] != TokPad || dst[0] != TokCLS {
		t.Fatalf("unknown word: n=%d ids=%v", n, dst)
	}
	v2, err := VocabFromWords(v.List())
	if err != nil || !reflect.DeepEqual(v2.List(), v.List()) {
		t.Fatalf("restore: %v", err)
	}
	if _, err := VocabFromWords([]string{"a", "b", "c"}); err == nil {
		t.Error("vocabulary without special tokens accepted")
	}
	if _, err := VocabFromWords([]string{"[pad]", "[unk]", "[cls]", "a", "a"}); err == nil {
		t.Error("duplicate words accepted")
	}
}

func FuzzVocabEncode(f *testing.F) {
	v := NewVocab([]string{"raising the inner part of the brows", "and"})
	f.Add("raising the brows, and ...", 8)
	f.Add("", 0)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 64 {
			return
		}
		dst := make([]int32, n)
		k := v.Encode(s, dst)
		if k > n {
			t.Fatalf("k=%d > n=%d", k, n)
		}
		for _, id := range dst {
			if id < 0 || int(id) >= v.Size() {
				t.Fatalf("id %d out of range", id)
			}
		}
		_ = v.Decode(dst)
	})
}

func ExampleVocab() {
	v := NewVocab([]string{"This micro-expression involves {}.", "raising the brows"})
	ids := make([]int32, 8)
	v.Encode("This micro-expression involves raising the brows.", ids)
	fmt.Println(ids, v.Decode(ids))
	// Output: [2 9 6 4 5 7 8 3] this micro expression involves raising the brows
}
