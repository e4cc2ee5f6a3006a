package facs

import "strings"

// Where a word counts as an emotion's name (bits of emotionWord.in).
const (
	// inLabel: a class label as datasets' sheets, folder names and models
	// write it ("Happy", "sur", "po", "Other").
	inLabel = 1 << iota
	// inProse: a word that names the emotion in a sentence, as the
	// conclusion of a chain of thought does ("the face reads as anger").
	inProse
	// inAnswer: a word of a model's free answer that implies the emotion
	// ("smiling", "annoyed", "tense"), too loose to read our own
	// conclusions by (they say "a one-sided smile" of contempt).
	inAnswer
)

// emotionWords is tell's one table of emotion words: each word's emotion
// name (the constants above, plus "tense", which CAS(ME)^3 and models use)
// and where the word counts as that name.
var emotionWords = map[string]struct {
	name string
	in   int
}{
	Happiness: {Happiness, inLabel | inProse | inAnswer}, "happy": {Happiness, inLabel | inProse | inAnswer},
	"joy": {Happiness, inLabel | inProse | inAnswer}, "joyful": {Happiness, inLabel | inProse | inAnswer},
	"enjoyment": {Happiness, inLabel | inProse | inAnswer},
	"smile":     {Happiness, inAnswer}, "smiling": {Happiness, inAnswer}, "pleasure": {Happiness, inAnswer},
	"amusement": {Happiness, inAnswer}, "amused": {Happiness, inAnswer}, "delight": {Happiness, inAnswer},
	"delighted": {Happiness, inAnswer},

	Sadness: {Sadness, inLabel | inProse | inAnswer}, "sad": {Sadness, inLabel | inProse | inAnswer},
	"sorrow": {Sadness, inLabel | inProse | inAnswer}, "grief": {Sadness, inLabel | inProse | inAnswer},
	"unhappy": {Sadness, inAnswer}, "unhappiness": {Sadness, inAnswer},

	Surprise: {Surprise, inLabel | inProse | inAnswer}, "surprised": {Surprise, inLabel | inProse | inAnswer},
	"astonishment": {Surprise, inLabel | inProse | inAnswer}, "sur": {Surprise, inLabel},
	"astonished": {Surprise, inAnswer}, "amazement": {Surprise, inAnswer}, "amazed": {Surprise, inAnswer},
	"startle": {Surprise, inAnswer}, "startled": {Surprise, inAnswer},

	Fear: {Fear, inLabel | inProse | inAnswer}, "fearful": {Fear, inLabel | inProse | inAnswer},
	"afraid": {Fear, inLabel | inProse | inAnswer}, "scared": {Fear, inLabel | inProse | inAnswer},
	"frightened": {Fear, inAnswer}, "terror": {Fear, inAnswer}, "anxiety": {Fear, inAnswer}, "anxious": {Fear, inAnswer},

	Anger: {Anger, inLabel | inProse | inAnswer}, "angry": {Anger, inLabel | inProse | inAnswer},
	"rage":    {Anger, inLabel | inProse | inAnswer},
	"furious": {Anger, inAnswer}, "annoyance": {Anger, inAnswer}, "annoyed": {Anger, inAnswer},
	"irritation": {Anger, inAnswer}, "irritated": {Anger, inAnswer},

	Disgust: {Disgust, inLabel | inProse | inAnswer}, "disgusted": {Disgust, inLabel | inProse | inAnswer},
	"revulsion": {Disgust, inLabel | inProse | inAnswer}, "repulsed": {Disgust, inAnswer},

	Contempt: {Contempt, inLabel | inProse | inAnswer}, "contemptuous": {Contempt, inLabel | inProse | inAnswer},
	"scorn": {Contempt, inLabel | inProse | inAnswer}, "disdain": {Contempt, inAnswer},

	Repression: {Repression, inLabel | inProse | inAnswer}, "repressed": {Repression, inLabel | inProse | inAnswer},
	"suppression": {Repression, inAnswer}, "suppressed": {Repression, inAnswer},

	Neutral: {Neutral, inLabel | inProse | inAnswer}, "neutrality": {Neutral, inAnswer}, "expressionless": {Neutral, inAnswer},

	// "other" is a label, and our conclusions' word for it, but in a
	// model's free answer it is mostly the English word.
	Others: {Others, inLabel | inProse | inAnswer}, "other": {Others, inLabel | inProse},

	Positive: {Positive, inLabel | inProse | inAnswer}, "po": {Positive, inLabel}, "pos": {Positive, inLabel},
	Negative: {Negative, inLabel | inProse | inAnswer}, "ne": {Negative, inLabel}, "neg": {Negative, inLabel},

	"tense": {"tense", inAnswer}, "tension": {"tense", inAnswer},
}

// lookupWord looks s up, case-insensitively and trimmed, among the words that
// count in where.
func lookupWord(s string, where int) (string, bool) {
	w, ok := emotionWords[strings.ToLower(strings.TrimSpace(s))]
	if !ok || w.in&where == 0 {
		return "", false
	}
	return w.name, true
}

// Emotion returns tell's name of an emotion label as datasets, folder
// names and models write it ("Happy" → "happiness", "sur" → "surprise",
// "po" → "positive", "Other" → "others"); a label it does not know comes
// back lower-cased and trimmed.
func Emotion(label string) string {
	if name, ok := lookupWord(label, inLabel); ok {
		return name
	}
	return strings.ToLower(strings.TrimSpace(label))
}

// EmotionInProse returns the emotion a word of a sentence names
// ("afraid" → "fear"), for reading a chain of thought's conclusion; ok is
// false for other words, abbreviations ("sur") and words that only imply
// an emotion ("smile").
func EmotionInProse(word string) (string, bool) { return lookupWord(word, inProse) }

// EmotionInAnswer returns the emotion a word of a model's free answer
// names or implies ("smiling" → "happiness", "tense" → "tense"); ok is
// false for other words, for dataset abbreviations and for "other".
func EmotionInAnswer(word string) (string, bool) { return lookupWord(word, inAnswer) }
