//go:build !amd64 || purego

package face

const haveAVX, haveAVX512 = false, false

func addLeavesAVX(cur *float32, leaves *float32, offs *int32, n int) {
	panic("face: addLeavesAVX without amd64")
}

func addLeavesAVX512(cur *float32, leaves *float32, offs *int32, n int) {
	panic("face: addLeavesAVX512 without amd64")
}
