package blazeface

import (
	"math"
	"sort"
)

// Box is an axis-aligned box in pixels: X0,Y0 the top-left corner, X1,Y1
// the bottom-right.
type Box struct{ X0, Y0, X1, Y1 float64 }

// W is the box's width.
func (b Box) W() float64 { return b.X1 - b.X0 }

// H is the box's height.
func (b Box) H() float64 { return b.Y1 - b.Y0 }

// IoU is the intersection over union of a and b, 0 when either is empty.
// Corners may come in any order, as TensorFlow's non-max suppression
// allows.
func IoU(a, b Box) float64 {
	ax0, ax1 := math.Min(a.X0, a.X1), math.Max(a.X0, a.X1)
	ay0, ay1 := math.Min(a.Y0, a.Y1), math.Max(a.Y0, a.Y1)
	bx0, bx1 := math.Min(b.X0, b.X1), math.Max(b.X0, b.X1)
	by0, by1 := math.Min(b.Y0, b.Y1), math.Max(b.Y0, b.Y1)
	areaA := (ax1 - ax0) * (ay1 - ay0)
	areaB := (bx1 - bx0) * (by1 - by0)
	if areaA <= 0 || areaB <= 0 {
		return 0
	}
	iw := math.Min(ax1, bx1) - math.Max(ax0, bx0)
	ih := math.Min(ay1, by1) - math.Max(ay0, by0)
	if iw <= 0 || ih <= 0 {
		return 0
	}
	inter := iw * ih
	return inter / (areaA + areaB - inter)
}

// NMS is greedy non-maximum suppression as TensorFlow's
// image.nonMaxSuppression does it: candidates scoring above minScore are
// taken from the highest score down (ties: the lower index first), and a
// candidate is kept when its IoU with every box kept before it is below
// iou; at most max are kept (max ≤ 0: no limit). It returns the indices
// kept, in the order kept.
func NMS(boxes []Box, scores []float32, iou float64, minScore float32, max int) []int {
	order := make([]int, 0, len(boxes))
	for i, s := range scores {
		if s > minScore {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] > scores[order[b]] })
	var keep []int
	for _, i := range order {
		if max > 0 && len(keep) >= max {
			break
		}
		ok := true
		for _, k := range keep {
			if IoU(boxes[i], boxes[k]) >= iou {
				ok = false
				break
			}
		}
		if ok {
			keep = append(keep, i)
		}
	}
	return keep
}
