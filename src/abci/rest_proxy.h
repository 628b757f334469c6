// The REST API of the embedded node (chain/node.h), served in front of a CometBFT network, so `cmln tx`,
// `cmln query`, chain::RestClient and anything else written for `cmln chain start` work unchanged.
//
//   GET  <REST path>      -> CometBFT JSON-RPC abci_query {path} -> the app's JSON document (200), or
//                            {"code", "codespace", "error"} with 404 (not_found), 400 (malformed input), 422
//   POST /txs {"tx_base64"} -> broadcast_tx_sync -> {"hash" (lowercase hex), "code", "codespace", "log"}:
//                            200 admitted, 422 refused by CheckTx (or CometBFT's mempool: already_exists,
//                            limit_exceeded), 400 for a body that is not {"tx_base64": base64}
//   CometBFT unreachable   -> 503 {"code": io_error}
// The paths and their translation are those of the ABCI Query (abci_app.h: QueryPathFromRest); the proxy
// holds no state. Thread safety: Run blocks; Stop may be called from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace httplib {
class Server;
}

namespace cmln::abci {

class CometRestProxy {
 public:
  // `comet_rpc` = "http://127.0.0.1:26657" (CometBFT's [rpc] laddr).
  CometRestProxy(std::string comet_rpc, std::string listen_host, int port);
  ~CometRestProxy();

  // Binds (port 0 = any; port() tells which), then serves until Stop(). kIoError if the bind fails.
  Status Run();
  void Stop();
  int port() const { return bound_port_.load(); }

 private:
  // The app's JSON document for a REST path, through abci_query; the app's refusal as its own code.
  Result<std::string> AbciQueryDocument(const std::string& path) const;

  std::string comet_;
  std::string host_;
  int port_;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<int> bound_port_{0};
  std::atomic<bool> stop_{false};
};

// One CometBFT JSON-RPC call: the "result" member; kIoError if unreachable, kUnsupported with the node's
// message for a JSON-RPC error.
Result<nlohmann::json> CometRpcCall(const std::string& comet_rpc, const std::string& method, const nlohmann::json& params);

}  // namespace cmln::abci
