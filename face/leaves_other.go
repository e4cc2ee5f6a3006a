//go:build !amd64

package face

const haveAVX = false

func addLeavesAVX(cur *float32, leaves *float32, offs *int32, n int) {
	panic("face: addLeavesAVX without amd64")
}
