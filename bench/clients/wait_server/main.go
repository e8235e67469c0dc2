// The slow-handler section's downstream service: a TCP server on 127.0.0.1 that answers each
// request line — a number of milliseconds, e.g. "20\n" — with "\n" after that many milliseconds,
// as a service a handler calls does. Requests on one connection are answered in turn; clients keep
// one connection per call in flight. Both the Parallel Consumer's handler and consumerd's call it,
// so both wait on the same I/O, and on Go's timers, which keep close to the time asked (a
// JavaScript runtime's setTimeout(20) lasts up to 21.3 ms).
//
//	wait-server    prints "listening <port>" on stdout; exits when its stdin closes
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// maxWaitMs bounds what one request may ask for.
const maxWaitMs = 60_000

// serve answers one connection's requests in turn until it closes or sends a bad line.
func serve(conn net.Conn) {
	defer conn.Close()
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetNoDelay(true)
	}
	lines := bufio.NewReader(conn)
	for {
		line, err := lines.ReadString('\n')
		if err != nil {
			return
		}
		ms, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil || ms < 0 || ms > maxWaitMs {
			_, _ = fmt.Fprintf(conn, "error: want milliseconds from 0 to %d, got %q\n", maxWaitMs, line)
			return
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
		if _, err := conn.Write([]byte{'\n'}); err != nil {
			return
		}
	}
}

func main() {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "wait-server:", err)
		os.Exit(1)
	}
	fmt.Printf("listening %d\n", listener.Addr().(*net.TCPAddr).Port)
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	for {
		conn, err := listener.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "wait-server:", err)
			os.Exit(1)
		}
		go serve(conn)
	}
}
