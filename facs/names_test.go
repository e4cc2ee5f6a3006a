package facs

import (
	"fmt"
	"testing"
)

// TestEmotionWords: the one table of emotion words answers each reader as
// its old copy did — labels (dataset sheets, class names), prose (the
// conclusion Des2Exp reads) and models' free answers — and keeps the words
// that would misread apart: "smile" is no label and no word of a
// conclusion (ours say "a one-sided smile" of contempt), "sur" and "po"
// are abbreviations of sheets only, "other" no word of an answer.
func TestEmotionWords(t *testing.T) {
	tests := []struct {
		word          string
		label         string // Emotion
		prose, answer string // EmotionInProse, EmotionInAnswer ("" = not a word there)
	}{
		{"Happy", Happiness, Happiness, Happiness},
		{" happiness ", Happiness, Happiness, Happiness},
		{"joy", Happiness, Happiness, Happiness},
		{"smile", "smile", "", Happiness},
		{"smiling", "smiling", "", Happiness},
		{"sur", Surprise, "", ""},
		{"Surprised", Surprise, Surprise, Surprise},
		{"po", Positive, "", ""},
		{"pos", Positive, "", ""},
		{"ne", Negative, "", ""},
		{"NEG", Negative, "", ""},
		{"negative", Negative, Negative, Negative},
		{"Other", Others, Others, ""},
		{"others", Others, Others, Others},
		{"disgusted", Disgust, Disgust, Disgust},
		{"afraid", Fear, Fear, Fear},
		{"anxious", "anxious", "", Fear},
		{"contemptuous", Contempt, Contempt, Contempt},
		{"Repressed", Repression, Repression, Repression},
		{"suppressed", "suppressed", "", Repression},
		{"neutral", Neutral, Neutral, Neutral},
		{"tense", "tense", "", "tense"},
		{"Tension", "tension", "", "tense"},
		{"Happy Face", "happy face", "", ""},
		{"", "", "", ""},
	}
	for _, tc := range tests {
		if got := Emotion(tc.word); got != tc.label {
			t.Errorf("Emotion(%q) = %q, want %q", tc.word, got, tc.label)
		}
		got, ok := EmotionInProse(tc.word)
		if got != tc.prose || ok != (tc.prose != "") {
			t.Errorf("EmotionInProse(%q) = %q, %v; want %q", tc.word, got, ok, tc.prose)
		}
		got, ok = EmotionInAnswer(tc.word)
		if got != tc.answer || ok != (tc.answer != "") {
			t.Errorf("EmotionInAnswer(%q) = %q, %v; want %q", tc.word, got, ok, tc.answer)
		}
	}
}

// TestEmotionWordsNameEmotions: every word of the table names one of
// tell's emotion labels (or "tense"), and each label is a word of its own
// in every reader.
func TestEmotionWordsNameEmotions(t *testing.T) {
	names := map[string]bool{"tense": true}
	for _, e := range []string{Happiness, Sadness, Surprise, Fear, Anger, Disgust, Contempt, Repression, Neutral, Others, Positive, Negative} {
		names[e] = true
		if w, ok := emotionWords[e]; !ok || w.name != e || e != "tense" && w.in != inLabel|inProse|inAnswer {
			t.Errorf("label %q: %+v, want itself in every reader", e, w)
		}
	}
	for word, w := range emotionWords {
		if !names[w.name] {
			t.Errorf("%q names %q, not an emotion label", word, w.name)
		}
		if w.in == 0 {
			t.Errorf("%q counts nowhere", word)
		}
	}
}

func ExampleEmotion() {
	fmt.Println(Emotion("Happy"), Emotion("sur"), Emotion("po"), Emotion("Other"))
	// Output: happiness surprise positive others
}
