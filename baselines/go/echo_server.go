// echo_server.go is the echo-server subcommand: the goroutine-per-connection
// server of the echo benchmark, speaking docs/echo-protocol.md. It is a server
// that greenbench's load generator drives, not a measuring workload: it runs
// in this process, once, and writes no results.
//
//	greenbench-go echo-server [-procs P] [-addr HOST:PORT]
//
// Go's net package over its netpoller: one Accept loop and one goroutine per
// connection, each with one fixed buffer of connBufferBytes (grown once, to
// maxHeaderBlock, only for an HTTP header block that does not fit). Replies
// are written as soon as their bytes are read; nothing is buffered for later.
// The listening socket's backlog is Go's, /proc/sys/net/core/somaxconn.
//
// Invariant: a connection's mode is decided once, from its first four bytes
// ("GET " is HTTP, anything else echo), and no connection holds more than
// maxHeaderBlock bytes of buffer; the process exits 0 when stdin reaches end
// of file or SIGTERM arrives, 2 on a bad command line, 1 if it cannot start.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

const (
	echoServerCommand = "echo-server"
	httpPrefix        = "GET "  // a connection's first four bytes, in HTTP mode
	connBufferBytes   = 4 << 10 // each connection's buffer: one read, then its write
	maxHeaderBlock    = 8 << 10 // an HTTP header block longer than this closes
	repliesPerWrite   = 64      // pipelined replies sent in one write, at most
	maxAcceptBackoff  = time.Second
)

var (
	headerEnd       = []byte("\r\n\r\n")
	connectionClose = []byte("connection: close")
	httpReply       = []byte("HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\n\r\nHello, world\n")
	httpReplies     = bytes.Repeat(httpReply, repliesPerWrite)
)

// echoServerFlags is a parsed, validated echo-server command line.
type echoServerFlags struct {
	procs int    // GOMAXPROCS
	addr  string // numeric loopback HOST:PORT; port 0 picks a free one
}

func parseEchoServer(args []string, stderr io.Writer) (echoServerFlags, error) {
	var f echoServerFlags
	fs := flag.NewFlagSet("greenbench-go "+echoServerCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&f.procs, "procs", runtime.NumCPU(), "GOMAXPROCS")
	fs.StringVar(&f.addr, "addr", "127.0.0.1:0", "listen on this numeric loopback HOST:PORT (port 0: any free port)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, err
		}
		return f, usageError{err.Error()}
	}
	if fs.NArg() != 0 {
		return f, usagef("unexpected argument %q", fs.Arg(0))
	}
	if f.procs < 1 {
		return f, usagef("-procs must be at least 1, got %d", f.procs)
	}
	host, port, err := net.SplitHostPort(f.addr)
	if err != nil {
		return f, usagef("-addr: %v", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return f, usagef("-addr: host %q is not a numeric loopback address", host)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return f, usagef("-addr: port %q is not a number from 0 to 65535", port)
	}
	return f, nil
}

// runEchoServer is the echo-server command: the process contract of
// docs/echo-protocol.md over the given stdin, stdout and stderr. It returns the
// exit status.
func runEchoServer(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f, err := parseEchoServer(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "greenbench-go:", err)
		return 2
	}
	runtime.GOMAXPROCS(f.procs)
	if err := raiseNofile(); err != nil {
		fmt.Fprintln(stderr, "greenbench-go: echo-server: raising RLIMIT_NOFILE:", err)
		return 1
	}
	fmt.Fprintf(stderr, "nofile %d\n", rlimit(syscall.RLIMIT_NOFILE))

	// Registered before the listening line, so a SIGTERM sent by anyone who
	// has read that line stops the server instead of killing it.
	sigterm := make(chan os.Signal, 1)
	signal.Notify(sigterm, syscall.SIGTERM)
	defer signal.Stop(sigterm)
	stdinEnded := make(chan struct{})
	go func() {
		io.Copy(io.Discard, stdin)
		close(stdinEnded)
	}()

	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		fmt.Fprintln(stderr, "greenbench-go: echo-server:", err)
		return 1
	}
	// One write of the whole line: stdout is unbuffered, so this is the flush.
	fmt.Fprintf(stdout, "listening %s\n", ln.Addr())
	accepting := make(chan struct{})
	go func() {
		acceptLoop(ln, stderr)
		close(accepting)
	}()
	select {
	case <-stdinEnded:
	case <-sigterm:
	}
	ln.Close()
	<-accepting
	return 0
}

// raiseNofile raises RLIMIT_NOFILE as far as this process may, as the C++
// servers do: privileged, both limits to fs.nr_open (this process's limit only);
// otherwise the soft limit to the hard one.
func raiseNofile() error {
	var limit syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit); err != nil {
		return err
	}
	if ceiling := readLimit("/proc/sys/fs/nr_open"); ceiling > 0 && uint64(ceiling) > limit.Max {
		raised := syscall.Rlimit{Cur: uint64(ceiling), Max: uint64(ceiling)}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil { // EPERM: not privileged
			return nil
		}
	}
	limit.Cur = limit.Max
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &limit)
}

// acceptLoop starts a goroutine per accepted connection until ln is closed.
// Other Accept errors (out of descriptors or memory) are reported and retried
// after a growing pause, as net/http does: connections that close free them.
func acceptLoop(ln net.Listener, stderr io.Writer) {
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			backoff = 2*backoff + 5*time.Millisecond
			if backoff > maxAcceptBackoff {
				backoff = maxAcceptBackoff
			}
			fmt.Fprintf(stderr, "greenbench-go: echo-server: accept: %v; retrying in %v\n", err, backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		go serveConn(conn)
	}
}

// serveConn serves one connection in the mode its first bytes decide, then
// closes it.
func serveConn(conn net.Conn) {
	defer conn.Close()
	buf := make([]byte, connBufferBytes)
	n, http, err := readMode(conn, buf)
	if http {
		serveHTTP(conn, buf, n, err)
	} else {
		serveEcho(conn, buf, n, err)
	}
}

// connMode decides a connection's mode from its first bytes: decided once
// there are four of them, or as soon as they stop being a prefix of "GET ".
func connMode(first []byte) (decided, http bool) {
	if len(first) >= len(httpPrefix) {
		return true, string(first[:len(httpPrefix)]) == httpPrefix
	}
	return string(first) != httpPrefix[:len(first)], false
}

// readMode reads into buf until the mode is decided or the connection ends,
// and returns the bytes read (buf[:n]), the mode and the read error, if any.
// A connection that ends undecided is in echo mode.
func readMode(conn net.Conn, buf []byte) (n int, http bool, err error) {
	for {
		var m int
		m, err = conn.Read(buf[n:])
		n += m
		if decided, isHTTP := connMode(buf[:n]); decided || err != nil {
			return n, isHTTP, err
		}
	}
}

// serveEcho writes back buf[:n], then every byte that arrives, as it arrives,
// until a read (err is the one readMode got) or a write fails.
func serveEcho(conn net.Conn, buf []byte, n int, err error) {
	for {
		if n > 0 {
			if _, werr := conn.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
		n, err = conn.Read(buf)
	}
}

// serveHTTP answers each complete header block in buf[:n] and in what
// follows, in order, until a block asks to close, a block grows past
// maxHeaderBlock, or a read or write fails.
func serveHTTP(conn net.Conn, buf []byte, n int, err error) {
	for {
		requests, rest, closing := splitRequests(buf[:n])
		if werr := writeReplies(conn, requests); werr != nil || closing || err != nil {
			return
		}
		if len(rest) >= maxHeaderBlock {
			return // unfinished at the limit: it can only end past it
		}
		n = copy(buf, rest)
		if n == len(buf) {
			grown := make([]byte, maxHeaderBlock)
			copy(grown, buf[:n])
			buf = grown
		}
		var m int
		m, err = conn.Read(buf[n:])
		n += m
	}
}

// splitRequests counts the complete header blocks at the start of p, stopping
// after the first that holds "Connection: close" (any case), and returns what
// follows the last one counted.
func splitRequests(p []byte) (requests int, rest []byte, closing bool) {
	for {
		end := bytes.Index(p, headerEnd)
		if end < 0 {
			return requests, p, false
		}
		block := p[:end+len(headerEnd)]
		p = p[len(block):]
		requests++
		if containsFold(block, connectionClose) {
			return requests, p, true
		}
	}
}

// containsFold reports whether s holds sub, compared without case.
func containsFold(s, sub []byte) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if bytes.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// writeReplies writes count copies of the fixed reply, in as few writes as
// repliesPerWrite allows.
func writeReplies(w io.Writer, count int) error {
	for count > 0 {
		batch := count
		if batch > repliesPerWrite {
			batch = repliesPerWrite
		}
		if _, err := w.Write(httpReplies[:batch*len(httpReply)]); err != nil {
			return err
		}
		count -= batch
	}
	return nil
}
