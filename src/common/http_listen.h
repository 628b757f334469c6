// Starting a bound cpp-httplib server on a background thread, race-free.
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

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

namespace cmln {

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
