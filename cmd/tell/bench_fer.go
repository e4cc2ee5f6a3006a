package main

import (
	"context"
	"fmt"

	"github.com/tell-project/tell/appearance"
	"github.com/tell-project/tell/eval"
	"github.com/tell-project/tell/internal/cli"
	"github.com/tell-project/tell/models"
)

// runFerBenchmark is `tell bench fer IMAGE... --appearance faceapi|human`, the
// counterpart of the bench folder's tfjs/fer.js: images decoded to the
// same pixels (JPEG as jpeg-js decodes it), the same lines (seven
// probabilities per image in the order angry disgust fear happy sad
// surprise neutral, each image taken whole as the face crop), then
// tell_fer_ms= (median per image of resampling plus the forward pass,
// after three warm-up runs, one face at a time) instead of tfjs_<model>_ms=.
func runFerBenchmark(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet("bench fer")
	model := fs.String("appearance", "faceapi", "`NAME` pretrained appearance model: faceapi or human")
	dir := fs.String("models", "", "`DIR` folder of the pretrained models (default $TELL_MODELS, else ~/.local/share/tell/models)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return cli.Usagef("want at least one IMAGE")
	}
	m, err := models.ByName(*model)
	if err != nil {
		return cli.Usagef("--appearance: %v", err)
	}
	net, err := appearance.Load(models.Root(*dir), m)
	if err != nil {
		return err
	}
	ms, err := eval.FER(ctx, net, pos, func(path string, p appearance.Probs) {
		fmt.Fprint(env.Stdout, path)
		for _, v := range p {
			fmt.Fprintf(env.Stdout, " %.6f", v)
		}
		fmt.Fprintln(env.Stdout)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "tell_fer_ms=%.3f\n", ms)
	return nil
}
