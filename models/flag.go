package models

import "flag"

// DirVar defines --models on fs, the folder of the pretrained models that
// Root resolves, storing it in p: one flag, one description, for every
// command that loads them.
func DirVar(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "models", "", "`DIR` folder of the pretrained models (default $TELL_MODELS, else ~/.local/share/tell/models)")
}
