// BindServer: the listen backlog is kListenBacklog, not the 5 compiled into Debian's cpp-httplib, so a burst
// of new connections is queued by the kernel instead of dropped (each dropped client would wait for TCP's
// 1 s SYN retransmission — what made the node-overhead bench's c=32 figures swing up to 16 ms per request).
#include "common/http_listen.h"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <vector>

namespace cmln {
namespace {

// Connects without anyone accepting: succeeds once the kernel completed the handshake into the accept
// queue, within `timeout_ms`.
bool ConnectsWithin(int port, int timeout_ms, int& fd_out) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  fd_out = fd;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0) return true;
  if (errno != EINPROGRESS) return false;
  pollfd p{fd, POLLOUT, 0};
  if (::poll(&p, 1, timeout_ms) != 1) return false;
  int err = 0;
  socklen_t len = sizeof(err);
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  return err == 0;
}

TEST(BindServer, ABurstOfConnectionsIsQueuedNotDropped) {
  httplib::Server server;
  auto port = BindServer(server, "127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.error().ToString();
  // Nobody accepts: every connection has to wait in the kernel's queue.
  std::vector<int> fds;
  int connected = 0;
  for (int i = 0; i < 48; ++i) {
    int fd = -1;
    if (ConnectsWithin(*port, 300, fd)) ++connected;
    fds.push_back(fd);
  }
  for (int fd : fds) ::close(fd);
  EXPECT_EQ(connected, 48);
}

TEST(BindServer, BindErrorsAreIoErrors) {
  // A port held by a plain listening socket (no SO_REUSEPORT), so no second socket can bind it.
  const int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  socklen_t len = sizeof(sa);
  ASSERT_EQ(::getsockname(holder, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  const int port = ntohs(sa.sin_port);
  httplib::Server second;
  auto taken = BindServer(second, "127.0.0.1", port);
  ::close(holder);
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code(), ErrorCode::kIoError);
  EXPECT_EQ(taken.error().message(), "cannot bind 127.0.0.1:" + std::to_string(port));
  httplib::Server bad;
  auto unresolvable = BindServer(bad, "256.0.0.1", 0);
  ASSERT_FALSE(unresolvable.ok());
  EXPECT_EQ(unresolvable.error().code(), ErrorCode::kIoError);
}

}  // namespace
}  // namespace cmln
