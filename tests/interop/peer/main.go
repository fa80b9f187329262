// The Go test peer: a HashiCorp memberlist node (Debian's golang-github-hashicorp-memberlist-dev,
// 0.2.2) driven over stdin, reporting over stdout as JSON lines, for grapevine's interop tests.
//
// Commands (one per line on stdin):
//   join HOST:PORT            -> {"ok":true,"joined":N} or {"ok":false,"error":...}
//   members                   -> {"members":[{"name","addr","port","state"}...]}  (live ones)
//   states                    -> {"states":{"name":"alive|suspect|dead|left",...}} (everyone)
//   broadcast TEXT            -> queues a user broadcast (piggybacked, as Serf's events)
//   leave                     -> graceful Leave, then {"ok":true}
//   quit                      -> Shutdown and exit
// Events printed as they happen: {"event":"join"|"leave"|"update","name":...} and
// {"event":"user","payload":...} for user messages (NotifyMsg).
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

var out = json.NewEncoder(os.Stdout)
var outMu sync.Mutex

func emit(v interface{}) {
	outMu.Lock()
	defer outMu.Unlock()
	out.Encode(v)
}

type broadcast struct{ msg []byte }

func (b *broadcast) Invalidates(memberlist.Broadcast) bool { return false }
func (b *broadcast) Message() []byte                       { return b.msg }
func (b *broadcast) Finished()                             {}

// Like Serf with its events, the peer passes each user message on the first time it sees it,
// so a broadcast reaches every member, Go or grapevine, whoever started it.
type delegate struct {
	queue *memberlist.TransmitLimitedQueue
	mu    sync.Mutex
	seen  map[string]bool
}

func (d *delegate) NodeMeta(limit int) []byte { return nil }
func (d *delegate) NotifyMsg(msg []byte) {
	d.mu.Lock()
	first := !d.seen[string(msg)]
	d.seen[string(msg)] = true
	d.mu.Unlock()
	if first {
		emit(map[string]interface{}{"event": "user", "payload": string(msg)})
		d.queue.QueueBroadcast(&broadcast{msg: append([]byte(nil), msg...)})
	}
}
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.queue.GetBroadcasts(overhead, limit)
}
func (d *delegate) LocalState(join bool) []byte            { return nil }
func (d *delegate) MergeRemoteState(buf []byte, join bool) {}

type events struct{}

func (events) NotifyJoin(n *memberlist.Node) {
	emit(map[string]interface{}{"event": "join", "name": n.Name})
}
func (events) NotifyLeave(n *memberlist.Node) {
	emit(map[string]interface{}{"event": "leave", "name": n.Name, "state": stateName(n.State)})
}
func (events) NotifyUpdate(n *memberlist.Node) {
	emit(map[string]interface{}{"event": "update", "name": n.Name})
}

func stateName(s memberlist.NodeStateType) string {
	switch s {
	case memberlist.StateAlive:
		return "alive"
	case memberlist.StateSuspect:
		return "suspect"
	case memberlist.StateDead:
		return "dead"
	case memberlist.StateLeft:
		return "left"
	}
	return fmt.Sprintf("state-%d", s)
}

func main() {
	name := flag.String("name", "go", "node name")
	addr := flag.String("addr", "127.0.0.1", "bind address")
	port := flag.Int("port", 0, "bind port")
	key := flag.String("key", "", "base64 encryption key (16, 24 or 32 bytes)")
	verbose := flag.Bool("v", false, "memberlist logs on stderr")
	profile := flag.String("profile", "local", "memberlist defaults: local, lan or wan")
	flag.Parse()

	conf := memberlist.DefaultLocalConfig()
	switch *profile {
	case "lan":
		conf = memberlist.DefaultLANConfig()
	case "wan":
		conf = memberlist.DefaultWANConfig()
	}
	conf.Name = *name
	conf.BindAddr = *addr
	conf.BindPort = *port
	conf.AdvertiseAddr = *addr
	conf.AdvertisePort = *port
	conf.Events = events{}
	d := &delegate{seen: map[string]bool{}}
	conf.Delegate = d
	if !*verbose {
		conf.LogOutput = ioutil.Discard
	}
	if *key != "" {
		k, err := base64.StdEncoding.DecodeString(*key)
		if err != nil {
			log.Fatalf("bad key: %v", err)
		}
		conf.SecretKey = k
	}
	m, err := memberlist.Create(conf)
	if err != nil {
		log.Fatalf("create: %v", err)
	}
	d.queue = &memberlist.TransmitLimitedQueue{NumNodes: m.NumMembers, RetransmitMult: 8}
	emit(map[string]interface{}{"ready": true, "port": m.LocalNode().Port})

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		line := strings.TrimSpace(in.Text())
		cmd, arg := line, ""
		if i := strings.IndexByte(line, ' '); i >= 0 {
			cmd, arg = line[:i], line[i+1:]
		}
		switch cmd {
		case "join":
			n, err := m.Join([]string{arg})
			if err != nil {
				emit(map[string]interface{}{"ok": false, "error": err.Error()})
			} else {
				emit(map[string]interface{}{"ok": true, "joined": n})
			}
		case "members":
			var list []map[string]interface{}
			for _, n := range m.Members() {
				list = append(list, map[string]interface{}{"name": n.Name, "addr": n.Addr.String(),
					"port": n.Port, "state": stateName(n.State)})
			}
			emit(map[string]interface{}{"members": list})
		case "states":
			emit(map[string]interface{}{"states": m.NodeStates()})
		case "broadcast":
			d.mu.Lock()
			d.seen[arg] = true
			d.mu.Unlock()
			d.queue.QueueBroadcast(&broadcast{msg: []byte(arg)})
			emit(map[string]interface{}{"ok": true})
		case "leave":
			m.Leave(5 * time.Second)
			emit(map[string]interface{}{"ok": true})
		case "quit":
			m.Shutdown()
			return
		}
	}
	m.Shutdown()
}
