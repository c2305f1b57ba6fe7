// echo_session.h: the echo servers' protocol (docs/echo-protocol.md), written once and
// without I/O: bytes a connection received go in, the bytes to send back come out. Every
// C++ server (thread-, fiber-per-connection, the epoll loop) runs one EchoSession per
// connection and does only the reading and writing around it.
//
// The first bytes decide the mode once: `GET ` (the four bytes may arrive split over
// several reads) makes an HTTP/1.1 keep-alive session, anything else an echo session,
// which hands every byte straight back (the returned view is the input itself: no copy).
// HTTP requests are header blocks ending in CRLF CRLF, answered in order with one fixed
// reply each, pipelined requests included; `Connection: close` gets its reply and ends the
// session, and so does a header block over kMaxHeaderBytes (without a reply).
//
// Invariant: the bytes returned by every call, sent in order, are exactly the protocol's
// reply to the bytes received so far; once done() is true the session answers nothing
// more, and nothing the client sends is ever held beyond one incomplete header block.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace greenbench::echo {

class EchoSession {
 public:
  enum class Mode { undecided, echo, http };

  // A header block longer than this (terminating CRLF CRLF included) closes the connection.
  static constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
  // The one HTTP reply.
  static constexpr std::string_view kHttpReply =
      "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\nConnection: "
      "keep-alive\r\n\r\nHello, world\n";

  // The bytes to send in reply to `received`, valid until the next call; in echo mode
  // this is `received` itself. Empty when there is nothing to send yet (an undecided
  // prefix of `GET `, an incomplete header block) or once done().
  std::string_view receive(std::string_view received);

  // The connection must be closed once the bytes returned so far are sent.
  bool done() const { return done_; }
  Mode mode() const { return mode_; }

 private:
  std::string_view receive_http(std::string_view received);
  // Answers every complete header block in pending_ (from consumed_ on).
  void answer_complete_requests();

  Mode mode_ = Mode::undecided;
  bool done_ = false;
  std::string prefix_;       // undecided: the bytes so far, a proper prefix of "GET "
  std::string pending_;      // http: received bytes not yet answered (an incomplete block)
  std::size_t scanned_ = 0;  // http: pending_ holds no block end before this offset
  std::string reply_;        // http (and the undecided prefix in echo): bytes to send
};

}  // namespace greenbench::echo
