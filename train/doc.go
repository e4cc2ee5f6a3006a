// Package train trains and evaluates tell's recognisers under
// subject-independent protocols. It owns everything around a model:
// reading and preparing manifests (flow images, onset→apex flow from frames,
// aligned faces; cached), the protocols (leave-one-subject-out, subject
// k-fold, holdout; dataset.LOSO and friends refuse subjects on both sides),
// the run loop (folds in parallel, one log per fold, resumption after a
// kill), seed ensembles, an optional validation split of training subjects,
// metrics (pooled UF1/UAR with subject-bootstrap intervals, per dataset) and
// the model files it writes (package model's Classifier, whose contract and
// input preparation package model owns, so that inference needs nothing
// of this package).
//
// Model families plug in through Family (package cnn: the default shallow
// CNN; package merclip: the MER-CLIP transformer). A family's Fit receives
// a FitData built from a fold's training rows only: no test row, label or
// score reaches it, so nothing can select an epoch, a checkpoint or a
// setting by test-fold scores. The optional validation split (Config
// .Validation) holds out whole training subjects, never test subjects.
//
// Augmentations for flow inputs (Mirror, MirrorAUs, Jitter) live here so
// that families share them.
//
// Limits: every prepared input is held in memory (28×28×3 float32 per row:
// 9 KB; 100,000 rows take about 1 GB); the per-dataset scores need the
// manifest's dataset column; rows whose label is empty cannot train.
package train
