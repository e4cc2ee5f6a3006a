// Package model owns the contract of the model files tell trains and runs:
// the classifier file (Classifier: a seed ensemble of one family in one
// safetensors file, readable from Python), the family interface through
// which model families plug in (Family, Net, Spec), the part of a training
// configuration a model needs at inference (Config: family, input,
// hyper-parameters), and the preparation of a model's input from frames or
// images (FlowFromFrames, FlowImageInput, GreyInput), shared by training
// (package train, `tell prepare`) and inference (`tell analyze --model`).
//
// It sits between perception and training: it imports only perception
// leaves (nn, flow, face, raster), and the families (packages cnn and
// merclip) register into it by being listed in a Families value that the
// program builds, so code that runs models (package analyze) never links a
// training loop, a dataset reader or a family it was not given.
//
// Package models (plural) is another matter: the pretrained third-party
// files tell can run (npm pins, install folder).
//
// Limits: a model file holds one family and one input kind; the families a
// file may name are those the caller lists.
package model
