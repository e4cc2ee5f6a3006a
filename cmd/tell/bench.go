package main

import "github.com/tell-project/tell/internal/cli"

// benchCommand is `tell bench TARGET`; each target is defined in its own
// bench_NAME.go file.
func benchCommand() cli.Command {
	return cli.Command{
		Name:    "bench",
		Summary: "measure a component against its peer (fer, flow, landmarks, nn), on synthetic truth (au) or on coded clips (spot)",
		Usage: "Usage: tell bench TARGET [flags] [arguments]\n\n" +
			"Measures one part of tell and prints name=value lines, the headline figure last,\n" +
			"in the same interface as the peer programs in the project's bench folder.",
		Target: "benchmark target",
		Targets: []cli.Command{
			landmarksBenchmark(),
			ferBenchmark(),
			auBenchmark(),
			spotBenchmark(),
			cotBenchmark(),
			{Name: "flow", Summary: "TV-L1 optical flow A.png B.png [--gt gt.flo] [--out f.flo] [--preset default|fast]: epe=, tell_tvl1_ms=", Run: benchFlow},
			{Name: "nn", Summary: "one training step of the reference MER model [--threads N] [--batch N]: tell_step_ms=", Run: benchNN},
		},
	}
}
