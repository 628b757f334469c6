#include "abci/rest_proxy.h"

#include <httplib.h>

#include "abci/abci_app.h"
#include "chain/ohttp_relay.h"
#include "chain/tx.h"
#include "common/http_listen.h"

namespace cmln::abci {

namespace {

constexpr int kRpcTimeoutSeconds = 10;

int HttpStatusFor(ErrorCode c) {
  switch (c) {
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kBadEncoding:
    case ErrorCode::kMalformed: return 400;
    case ErrorCode::kIoError: return 503;
    default: return 422;
  }
}

void ReplyError(httplib::Response& res, const Error& e) {
  res.status = HttpStatusFor(e.code());
  res.set_content(nlohmann::json{{"code", static_cast<int>(e.code())},
                                 {"codespace", std::string(ErrorCodeName(e.code()))},
                                 {"error", e.message()}}
                      .dump(),
                  "application/json");
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Result<nlohmann::json> CometRpcCall(const std::string& comet_rpc, const std::string& method, const nlohmann::json& params) {
  httplib::Client cli(comet_rpc);
  cli.set_connection_timeout(kRpcTimeoutSeconds, 0);
  cli.set_read_timeout(kRpcTimeoutSeconds, 0);
  nlohmann::json body = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}};
  auto r = cli.Post("/", body.dump(), "application/json");
  if (!r) return Error(ErrorCode::kIoError, "CometBFT RPC " + comet_rpc + " unreachable (" + httplib::to_string(r.error()) + ")");
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (!j.is_object()) return Error(ErrorCode::kBadEncoding, "CometBFT RPC " + method + ": non-JSON answer");
  if (j.contains("error")) {
    const nlohmann::json& e = j["error"];
    std::string msg = e.is_object() ? e.value("data", e.value("message", std::string("error"))) : e.dump();
    return Error(ErrorCode::kUnsupported, "CometBFT RPC " + method + ": " + msg);
  }
  if (!j.contains("result")) return Error(ErrorCode::kBadEncoding, "CometBFT RPC " + method + ": no result");
  return j["result"];
}

Result<std::string> CometRestProxy::AbciQueryDocument(const std::string& path) const {
  CMLN_ASSIGN_OR_RETURN(nlohmann::json r, CometRpcCall(comet_, "abci_query", {{"path", path}}));
  const nlohmann::json& resp = r["response"];
  const int code = resp.value("code", 0);
  if (code != 0) return Error(static_cast<ErrorCode>(code), resp.value("log", std::string()));
  CMLN_ASSIGN_OR_RETURN(Bytes value, Base64Decode(resp.value("value", std::string())));
  return std::string(AsChars(value));
}

CometRestProxy::CometRestProxy(std::string comet_rpc, std::string listen_host, int port)
    : comet_(std::move(comet_rpc)), host_(std::move(listen_host)), port_(port) {}

CometRestProxy::~CometRestProxy() { Stop(); }

void CometRestProxy::Stop() {
  stop_ = true;
  if (http_) http_->stop();
}

Status CometRestProxy::Run() {
  http_ = std::make_unique<httplib::Server>();
  http_->set_payload_max_length(chain::kAbsoluteMaxTxBytes * 2);
  // Reads: any GET path goes to abci_query with the path and query string as the REST API spells them.
  http_->Get(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
    std::string path = req.path;
    if (!req.params.empty()) {
      std::string q;
      for (const auto& [k, v] : req.params) q += (q.empty() ? "?" : "&") + k + "=" + v;
      path += q;
    }
    auto value = AbciQueryDocument(path);
    if (!value.ok()) return ReplyError(res, value.error());
    res.status = 200;
    res.set_content(*value, "application/json");
  });
  // The network node as an Oblivious Relay to the confidential nodes the chain lists (RFC 9458).
  chain::MountOhttpRelay(*http_, chain::EndpointFromAttestations([this](const std::string& node_id) -> Result<nlohmann::json> {
    CMLN_ASSIGN_OR_RETURN(std::string doc, AbciQueryDocument("/attestations?node=" + node_id));
    auto j = nlohmann::json::parse(doc, nullptr, false);
    if (j.is_discarded()) return Error(ErrorCode::kBadEncoding, "attestation record is not JSON");
    return j;
  }));
  http_->Post("/txs", [this](const httplib::Request& req, httplib::Response& res) {
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("tx_base64") || !body["tx_base64"].is_string()) {
      return ReplyError(res, Error(ErrorCode::kMalformed, "body must be {\"tx_base64\": …}"));
    }
    auto raw = Base64Decode(body["tx_base64"].get<std::string>());
    if (!raw.ok()) return ReplyError(res, raw.error());
    const std::string hash = chain::TxHashHex(*raw);
    auto r = CometRpcCall(comet_, "broadcast_tx_sync", {{"tx", body["tx_base64"]}});
    nlohmann::json out = {{"hash", hash}};
    if (!r.ok()) {
      if (r.error().code() == ErrorCode::kIoError) return ReplyError(res, r.error());
      // CometBFT's mempool refused before CheckTx (cache hit, full, too large).
      const std::string& m = r.error().message();
      ErrorCode c = m.find("already exists") != std::string::npos ? ErrorCode::kAlreadyExists
                    : m.find("too large") != std::string::npos  ? ErrorCode::kLengthTooLarge
                                                                : ErrorCode::kLimitExceeded;
      out["code"] = static_cast<int>(c);
      out["codespace"] = std::string(ErrorCodeName(c));
      out["log"] = m;
      res.status = 422;
    } else {
      const int code = r->value("code", 0);
      out["code"] = code;
      out["codespace"] = std::string(ErrorCodeName(static_cast<ErrorCode>(code)));  // as the embedded node
      out["log"] = r->value("log", std::string());
      if (Lower(r->value("hash", std::string())) != hash) {
        return ReplyError(res, Error(ErrorCode::kInternal, "CometBFT reports another tx hash"));
      }
      res.status = code == 0 ? 200 : 422;
    }
    res.set_content(out.dump(), "application/json");
  });
  CMLN_ASSIGN_OR_RETURN(int port, BindServer(*http_, host_, port_));
  bound_port_ = port;
  std::thread listener = ListenInBackground(*http_);
  // A Stop() that came before the server ran set stop_ but its http_->stop() may have been lost.
  if (stop_.load()) http_->stop();
  listener.join();
  return OkStatus();
}

}  // namespace cmln::abci
