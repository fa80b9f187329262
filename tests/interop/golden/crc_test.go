// Helper for golden_test.go: CRC32-IEEE as memberlist's UDP CRC header writes it (big-endian).
package memberlist

import (
	"encoding/binary"
	"hash/crc32"
)

func crc32IEEE(b []byte) []byte {
	out := make([]byte, 4)
	binary.BigEndian.PutUint32(out, crc32.ChecksumIEEE(b))
	return out
}
