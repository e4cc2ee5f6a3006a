// Command synthflows writes a synthetic flow-image manifest for training
// and timing runs of tell train (train.WriteSynth): either the shape of
// the MEGC2019 composite (442 samples, 68 subjects) or N subjects with K
// samples per class.
//
//	go run ./train/internal/synthflows -out DIR -megc2019
//	go run ./train/internal/synthflows -out DIR -subjects 10 -per-class 4
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tell-project/tell/train"
)

func main() {
	out := flag.String("out", "", "output folder")
	megc := flag.Bool("megc2019", false, "442 samples, 68 subjects, 250/109/83 negative/positive/surprise")
	subjects := flag.Int("subjects", 10, "subjects (without -megc2019)")
	perClass := flag.Int("per-class", 4, "samples per class per subject (without -megc2019)")
	seed := flag.Int64("seed", 1, "seed")
	shuffle := flag.Bool("shuffle-labels", false, "permute labels (the control that must stay at chance)")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "synthflows: -out is required")
		os.Exit(2)
	}
	opt := train.SynthOptions{Seed: *seed, ShuffleLabels: *shuffle}
	if *megc {
		opt.Subjects, opt.Datasets = train.SynthMEGC2019(*seed)
	} else {
		opt.Subjects = train.SynthSubjects(*subjects, *perClass)
	}
	path, err := train.WriteSynth(*out, opt)
	if err != nil {
		fmt.Fprintln(os.Stderr, "synthflows:", err)
		os.Exit(1)
	}
	fmt.Println(path)
}
