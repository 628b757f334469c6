// Binding a cpp-httplib server with a real listen backlog, and starting it on a background thread,
// race-free. Every cmln server (node, chain REST, engine, proxy) starts through these two.
//
// BindServer: Debian's cpp-httplib 0.11 library listens with a backlog of 5 (compiled in), so a burst of
// more than a few new connections — 32 clients connecting at once — overflows the accept queue; the
// kernel drops their handshakes and each such client waits for TCP's 1 s SYN retransmission. BindServer
// keeps the server's socket from httplib's socket-options hook and calls listen() again with
// kListenBacklog once bound (Linux raises the backlog of a listening socket in place).
//
// httplib's Server::stop() only acts once the listening thread has entered its accept loop
// (is_running() true); a stop() issued earlier — e.g. a SIGTERM that arrives right after the process
// printed its "listening" line — is silently lost and a later join() waits forever. So every cmln
// server starts listening through ListenInBackground, which returns only when stop() can no longer be
// lost: the server runs, or its accept loop already ended (listen error).
//
// Header-only so that only targets that link cpp-httplib include it. Thread safety: call once per server.
#pragma once

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"

namespace cmln {

inline constexpr int kListenBacklog = 1024;

// Binds `server` to host:port (port 0: any free port) and raises its listen backlog. Returns the bound
// port; kIoError "cannot bind HOST:PORT" if binding failed. Call before ListenInBackground.
inline Result<int> BindServer(httplib::Server& server, const std::string& host, int port) {
  auto listening = std::make_shared<int>(-1);
  server.set_socket_options([listening](socket_t sock) {
    httplib::default_socket_options(sock);  // SO_REUSEADDR / SO_REUSEPORT as before
    *listening = sock;
  });
  const int bound = port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) return Error(ErrorCode::kIoError, "cannot bind " + host + ":" + std::to_string(port));
  if (*listening >= 0) ::listen(*listening, kListenBacklog);
  return bound;
}

// REQUIRES: `server` is bound (bind_to_port / bind_to_any_port) and outlives the returned thread.
// The thread runs listen_after_bind(); stop the server, then join it.
inline std::thread ListenInBackground(httplib::Server& server) {
  auto ended = std::make_shared<std::atomic<bool>>(false);
  std::thread listener([&server, ended] {
    server.listen_after_bind();
    ended->store(true);
  });
  while (!server.is_running() && !ended->load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return listener;
}

}  // namespace cmln
