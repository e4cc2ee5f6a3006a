package dataset

import (
	"fmt"
	"strings"

	"github.com/tell-project/tell/facs"
)

// Class schemes for ConvertOptions.Classes.
const (
	ClassesEmotion   = ""          // the sheet's own emotion, normalised
	Classes3         = "3"         // MEGC2019: negative, positive, surprise
	Classes4         = "4"         // CAS(ME)^3: negative, positive, surprise, others
	Classes5         = "5"         // CASME II or SAMM 5-class
	Classes7         = "7"         // CAS(ME)^3 7-class
	ClassesObjective = "objective" // Davison et al.'s objective classes I..VII
)

// schemeClasses lists, per dataset, the schemes it supports and the
// classes each keeps (nil: computed, not a fixed list).
var schemeClasses = map[string]map[string][]string{
	"casme2": {
		Classes5:         {facs.Happiness, facs.Disgust, facs.Repression, facs.Surprise, facs.Others},
		Classes3:         {facs.Negative, facs.Positive, facs.Surprise},
		ClassesObjective: nil,
	},
	"samm": {
		Classes5:         {facs.Anger, facs.Contempt, facs.Happiness, facs.Surprise, facs.Others},
		Classes3:         {facs.Negative, facs.Positive, facs.Surprise},
		ClassesObjective: nil,
	},
	"smic": {
		Classes3: {facs.Negative, facs.Positive, facs.Surprise},
	},
	"casme3": {
		Classes7:         {facs.Happiness, facs.Disgust, facs.Fear, facs.Anger, facs.Sadness, facs.Surprise, facs.Others},
		Classes4:         {facs.Negative, facs.Positive, facs.Surprise, facs.Others},
		Classes3:         {facs.Negative, facs.Positive, facs.Surprise},
		ClassesObjective: nil,
	},
}

// checkScheme reports an error when the dataset has no such class scheme.
func checkScheme(dataset, scheme string) error {
	if scheme == ClassesEmotion {
		return nil
	}
	if _, ok := schemeClasses[dataset][scheme]; ok {
		return nil
	}
	var have []string
	for _, s := range []string{Classes3, Classes4, Classes5, Classes7, ClassesObjective} {
		if _, ok := schemeClasses[dataset][s]; ok {
			have = append(have, s)
		}
	}
	return fmt.Errorf("%s has no %q class scheme (have: %s)", dataset, scheme, strings.Join(have, ", "))
}

var romans = []string{"I", "II", "III", "IV", "V", "VI", "VII"}

// normObjective reads an objective-class cell ("II", "2", "Class II").
func normObjective(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	s = strings.TrimSpace(strings.TrimPrefix(s, "CLASS"))
	for i, r := range romans {
		if s == r || s == fmt.Sprint(i+1) {
			return r, true
		}
	}
	return "", false
}

// mapClass returns the label of a sample under the scheme, or ok=false when
// the scheme leaves the sample out. emotion is normalised; objective is the
// sheet's own objective class ("" when it has none).
func mapClass(dataset, scheme, emotion string, code facs.Code, objective string) (string, bool) {
	switch scheme {
	case ClassesEmotion:
		return emotion, emotion != ""
	case ClassesObjective:
		if r, ok := normObjective(objective); ok {
			return r, true
		}
		return facs.Objective(code).String(), true
	case Classes3:
		if dataset == "smic" {
			switch emotion {
			case facs.Positive, facs.Negative, facs.Surprise:
				return emotion, true
			}
			return "", false
		}
		return facs.ThreeClass(emotion, dataset)
	case Classes4:
		if emotion == facs.Others {
			return facs.Others, true
		}
		return facs.ThreeClass(emotion, dataset)
	}
	for _, c := range schemeClasses[dataset][scheme] {
		if c == emotion {
			return c, true
		}
	}
	return "", false
}
