// memberlist-demo: N HashiCorp memberlist 0.2.2 instances (Debian's
// golang-github-hashicorp-memberlist-dev) in one Go process on loopback, joined as
// `grapevine demo` joins its nodes, so the two join figures are measured the same way:
//   - all N instances are created first (sockets bound, probe and gossip loops running);
//   - then member i (i >= 1) calls Join([first]) at (i-1)/rate seconds after the start, each in
//     its own goroutine (Join blocks on its push-pull; the start rate does not wait for it);
//   - join convergence is the time from that start until every instance lists all N members
//     (polled every 20 ms, as the demo polls; counted from memberlist's event delegate: joins
//     less leaves, so a suspect member still counts, as in memberlist's NumMembers).
//
// Prints one JSON object: {"nodes", "join_rate", "join_convergence_seconds" (-1: timed out),
// "failed_joins", "profile"}, and with --steady D a "steady" object measured as `grapevine demo
// --steady D` measures its own: after convergence and --settle (the join's gossip retransmits
// fading), D of rest: "cpu_ms_per_node_second" (getrusage of the process: every instance),
// "messages_per_node_per_second" and "bytes_per_node_per_second" (datagram payloads and stream
// bytes written, counted by a wrapper around memberlist's NetTransport), and
// "rss_bytes_per_node" (peak RSS over N, as the demo's). Built by build.sh; run by
// bench/idle_vs_memberlist.sh.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/memberlist"
)

func config(profile string, i int) *memberlist.Config {
	var conf *memberlist.Config
	switch profile {
	case "lan":
		conf = memberlist.DefaultLANConfig()
	case "local":
		conf = memberlist.DefaultLocalConfig()
	default:
		conf = memberlist.DefaultWANConfig()
	}
	conf.Name = fmt.Sprintf("node-%d", i)
	conf.BindAddr = "127.0.0.1"
	conf.AdvertiseAddr = "127.0.0.1"
	conf.BindPort = 0 // picked by the kernel, TCP and UDP on the same port
	conf.AdvertisePort = 0
	conf.LogOutput = ioutil.Discard
	return conf
}

// counter counts an instance's members from its event delegate (joins less leaves and
// deaths), so polling it takes none of memberlist's locks: NodeStates waits behind nodeLock,
// which at N = 256 in one process stalled the poll for tens of seconds.
type counter struct{ n int64 }

func (c *counter) NotifyJoin(*memberlist.Node)   { atomic.AddInt64(&c.n, 1) }
func (c *counter) NotifyLeave(*memberlist.Node)  { atomic.AddInt64(&c.n, -1) }
func (c *counter) NotifyUpdate(*memberlist.Node) {}

var counters []*counter

func aliveCount(i int) int { return int(atomic.LoadInt64(&counters[i].n)) }

func main() {
	nodes := flag.Int("nodes", 64, "instances to start")
	rate := flag.Float64("join-rate", 200, "members starting their join per second")
	profile := flag.String("profile", "lan", "lan|local|wan (memberlist's Default*Config)")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after the last join plus this")
	verbose := flag.Bool("v", false, "print the lowest and highest alive count every second")
	steady := flag.Duration("steady", 0, "after convergence and --settle, measure this long at rest")
	settle := flag.Duration("settle", 15*time.Second, "wait this long after convergence before --steady")
	flag.Parse()

	ms := make([]*memberlist.Memberlist, *nodes)
	counters = make([]*counter, *nodes)
	for i := range ms {
		counters[i] = &counter{}
		conf := config(*profile, i)
		conf.Events = counters[i]
		if err := countTraffic(conf); err != nil {
			fmt.Fprintf(os.Stderr, "memberlist-demo: node-%d: %v\n", i, err)
			os.Exit(1)
		}
		m, err := memberlist.Create(conf)
		if err != nil {
			fmt.Fprintf(os.Stderr, "memberlist-demo: node-%d: %v\n", i, err)
			os.Exit(1)
		}
		ms[i] = m
	}
	first := fmt.Sprintf("127.0.0.1:%d", ms[0].LocalNode().Port)
	fmt.Fprintf(os.Stderr, "started %d memberlist instances, joining through %s at %.0f/s\n",
		*nodes, first, *rate)

	var failed int64
	lastLog := time.Now()
	var wg sync.WaitGroup
	start := time.Now()
	// The joins start on their own schedule, in a goroutine of their own: polling the lists
	// (each behind its instance's lock) must not delay them.
	var started int64
	go func() {
		for i := 1; i < *nodes; i++ {
			at := start.Add(time.Duration(float64(i-1) / *rate * 1e9))
			time.Sleep(time.Until(at))
			wg.Add(1)
			atomic.AddInt64(&started, 1)
			go func(m *memberlist.Memberlist) {
				defer wg.Done()
				if _, err := m.Join([]string{first}); err != nil {
					atomic.AddInt64(&failed, 1)
					if *verbose {
						fmt.Fprintf(os.Stderr, "join failed: %v\n", err)
					}
				}
			}(ms[i])
		}
	}()
	converged := -1.0
	deadline := start.Add(time.Duration(float64(*nodes) / *rate * 1e9)).Add(*timeout)
	for time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		if *verbose && time.Since(lastLog) > time.Second {
			lastLog = time.Now()
			lo, hi := *nodes, 0
			for i := range ms {
				c := aliveCount(i)
				if c < lo {
					lo = c
				}
				if c > hi {
					hi = c
				}
			}
			fmt.Fprintf(os.Stderr, "[%6.2fs] alive counts %d..%d, %d joins started\n",
				time.Since(start).Seconds(), lo, hi, atomic.LoadInt64(&started))
		}
		if atomic.LoadInt64(&started) != int64(*nodes-1) {
			continue
		}
		all := true
		for i := range ms {
			if aliveCount(i) != *nodes {
				all = false
				break
			}
		}
		if all {
			converged = time.Since(start).Seconds()
			break
		}
	}
	wg.Wait()
	fmt.Fprintf(os.Stderr, "join: every instance lists all %d members after %.2f s (%d failed joins)\n",
		*nodes, converged, failed)
	out := map[string]interface{}{
		"nodes": *nodes, "join_rate": *rate, "profile": *profile,
		"join_convergence_seconds": converged, "failed_joins": failed,
	}
	if *steady > 0 { // measured even if the join did not converge (the JSON says so)
		time.Sleep(*settle)
		out["steady"] = measureSteady(*nodes, *steady)
	}
	json.NewEncoder(os.Stdout).Encode(out)
	for _, m := range ms {
		m.Shutdown()
	}
}

// ---- traffic and resource counters for --steady ----

var sentMessages, sentBytes int64

// countingTransport is memberlist's own NetTransport with every datagram and stream write
// counted (payload bytes, as grapevine's io_stats count them).
type countingTransport struct{ *memberlist.NetTransport }

func (t countingTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

func (t countingTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	atomic.AddInt64(&sentMessages, 1)
	atomic.AddInt64(&sentBytes, int64(len(b)))
	return t.NetTransport.WriteToAddress(b, a)
}

func (t countingTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

func (t countingTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	c, err := t.NetTransport.DialAddressTimeout(a, timeout)
	if err != nil {
		return nil, err
	}
	atomic.AddInt64(&sentMessages, 1)
	return countingConn{c}, nil
}

// countingConn counts what either side of a stream writes.
type countingConn struct{ net.Conn }

func (c countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	atomic.AddInt64(&sentBytes, int64(n))
	return n, err
}

// StreamCh hands memberlist the accepted streams wrapped, so its replies are counted too.
func (t countingTransport) StreamCh() <-chan net.Conn { return wrappedStreams(t.NetTransport) }

var wrapped sync.Map // *NetTransport -> chan net.Conn

func wrappedStreams(nt *memberlist.NetTransport) <-chan net.Conn {
	if ch, ok := wrapped.Load(nt); ok {
		return ch.(chan net.Conn)
	}
	ch := make(chan net.Conn)
	wrapped.Store(nt, ch)
	go func() {
		for c := range nt.StreamCh() {
			atomic.AddInt64(&sentMessages, 1)
			ch <- countingConn{c}
		}
	}()
	return ch
}

// countTraffic gives conf a counting transport on a kernel-picked port (TCP and UDP alike,
// as memberlist.Create does for port 0, with its retries on a port taken for UDP).
func countTraffic(conf *memberlist.Config) error {
	var err error
	for try := 0; try < 10; try++ {
		var nt *memberlist.NetTransport
		nt, err = memberlist.NewNetTransport(&memberlist.NetTransportConfig{
			BindAddrs: []string{conf.BindAddr}, BindPort: 0,
			Logger: log.New(ioutil.Discard, "", 0)})
		if err == nil {
			conf.BindPort = nt.GetAutoBindPort()
			conf.AdvertisePort = conf.BindPort
			conf.Transport = countingTransport{nt}
			return nil
		}
	}
	return err
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// peakRSSBytes is the process's peak resident set, as the demo's peak_rss_bytes.
func peakRSSBytes() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) * 1024
}

func measureSteady(n int, d time.Duration) map[string]interface{} {
	cpu0, msg0, bytes0, t0 := cpuSeconds(), atomic.LoadInt64(&sentMessages), atomic.LoadInt64(&sentBytes), time.Now()
	time.Sleep(d)
	secs := time.Since(t0).Seconds()
	nodeSeconds := float64(n) * secs
	fmt.Fprintf(os.Stderr, "steady state for %.0f s measured\n", secs)
	return map[string]interface{}{
		"seconds":                      secs,
		"cpu_ms_per_node_second":       (cpuSeconds() - cpu0) * 1e3 / nodeSeconds,
		"messages_per_node_per_second": float64(atomic.LoadInt64(&sentMessages)-msg0) / nodeSeconds,
		"bytes_per_node_per_second":    float64(atomic.LoadInt64(&sentBytes)-bytes0) / nodeSeconds,
		"rss_bytes_per_node":           peakRSSBytes() / float64(n),
	}
}
