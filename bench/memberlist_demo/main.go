// memberlist-demo: N HashiCorp memberlist 0.2.2 instances (Debian's
// golang-github-hashicorp-memberlist-dev) in one Go process on loopback, joined as
// `grapevine demo` joins its nodes, so the two join figures are measured the same way:
//   - all N instances are created first (sockets bound, probe and gossip loops running);
//   - then member i (i >= 1) calls Join([first]) at (i-1)/rate seconds after the start, each in
//     its own goroutine (Join blocks on its push-pull; the start rate does not wait for it);
//   - join convergence is the time from that start until every instance lists all N members
//     as alive (polled every 20 ms, as the demo polls).
// Prints one JSON object: {"nodes", "join_rate", "join_convergence_seconds" (-1: timed out),
// "failed_joins", "profile"}. Built by build.sh; run by bench/compare_join.sh.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"sync"
	"sync/atomic"
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

func aliveCount(m *memberlist.Memberlist) int {
	n := 0
	for _, s := range m.NodeStates() {
		if s == "alive" {
			n++
		}
	}
	return n
}

func main() {
	nodes := flag.Int("nodes", 64, "instances to start")
	rate := flag.Float64("join-rate", 200, "members starting their join per second")
	profile := flag.String("profile", "lan", "lan|local|wan (memberlist's Default*Config)")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after the last join plus this")
	verbose := flag.Bool("v", false, "print the lowest and highest alive count every second")
	flag.Parse()

	ms := make([]*memberlist.Memberlist, *nodes)
	for i := range ms {
		m, err := memberlist.Create(config(*profile, i))
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
	next := 1
	converged := -1.0
	deadline := start.Add(time.Duration(float64(*nodes) / *rate * 1e9)).Add(*timeout)
	for time.Now().Before(deadline) {
		due := 1 + int(time.Since(start).Seconds()**rate)
		for ; next < *nodes && next <= due; next++ {
			wg.Add(1)
			go func(m *memberlist.Memberlist) {
				defer wg.Done()
				if _, err := m.Join([]string{first}); err != nil {
					atomic.AddInt64(&failed, 1)
					if *verbose {
						fmt.Fprintf(os.Stderr, "join failed: %v\n", err)
					}
				}
			}(ms[next])
		}
		if *verbose && time.Since(lastLog) > time.Second {
			lastLog = time.Now()
			lo, hi := *nodes, 0
			for _, m := range ms {
				c := aliveCount(m)
				if c < lo {
					lo = c
				}
				if c > hi {
					hi = c
				}
			}
			fmt.Fprintf(os.Stderr, "[%6.2fs] alive counts %d..%d, %d joins started\n",
				time.Since(start).Seconds(), lo, hi, next-1)
		}
		if next == *nodes {
			all := true
			for _, m := range ms {
				if aliveCount(m) != *nodes {
					all = false
					break
				}
			}
			if all {
				converged = time.Since(start).Seconds()
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	fmt.Fprintf(os.Stderr, "join: every instance lists all %d members after %.2f s (%d failed joins)\n",
		*nodes, converged, failed)
	json.NewEncoder(os.Stdout).Encode(map[string]interface{}{
		"nodes": *nodes, "join_rate": *rate, "profile": *profile,
		"join_convergence_seconds": converged, "failed_joins": failed,
	})
	for _, m := range ms {
		m.Shutdown()
	}
}
