// echo_server_test.go checks the echo-server against docs/echo-protocol.md:
// the mode decided by the first bytes however they are split (or by the end
// of the connection), echo of every byte value, pipelined HTTP replies in
// order, the two ways an HTTP connection closes, the command line, and the
// process contract end to end over TCP.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

const testTimeout = 10 * time.Second

// servedPipe serves one end of an in-memory connection with serveConn and
// returns the other end, and a channel closed when serveConn has returned.
func servedPipe(t *testing.T) (net.Conn, <-chan struct{}) {
	t.Helper()
	server, client := net.Pipe()
	done := make(chan struct{})
	go func() {
		serveConn(server)
		close(done)
	}()
	client.SetDeadline(time.Now().Add(testTimeout))
	t.Cleanup(func() { client.Close() })
	return client, done
}

func writeAll(t *testing.T, conn net.Conn, chunks ...string) {
	t.Helper()
	for _, chunk := range chunks {
		if _, err := conn.Write([]byte(chunk)); err != nil {
			t.Fatalf("writing %q: %v", chunk, err)
		}
	}
}

func expectBytes(t *testing.T, conn net.Conn, want []byte) {
	t.Helper()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(conn, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %q, %v; want %q", got, err, want)
	}
}

// expectClosed checks that the server closes after sending exactly want.
func expectClosed(t *testing.T, conn net.Conn, done <-chan struct{}, want []byte) {
	t.Helper()
	got, err := io.ReadAll(conn)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %q, %v before the close; want %q", got, err, want)
	}
	<-done
}

func TestConnMode(t *testing.T) {
	cases := []struct {
		first           string
		decided, isHTTP bool
	}{
		{"", false, false}, {"G", false, false}, {"GE", false, false}, {"GET", false, false},
		{"GET ", true, true}, {"GET /x HTTP/1.1", true, true},
		{"x", true, false}, {"GX", true, false}, {"GETX", true, false}, {"get ", true, false},
		{"\x00\xff", true, false}, {"POST /", true, false},
	}
	for _, c := range cases {
		if decided, isHTTP := connMode([]byte(c.first)); decided != c.decided || isHTTP != c.isHTTP {
			t.Errorf("connMode(%q) = %v, %v; want %v, %v", c.first, decided, isHTTP, c.decided, c.isHTTP)
		}
	}
}

func TestSplitRequests(t *testing.T) {
	cases := []struct {
		in, rest string
		requests int
		closing  bool
	}{
		{"GET / HTTP/1.1\r\nHost: x", "GET / HTTP/1.1\r\nHost: x", 0, false},
		{"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\nGET /", "GET /", 2, false},
		{"GET / HTTP/1.1\r\ncOnNeCtIoN: ClOsE\r\n\r\nGET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n", 1, true},
		{"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", "", 1, false},
		{"GET / HTTP/1.1\r\nConnection: close\r\n", "GET / HTTP/1.1\r\nConnection: close\r\n", 0, false},
	}
	for _, c := range cases {
		requests, rest, closing := splitRequests([]byte(c.in))
		if requests != c.requests || string(rest) != c.rest || closing != c.closing {
			t.Errorf("splitRequests(%q) = %d, %q, %v; want %d, %q, %v", c.in, requests, rest, closing, c.requests, c.rest, c.closing)
		}
	}
}

func TestEchoModeEchoesEveryByteAsItArrives(t *testing.T) {
	conn, done := servedPipe(t)
	// Split first bytes that start like "GET " and then are not.
	writeAll(t, conn, "G", "E")
	writeAll(t, conn, "x")
	expectBytes(t, conn, []byte("GEx"))
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	for i := 0; i < 3; i++ {
		writeAll(t, conn, string(every))
		expectBytes(t, conn, every)
	}
	large := bytes.Repeat([]byte("0123456789abcdef"), 1000) // over one buffer
	go conn.Write(large)
	expectBytes(t, conn, large)
	conn.Close()
	<-done
}

func TestHTTPModeWithSplitPrefix(t *testing.T) {
	conn, _ := servedPipe(t)
	writeAll(t, conn, "G", "ET", " / HTTP/1.1\r\nHost: x\r", "\n\r\n")
	expectBytes(t, conn, httpReply)
	writeAll(t, conn, "GET /again HTTP/1.1\r\n\r\n")
	expectBytes(t, conn, httpReply)
}

func TestHTTPPipelinedRequestsGetRepliesInOrder(t *testing.T) {
	conn, done := servedPipe(t)
	// More than repliesPerWrite requests, the last one split over two writes.
	const n = 2*repliesPerWrite + 3
	requests := strings.Repeat("GET / HTTP/1.1\r\nHost: x\r\n\r\n", n)
	go func() {
		conn.Write([]byte(requests[:len(requests)-3]))
		conn.Write([]byte(requests[len(requests)-3:]))
	}()
	expectBytes(t, conn, bytes.Repeat(httpReply, n))
	conn.Close()
	<-done
}

func TestHTTPConnectionCloseClosesAfterTheReply(t *testing.T) {
	conn, done := servedPipe(t)
	writeAll(t, conn, "GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nCONNECTION: Close\r\n\r\nGET / HTTP/1.1\r\n\r\n")
	expectClosed(t, conn, done, bytes.Repeat(httpReply, 2))
}

func TestHTTPHeaderBlockOverLimitCloses(t *testing.T) {
	// A block of exactly maxHeaderBlock bytes is answered, one byte more closes.
	exact := "GET /" + strings.Repeat("a", maxHeaderBlock-len("GET /")-len(headerEnd)) + string(headerEnd)
	conn, _ := servedPipe(t)
	writeAll(t, conn, exact)
	expectBytes(t, conn, httpReply)

	over := "GET /a" + exact[len("GET /"):]
	conn, done := servedPipe(t)
	go conn.Write([]byte(over)) // fails once the server closes
	expectClosed(t, conn, done, nil)

	// The limit holds for a later block on the connection too.
	conn, done = servedPipe(t)
	go conn.Write([]byte("GET / HTTP/1.1\r\n\r\n" + over))
	expectClosed(t, conn, done, httpReply)
}

func TestParseEchoServer(t *testing.T) {
	good := map[string]echoServerFlags{
		"-procs 2 -addr 127.0.0.1:0":    {procs: 2, addr: "127.0.0.1:0"},
		"-addr [::1]:8080 -procs 1":     {procs: 1, addr: "[::1]:8080"},
		"-procs 3 -addr 127.0.0.5:9000": {procs: 3, addr: "127.0.0.5:9000"},
	}
	for args, want := range good {
		if got, err := parseEchoServer(strings.Fields(args), io.Discard); err != nil || got != want {
			t.Errorf("%q: %+v, %v; want %+v", args, got, err, want)
		}
	}
	if got, err := parseEchoServer(nil, io.Discard); err != nil || got.addr != "127.0.0.1:0" || got.procs != runtime.NumCPU() {
		t.Errorf("defaults: %+v, %v", got, err)
	}
	bad := []string{
		"-procs 0", "-bogus", "extra", "-addr 127.0.0.1", "-addr localhost:0", "-addr 10.0.0.1:0",
		"-addr 0.0.0.0:0", "-addr 127.0.0.1:65536", "-addr 127.0.0.1:http", "-addr :0",
	}
	for _, args := range bad {
		_, err := parseEchoServer(strings.Fields(args), io.Discard)
		var usage usageError
		if !errors.As(err, &usage) {
			t.Errorf("%q: err %v, want a usage error", args, err)
		}
	}
	if code := runEchoServer([]string{"-procs", "0"}, strings.NewReader(""), io.Discard, io.Discard); code != 2 {
		t.Errorf("-procs 0: exit status %d, want 2", code)
	}
}

// TestEchoServerEndToEnd runs the command in this process on 127.0.0.1:0,
// talks both protocols to it over TCP and stops it both ways the contract
// allows: stdin at end of file, and SIGTERM.
func TestEchoServerEndToEnd(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	stops := map[string]func(stdin io.Closer){
		"stdin_eof": func(stdin io.Closer) { stdin.Close() },
		"sigterm":   func(io.Closer) { syscall.Kill(os.Getpid(), syscall.SIGTERM) },
	}
	for name, stop := range stops {
		t.Run(name, func(t *testing.T) {
			stdinReader, stdin := io.Pipe()
			defer stdin.Close()
			stdoutReader, stdout := io.Pipe()
			var stderr bytes.Buffer
			exited := make(chan int)
			go func() {
				exited <- runEchoServer([]string{"-procs", "2", "-addr", "127.0.0.1:0"}, stdinReader, stdout, &stderr)
				stdout.Close()
			}()
			line, err := bufio.NewReader(stdoutReader).ReadString('\n')
			match := regexp.MustCompile(`^listening (127\.0\.0\.1:[1-9][0-9]*)\n$`).FindStringSubmatch(line)
			if err != nil || match == nil {
				t.Fatalf("first stdout line %q, %v", line, err)
			}
			if runtime.GOMAXPROCS(0) != 2 {
				t.Errorf("GOMAXPROCS %d, want 2", runtime.GOMAXPROCS(0))
			}

			echo := dial(t, match[1])
			message := bytes.Repeat([]byte{0, 'G', 0xff, '\n'}, 16) // 64 bytes, as the load generator sends
			for i := 0; i < 100; i++ {
				writeAll(t, echo, string(message))
				expectBytes(t, echo, message)
			}
			// A connection that ends before its first bytes decide: echo mode.
			undecided := dial(t, match[1])
			writeAll(t, undecided, "GE")
			undecided.(*net.TCPConn).CloseWrite()
			if got, err := io.ReadAll(undecided); err != nil || string(got) != "GE" {
				t.Errorf("undecided then end of file: read %q, %v; want \"GE\"", got, err)
			}
			http := dial(t, match[1])
			writeAll(t, http, "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
			expectBytes(t, http, bytes.Repeat(httpReply, 2))
			writeAll(t, http, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
			if got, err := io.ReadAll(http); err != nil || !bytes.Equal(got, httpReply) {
				t.Errorf("after Connection: close: read %q, %v", got, err)
			}

			stop(stdin)
			select {
			case code := <-exited:
				if code != 0 {
					t.Errorf("exit status %d, want 0; stderr:\n%s", code, stderr.String())
				}
			case <-time.After(testTimeout):
				t.Fatal("the server did not stop")
			}
			if !regexp.MustCompile(`^nofile [0-9]+\n$`).MatchString(stderr.String()) {
				t.Errorf("stderr %q, want one nofile line", stderr.String())
			}
			if _, err := net.Dial("tcp", match[1]); err == nil {
				t.Error("the server still accepts connections after it stopped")
			}
		})
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(testTimeout))
	t.Cleanup(func() { conn.Close() })
	return conn
}
