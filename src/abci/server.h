// The ABCI socket server: CometBFT opens four connections (consensus, mempool, query, snapshot); each is
// served on its own thread, strictly in order (one request, its response, the next), and every request
// goes through AbciApplication::Handle (one mutex over the App).
//
// Addresses: "unix:///absolute/path" (a stale socket file is replaced) or "tcp://HOST:PORT" (PORT 0 picks a
// free port; bound_address() tells which). Framing in frame.h. Responses are buffered and written when a
// Flush request arrives or no further complete request is buffered. A frame that is oversized or does not
// decode gets one ResponseException and the connection is closed; the process and other connections go on.
//
// Thread safety: Serve runs on one thread; RequestStop is async-signal-safe (it sets an atomic flag that
// the accept loop polls every 100 ms).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "abci/abci_app.h"
#include "abci/frame.h"
#include "common/status.h"

namespace cmln::abci {

struct ListenAddress {
  bool unix_socket = false;
  std::string path;  // unix
  std::string host;  // tcp
  int port = 0;      // tcp
};

// kInvalidArgument naming what is wrong.
Result<ListenAddress> ParseListenAddress(std::string_view text);

class AbciServer {
 public:
  static Result<std::unique_ptr<AbciServer>> Listen(const std::string& address, AbciApplication* app,
                                                    size_t max_frame_bytes = kMaxFrameBytes);
  ~AbciServer();
  AbciServer(const AbciServer&) = delete;
  AbciServer& operator=(const AbciServer&) = delete;

  std::string bound_address() const { return bound_; }
  // Accepts connections until RequestStop(); then closes every connection and joins their threads.
  Status Serve();
  void RequestStop() { stop_.store(true); }
  // Connections accepted so far (tests).
  size_t connections_accepted() const { return accepted_.load(); }

 private:
  AbciServer(int listen_fd, std::string bound, std::string unix_path, AbciApplication* app, size_t max_frame)
      : listen_fd_(listen_fd), bound_(std::move(bound)), unix_path_(std::move(unix_path)), app_(app),
        max_frame_(max_frame) {}
  void ServeConnection(int fd);

  int listen_fd_;
  std::string bound_;
  std::string unix_path_;
  AbciApplication* app_;
  size_t max_frame_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> accepted_{0};
  std::mutex conns_mu_;
  std::vector<int> conn_fds_;
  std::vector<std::thread> threads_;
};

}  // namespace cmln::abci
