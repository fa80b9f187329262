// Traps in memberlist 0.2.2 that grapevine's codec guards against, recorded by golden_test.go
// as comments in memberlist_golden.inc (so a Debian update that fixes them shows up in a diff).
// Each probe runs memberlist's own receive code on a hostile input and reports what happened.
package memberlist

import (
	"fmt"
	"log"
	"net"
	"os"
	"time"
)

func probe(f func() string) (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = fmt.Sprintf("panic: %v", r)
		}
	}()
	return f()
}

func traps() []string {
	m := &Memberlist{config: DefaultLANConfig(), logger: log.New(os.Stderr, "", 0)}
	from := &net.UDPAddr{IP: net.IP{127, 0, 0, 1}, Port: 1}
	ingest := func(b []byte) func() string {
		return func() string { m.ingestPacket(b, from, time.Now()); return "no panic" }
	}
	empty, _ := compressPayload(nil)
	var parts [][]byte
	for i := 0; i < 200; i++ {
		parts = append(parts, []byte{byte(i), byte(i)})
	}
	compound := makeCompoundMessage(parts).Bytes()
	return []string{
		"udp [12 0 0 0 0] (CRC of an empty message): " + probe(ingest([]byte{12, 0, 0, 0, 0})),
		"udp compound with a zero-length part: " + probe(ingest([]byte{7, 1, 0, 0})),
		"udp compress of an empty payload: " + probe(ingest(empty.Bytes())),
		"compound of 200 parts decodes part 0 as: " + probe(func() string {
			_, p, err := decodeCompoundMessage(compound[1:])
			return fmt.Sprintf("%v (sent [0 0]), part 199 as %v (sent [199 199]), err %v", p[0], p[199], err)
		}),
		"pushPullHeader{Nodes: -1} then make([]pushNodeState, Nodes): " + probe(func() string {
			var h pushPullHeader
			if err := decode([]byte{0x81, 0xa5, 'N', 'o', 'd', 'e', 's', 0xff}, &h); err != nil {
				return err.Error()
			}
			_ = make([]pushNodeState, h.Nodes)
			return "no panic"
		}),
	}
}
