// Golden vectors for grapevine's memberlist codec (src/wire/memberlist/), produced by
// HashiCorp memberlist's own code. generate.sh copies this file into a scratch copy of
// memberlist's package (Debian's golang-github-hashicorp-memberlist-dev 0.2.2, with
// go-msgpack 0.5.5) so it can call the unexported encoders, and runs it offline as a Go test.
// Output: a C++ include (one {"name", "hex"} entry per vector) written to $GOLDEN_OUT.
//
// crypto/rand.Reader is replaced by a fixed nonce source so encryptions are reproducible;
// everything else is memberlist's code path as it runs in a cluster.
package memberlist

import (
	"bytes"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/codec"
)

type goldenWriter struct{ out strings.Builder }

func (g *goldenWriter) add(name string, b []byte) {
	h := hex.EncodeToString(b)
	fmt.Fprintf(&g.out, "{\"%s\",\n", name)
	if h == "" {
		g.out.WriteString(" \"\"")
	}
	for len(h) > 0 {
		n := 96
		if n > len(h) {
			n = len(h)
		}
		fmt.Fprintf(&g.out, " \"%s\"", h[:n])
		h = h[n:]
		if len(h) > 0 {
			g.out.WriteString("\n")
		}
	}
	g.out.WriteString("},\n")
}

func mustEncode(t *testing.T, typ messageType, v interface{}) []byte {
	buf, err := encode(typ, v)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// msgpackOnly encodes v with no type byte, as streams write headers and node states.
func msgpackOnly(t *testing.T, v interface{}) []byte {
	var buf bytes.Buffer
	hd := codec.MsgpackHandle{}
	if err := codec.NewEncoder(&buf, &hd).Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func seq(n int, start byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

var (
	key16 = seq(16, 0)
	key24 = seq(24, 0)
	key32 = seq(32, 0)
	nonce = seq(12, 0x10)
)

func fixNonce() { crand.Reader = bytes.NewReader(nonce) }

func messages(t *testing.T, g *goldenWriter) {
	v4 := []byte{10, 0, 0, 1}
	mapped := []byte(net.ParseIP("10.0.0.2").To16())
	v6 := []byte(net.ParseIP("fd00::1234").To16())
	vsn := []uint8{1, 5, 2, 0, 0, 0}
	long := strings.Repeat("n", 40)
	g.add("ping_doc", mustEncode(t, pingMsg, &ping{SeqNo: 1, Node: "node-b", SourceAddr: v4, SourcePort: 7946, SourceNode: "node-a"}))
	g.add("ping_minimal", mustEncode(t, pingMsg, &ping{SeqNo: 70000, Node: ""}))
	g.add("ping_mapped_long", mustEncode(t, pingMsg, &ping{SeqNo: 4294967295, Node: long, SourceAddr: mapped, SourcePort: 80, SourceNode: "a"}))
	g.add("indirect_full", mustEncode(t, indirectPingMsg, &indirectPingReq{SeqNo: 300, Target: v6, Port: 65535, Node: "node-c", Nack: true, SourceAddr: v4, SourcePort: 7946, SourceNode: "node-a"}))
	g.add("indirect_minimal", mustEncode(t, indirectPingMsg, &indirectPingReq{SeqNo: 2, Target: v4, Port: 7946, Node: "node-c"}))
	g.add("ack_doc", mustEncode(t, ackRespMsg, &ackResp{SeqNo: 1}))
	g.add("ack_payload", mustEncode(t, ackRespMsg, &ackResp{SeqNo: 128, Payload: seq(40, 1)}))
	g.add("nack", mustEncode(t, nackRespMsg, &nackResp{SeqNo: 65536}))
	g.add("err", mustEncode(t, errMsg, &errResp{Error: "remote node state is larger than limit"}))
	g.add("suspect", mustEncode(t, suspectMsg, &suspect{Incarnation: 7, Node: "node-b", From: "node-a"}))
	g.add("dead_leave", mustEncode(t, deadMsg, &dead{Incarnation: 256, Node: "node-a", From: "node-a"}))
	g.add("alive_doc", mustEncode(t, aliveMsg, &alive{Incarnation: 1, Node: "node-a", Addr: v4, Port: 7946, Meta: nil, Vsn: vsn}))
	g.add("alive_meta512_v6", mustEncode(t, aliveMsg, &alive{Incarnation: 99, Node: "node-6", Addr: v6, Port: 1, Meta: seq(512, 3), Vsn: []uint8{1, 5, 2, 2, 5, 4}}))
	g.add("push_pull_header", msgpackOnly(t, &pushPullHeader{Nodes: 200, UserStateLen: 70000, Join: true}))
	g.add("push_pull_header_small", msgpackOnly(t, &pushPullHeader{Nodes: 3, UserStateLen: 0, Join: false}))
	g.add("push_node_state", msgpackOnly(t, &pushNodeState{Name: "node-a", Addr: v4, Port: 7946, Meta: []byte("meta"), Incarnation: 3, State: StateDead, Vsn: vsn}))
	g.add("push_node_state_negative", msgpackOnly(t, &pushNodeState{Name: "x", State: NodeStateType(-1), Vsn: vsn}))
	g.add("user_msg_header", msgpackOnly(t, &userMsgHeader{UserMsgLen: 1000}))
	g.add("compress_struct", msgpackOnly(t, &compress{Algo: lzwAlgo, Buf: []byte("abc")}))
}

// decoded re-encodes what memberlist's decode() makes of a hand-written input: the C++ decoder
// must reach the same struct, so decode+encode on our side must give the same bytes.
func decoded(t *testing.T, g *goldenWriter, name, in string, typ messageType, v interface{}) {
	b, err := hex.DecodeString(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := decode(b, v); err != nil {
		t.Fatalf("%s: Go rejects it: %v", name, err)
	}
	g.add(name+"_in", b)
	g.add(name+"_out", mustEncode(t, typ, v))
}

func variants(t *testing.T, g *goldenWriter) {
	// alive as an array in declaration order, with str8, bin8 and int16/int32 forms (go-msgpack
	// v2 writes signed ints that way), an unknown trailing element.
	decoded(t, g, "alive_array", "97"+"d2000000ff"+"d9066e6f64652d61"+"c4040a000001"+"d11f0a"+"c0"+"c406010502000000"+"c0", aliveMsg, &alive{})
	// ping as a map with keys out of order, an unknown key holding a nested map, bin16 address
	decoded(t, g, "ping_shuffled", "86"+"aa536f75726365506f7274"+"cd1f0a"+"a5457874726181a178"+"92c3c2"+"a55365714e6f"+"cf0000000000000005"+"a44e6f6465"+"a0"+"aa536f7572636541646472"+"c500040a000009"+"a3466f6f"+"cb3ff0000000000000", pingMsg, &ping{})
	// pushPullHeader with v2's signed forms
	decoded(t, g, "push_pull_header_v2", "83"+"a54e6f646573"+"d100c8"+"ac5573657253746174654c656e"+"d200011170"+"a44a6f696e"+"01", pushPullMsg, &pushPullHeader{})
	// ackResp: nil map decodes to the zero struct
	decoded(t, g, "ack_nil", "c0", ackRespMsg, &ackResp{})
}

func compound(t *testing.T, g *goldenWriter) {
	a := mustEncode(t, aliveMsg, &alive{Incarnation: 1, Node: "node-a", Addr: []byte{10, 0, 0, 1}, Port: 7946, Vsn: []uint8{1, 5, 2, 0, 0, 0}})
	p := mustEncode(t, pingMsg, &ping{SeqNo: 9, Node: "node-b"})
	u := append([]byte{byte(userMsg)}, []byte("hello user")...)
	g.add("compound_three", makeCompoundMessage([][]byte{p, a, u}).Bytes())
	g.add("crc32_ieee_input", []byte("The quick brown fox jumps over the lazy dog"))
	crc := crc32IEEE([]byte("The quick brown fox jumps over the lazy dog"))
	g.add("crc32_ieee_value", crc)
}

func lzwInputs() map[string][]byte {
	r := rand.New(rand.NewSource(42))
	random := make([]byte, 20000) // > 4096 codes: exercises the clear code at 4095
	r.Read(random)
	repetitive := bytes.Repeat([]byte("memberlist gossip "), 3000)
	zeros := make([]byte, 100000) // long runs: codes up to 12 bits, strings up to ~450 bytes
	text := []byte("TOBEORNOTTOBEORTOBEORNOT#")
	return map[string][]byte{"empty": {}, "one": {'a'}, "text": text, "random": random, "repetitive": repetitive, "zeros": zeros}
}

func lzwVectors(t *testing.T, g *goldenWriter) {
	for _, name := range []string{"empty", "one", "text", "random", "repetitive", "zeros"} {
		in := lzwInputs()[name]
		out, err := compressPayload(in)
		if err != nil {
			t.Fatal(err)
		}
		// compressPayload gives [9][msgpack compress{Algo, Buf}]; the raw stream is Buf.
		var c compress
		if err := decode(out.Bytes()[1:], &c); err != nil {
			t.Fatal(err)
		}
		g.add("lzw_"+name, c.Buf)
		if name == "text" || name == "empty" {
			g.add("compress_msg_"+name, out.Bytes())
		}
	}
}

func cryptoVectors(t *testing.T, g *goldenWriter) {
	msg := []byte("grapevine speaks memberlist")
	for _, key := range [][]byte{key16, key24, key32} {
		for _, vsn := range []encryptionVersion{0, 1} {
			for _, aad := range []string{"", "prod"} {
				fixNonce()
				var buf bytes.Buffer
				var data []byte
				if aad != "" {
					data = []byte(aad)
				}
				if err := encryptPayload(vsn, key, msg, data, &buf); err != nil {
					t.Fatal(err)
				}
				g.add(fmt.Sprintf("aes%d_v%d_aad%s", len(key)*8, vsn, aad), buf.Bytes())
			}
		}
	}
	g.add("aes_plain", msg)
}

// fakeConn collects what memberlist writes to a stream.
type fakeConn struct {
	net.Conn
	buf bytes.Buffer
}

func (c *fakeConn) Write(b []byte) (int, error)      { return c.buf.Write(b) }
func (c *fakeConn) SetDeadline(time.Time) error      { return nil }
func (c *fakeConn) Close() error                     { return nil }
func (c *fakeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *fakeConn) Read(b []byte) (int, error)       { return 0, io.EOF }
func (c *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }

// fakeTransport collects what memberlist sends as packets.
type fakeTransport struct {
	NodeAwareTransport
	sent [][]byte
}

func (f *fakeTransport) WriteToAddress(b []byte, a Address) (time.Time, error) {
	f.sent = append(f.sent, append([]byte(nil), b...))
	return time.Now(), nil
}

type stateDelegate struct{ state []byte }

func (d *stateDelegate) NodeMeta(int) []byte                    { return nil }
func (d *stateDelegate) NotifyMsg([]byte)                       {}
func (d *stateDelegate) GetBroadcasts(int, int) [][]byte        { return nil }
func (d *stateDelegate) LocalState(join bool) []byte            { return d.state }
func (d *stateDelegate) MergeRemoteState(buf []byte, join bool) {}

func newTestMemberlist(t *testing.T, keyring *Keyring, compression bool) (*Memberlist, *fakeTransport) {
	cfg := DefaultLANConfig()
	cfg.Keyring = keyring
	cfg.EnableCompression = compression
	cfg.Delegate = &stateDelegate{state: []byte("user state bytes")}
	tr := &fakeTransport{}
	m := &Memberlist{config: cfg, transport: tr, logger: log.New(os.Stderr, "", 0),
		nodeMap: map[string]*nodeState{}, broadcasts: &TransmitLimitedQueue{NumNodes: func() int { return 1 }}}
	now := time.Unix(0, 0)
	for i, name := range []string{"node-a", "node-b"} {
		n := &nodeState{Node: Node{Name: name, Addr: net.IP{10, 0, 0, byte(i + 1)}, Port: 7946, Meta: []byte("m"),
			PMin: 1, PMax: 5, PCur: 2}, Incarnation: uint32(i + 1), State: NodeStateType(i), StateChange: now}
		m.nodes = append(m.nodes, n)
		m.nodeMap[name] = n
	}
	return m, tr
}

func pipelineVectors(t *testing.T, g *goldenWriter) {
	kr, err := NewKeyring([][]byte{key16}, key32)
	if err != nil {
		t.Fatal(err)
	}
	target := &Node{Name: "node-b", PMax: 5}
	aliveMsgBytes := mustEncode(t, aliveMsg, &alive{Incarnation: 1, Node: "node-a", Addr: []byte{10, 0, 0, 1}, Port: 7946, Vsn: []uint8{1, 5, 2, 0, 0, 0}})
	compoundBytes := makeCompoundMessage([][]byte{aliveMsgBytes, aliveMsgBytes, aliveMsgBytes}).Bytes()
	for _, c := range []struct {
		name    string
		keyring *Keyring
	}{{"plain", nil}, {"encrypted", kr}} {
		m, tr := newTestMemberlist(t, c.keyring, true)
		fixNonce()
		if err := m.rawSendMsgPacket(Address{Addr: "10.0.0.2:7946", Name: "node-b"}, target, compoundBytes); err != nil {
			t.Fatal(err)
		}
		g.add("udp_compound_crc_"+c.name, tr.sent[0])

		conn := &fakeConn{}
		fixNonce()
		if err := m.sendLocalState(conn, true); err != nil {
			t.Fatal(err)
		}
		g.add("tcp_push_pull_"+c.name, conn.buf.Bytes())
	}
	m, _ := newTestMemberlist(t, nil, false)
	conn := &fakeConn{}
	if err := m.sendLocalState(conn, false); err != nil {
		t.Fatal(err)
	}
	g.add("tcp_push_pull_uncompressed", conn.buf.Bytes())
	m, _ = newTestMemberlist(t, kr, false)
	conn = &fakeConn{}
	fixNonce()
	if err := m.rawSendMsgStream(conn, mustEncode(t, pingMsg, &ping{SeqNo: 5, Node: "node-b"})); err != nil {
		t.Fatal(err)
	}
	g.add("tcp_ping_encrypted_uncompressed", conn.buf.Bytes())
}

func TestGolden(t *testing.T) {
	g := &goldenWriter{}
	g.out.WriteString("// Generated by tests/interop/golden/generate.sh with memberlist 0.2.2 and go-msgpack 0.5.5\n" +
		"// (Debian bookworm). Do not edit: regenerate. Entries: {name, hex}.\n")
	messages(t, g)
	variants(t, g)
	compound(t, g)
	lzwVectors(t, g)
	cryptoVectors(t, g)
	pipelineVectors(t, g)
	for _, line := range traps() {
		g.out.WriteString("// trap: " + line + "\n")
	}
	path := os.Getenv("GOLDEN_OUT")
	if path == "" {
		t.Fatal("set GOLDEN_OUT")
	}
	if err := os.WriteFile(path, []byte(g.out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
