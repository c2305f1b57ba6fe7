// echo_session.cpp: mode detection, echo and the HTTP keep-alive answering (see
// echo_session.h).
#include "echo/echo_session.h"

#include <algorithm>
#include <cctype>

namespace greenbench::echo {
namespace {

constexpr std::string_view kGet = "GET ";
constexpr std::string_view kBlockEnd = "\r\n\r\n";

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trimmed(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// A `Connection:` header whose value holds the token `close`, any case.
bool asks_to_close(std::string_view block) {
  for (std::size_t line_start = block.find("\r\n"); line_start != std::string_view::npos;) {
    line_start += 2;
    const std::size_t line_end = block.find("\r\n", line_start);
    const std::string_view line = block.substr(line_start, line_end - line_start);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos &&
        equals_ignoring_case(trimmed(line.substr(0, colon)), "connection")) {
      const std::string_view value = line.substr(colon + 1);
      for (std::size_t at = 0; at + 5 <= value.size(); ++at) {
        if (equals_ignoring_case(value.substr(at, 5), "close")) return true;
      }
    }
    line_start = line_end;
  }
  return false;
}

}  // namespace

std::string_view EchoSession::receive(std::string_view received) {
  if (done_) return {};
  if (mode_ == Mode::echo) return received;
  if (mode_ == Mode::http) return receive_http(received);

  const std::size_t have = prefix_.size();
  const std::size_t take = std::min(received.size(), kGet.size() - have);
  if (received.substr(0, take) != kGet.substr(have, take)) {
    mode_ = Mode::echo;
    if (prefix_.empty()) return received;
    reply_ = std::move(prefix_);
    reply_.append(received);
    return reply_;
  }
  prefix_.append(received.substr(0, take));
  if (prefix_.size() < kGet.size()) return {};
  mode_ = Mode::http;
  pending_ = std::move(prefix_);
  return receive_http(received.substr(take));
}

std::string_view EchoSession::receive_http(std::string_view received) {
  reply_.clear();
  pending_.append(received);
  answer_complete_requests();
  return reply_;
}

void EchoSession::answer_complete_requests() {
  std::size_t begin = 0;
  while (!done_) {
    const std::size_t end = pending_.find(kBlockEnd, scanned_);
    if (end == std::string::npos) break;
    const std::size_t block_end = end + kBlockEnd.size();
    if (block_end - begin > kMaxHeaderBytes) {
      done_ = true;
      break;
    }
    reply_.append(kHttpReply);
    done_ = asks_to_close(std::string_view(pending_).substr(begin, block_end - begin));
    begin = scanned_ = block_end;
  }
  pending_.erase(0, begin);
  if (pending_.size() > kMaxHeaderBytes) done_ = true;
  if (done_) {
    pending_ = std::string();
    scanned_ = 0;
    return;
  }
  // No block end starts before the last three bytes: the next search begins there.
  scanned_ = pending_.size() < kBlockEnd.size() ? 0 : pending_.size() - (kBlockEnd.size() - 1);
}

}  // namespace greenbench::echo
