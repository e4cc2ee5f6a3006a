//go:build !amd64 || purego

package au

// laneAsm is false: no assembly in this build.
var laneAsm = false

func laneMean(b []float32, m int, sum *[lanes]float32) { laneMeanGo(b, m, sum) }

func laneDot(b, t []float32, m int, mean, it2 *[lanes]float32) { laneDotGo(b, t, m, mean, it2) }

func laneResid(b, t, gx, gy []float32, m int, s *laneSums) { laneResidGo(b, t, gx, gy, m, s) }

// setLaneAsm switches the assembly for tests: there is none.
func setLaneAsm(bool) {}

// sampleRows does nothing in this build: sampleLane samples in Go.
func sampleRows(pix []float32, o, s, n int, w *[4]float32, buf []float32, l int) bool { return false }

// cropAsm is false: Crop samples in Go.
const cropAsm = false

func cropRowAVX2(a *cropArgs) { a.done = 0 }

// setCropAsm switches the crop assembly for tests: there is none.
func setCropAsm(bool) {}

func blur3(out, p, q, r []float32) { blur3Go(out, p, q, r) }

func halve(out, r0, r1 []float32) { halveGo(out, r0, r1) }

func flowRowAVX2(a *cropArgs) { a.done = 0 }
