#include "abci/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "abci/frame.h"
#include "tendermint/abci/types.pb.h"

namespace cmln::abci {

namespace tm = ::tendermint::abci;

namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr int kAcceptPollMs = 100;
constexpr int kListenBacklog = 16;

bool WriteAll(int fd, const Bytes& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  ListenAddress a;
  if (text.rfind("unix://", 0) == 0) {
    a.unix_socket = true;
    a.path = std::string(text.substr(7));
    if (a.path.empty() || a.path[0] != '/') return Error(ErrorCode::kInvalidArgument, "unix:// wants an absolute path");
    if (a.path.size() >= sizeof(sockaddr_un::sun_path)) return Error(ErrorCode::kInvalidArgument, "unix socket path too long");
    return a;
  }
  if (text.rfind("tcp://", 0) == 0) {
    std::string_view hp = text.substr(6);
    auto colon = hp.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return Error(ErrorCode::kInvalidArgument, "tcp:// wants HOST:PORT");
    a.host = std::string(hp.substr(0, colon));
    std::string port(hp.substr(colon + 1));
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) > 65535) {
      return Error(ErrorCode::kInvalidArgument, "tcp:// port must be 0-65535");
    }
    a.port = std::stoi(port);
    return a;
  }
  return Error(ErrorCode::kInvalidArgument, "listen address must start with unix:// or tcp://");
}

Result<std::unique_ptr<AbciServer>> AbciServer::Listen(const std::string& address, AbciApplication* app,
                                                       size_t max_frame_bytes) {
  CMLN_ASSIGN_OR_RETURN(ListenAddress a, ParseListenAddress(address));
  int fd = -1;
  std::string bound;
  if (a.unix_socket) {
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error(ErrorCode::kIoError, "socket: " + std::string(std::strerror(errno)));
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, a.path.c_str(), a.path.size() + 1);
    ::unlink(a.path.c_str());
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
      ::close(fd);
      return Error(ErrorCode::kIoError, "cannot bind " + a.path + ": " + std::strerror(errno));
    }
    bound = address;
  } else {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error(ErrorCode::kIoError, "socket: " + std::string(std::strerror(errno)));
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(a.port));
    if (::inet_pton(AF_INET, a.host.c_str(), &sa.sin_addr) != 1) {
      ::close(fd);
      return Error(ErrorCode::kInvalidArgument, "tcp host must be an IPv4 address: " + a.host);
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
      ::close(fd);
      return Error(ErrorCode::kIoError, "cannot bind " + address + ": " + std::strerror(errno));
    }
    socklen_t len = sizeof(sa);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    bound = "tcp://" + a.host + ":" + std::to_string(ntohs(sa.sin_port));
  }
  if (::listen(fd, kListenBacklog) != 0) {
    ::close(fd);
    return Error(ErrorCode::kIoError, "cannot listen on " + address + ": " + std::strerror(errno));
  }
  return std::unique_ptr<AbciServer>(
      new AbciServer(fd, bound, a.unix_socket ? a.path : std::string(), app, max_frame_bytes));
}

AbciServer::~AbciServer() {
  RequestStop();
  {
    std::lock_guard<std::mutex> lock(conns_mu_);
    for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
}

Status AbciServer::Serve() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    int n = ::poll(&p, 1, kAcceptPollMs);
    if (n < 0 && errno != EINTR) return Error(ErrorCode::kIoError, "poll: " + std::string(std::strerror(errno)));
    if (n <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    if (unix_path_.empty()) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    std::lock_guard<std::mutex> lock(conns_mu_);
    conn_fds_.push_back(fd);
    accepted_.fetch_add(1);
    threads_.emplace_back([this, fd] { ServeConnection(fd); });
  }
  std::lock_guard<std::mutex> lock(conns_mu_);
  for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
  return OkStatus();
}

void AbciServer::ServeConnection(int fd) {
  Bytes buf;
  size_t start = 0;  // first unconsumed byte of buf
  Bytes out;
  bool open = true;
  while (open) {
    // Serve every complete frame already buffered, in order.
    while (open) {
      auto split = SplitFrame(ByteView(buf).subspan(start), max_frame_);
      tm::Request req;
      Status st = split.ok() ? OkStatus() : Status(split.error());
      if (st.ok() && !split->payload) break;  // need more bytes
      if (st.ok()) st = ParseRequest(*split->payload, &req);
      tm::Response res;
      if (!st.ok()) {
        res.mutable_exception()->set_error("refused frame: " + st.error().ToString());
        AppendResponseFrame(res, out);
        open = false;  // the stream cannot be resynchronized after a bad frame
        break;
      }
      start += split->consumed;
      app_->Handle(req, &res);
      AppendResponseFrame(res, out);
      if (req.has_flush() && !WriteAll(fd, out)) open = false;
      if (req.has_flush()) out.clear();
    }
    if (!out.empty()) {
      if (!WriteAll(fd, out)) open = false;
      out.clear();
    }
    if (!open) break;
    if (start > 0 && start * 2 >= buf.size()) {
      buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(start));
      start = 0;
    }
    const size_t at = buf.size();
    buf.resize(at + kReadChunk);
    ssize_t n;
    do {
      n = ::recv(fd, buf.data() + at, kReadChunk, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) break;
    buf.resize(at + static_cast<size_t>(n));
  }
  ::shutdown(fd, SHUT_RDWR);
  std::lock_guard<std::mutex> lock(conns_mu_);
  conn_fds_.erase(std::remove(conn_fds_.begin(), conn_fds_.end(), fd), conn_fds_.end());
  ::close(fd);
}

}  // namespace cmln::abci
