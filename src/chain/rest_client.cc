#include "chain/rest_client.h"

#include <chrono>
#include <thread>

#include <httplib.h>

#include "chain/tx.h"

namespace cmln::chain {

namespace {

Result<nlohmann::json> Parse(const httplib::Result& r, const std::string& what) {
  if (!r) return Error(ErrorCode::kIoError, what + ": node unreachable (" + httplib::to_string(r.error()) + ")");
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return Error(ErrorCode::kBadEncoding, what + ": HTTP " + std::to_string(r->status) + " non-JSON body");
  if (r->status == 200) return j;
  if (j.contains("error") && j.contains("code")) {
    return Error(static_cast<ErrorCode>(j["code"].get<int>()), j["error"].get<std::string>());
  }
  return j;  // a refused tx: the CheckTx result
}

std::unique_ptr<httplib::Client> MakeClient(const std::string& base) {
  auto c = std::make_unique<httplib::Client>(base);
  c->set_connection_timeout(10, 0);
  c->set_read_timeout(10, 0);
  c->set_write_timeout(10, 0);
  return c;
}

}  // namespace

Result<nlohmann::json> RestClient::Get(const std::string& path) const {
  return Parse(MakeClient(base_)->Get(path), "GET " + path);
}

Result<nlohmann::json> RestClient::BroadcastTx(ByteView raw) const {
  nlohmann::json body = {{"tx_base64", Base64Encode(raw)}};
  return Parse(MakeClient(base_)->Post("/txs", body.dump(), "application/json"), "POST /txs");
}

Result<nlohmann::json> RestClient::WaitTx(const std::string& hash, int timeout_ms) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto r = Get("/txs/" + hash);
    if (r.ok()) return r;
    if (r.error().code() != ErrorCode::kNotFound) return r.error();
    if (std::chrono::steady_clock::now() > deadline) return Error(ErrorCode::kNotFound, "tx " + hash + " not committed in time");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Result<nlohmann::json> RestClient::SignAndBroadcast(const seal::AccountPrivateKey& key, const std::vector<v1::Msg>& messages,
                                                    uint64_t fee, bool wait, int timeout_ms) const {
  CMLN_ASSIGN_OR_RETURN(nlohmann::json status, Get("/status"));
  const std::string addr = seal::AccountAddressToString(seal::AccountAddressFromPublicKey(key.public_key()));
  CMLN_ASSIGN_OR_RETURN(nlohmann::json account, Get("/accounts/" + addr));
  uint64_t sequence = std::stoull(account.value("sequence", std::string("0")));
  CMLN_ASSIGN_OR_RETURN(Bytes tx, BuildSignedTx(key, status["chain_id"].get<std::string>(), sequence, fee, messages));
  CMLN_ASSIGN_OR_RETURN(nlohmann::json result, BroadcastTx(tx));
  if (!wait || result.value("code", 0) != 0) return result;
  return WaitTx(result["hash"].get<std::string>(), timeout_ms);
}

}  // namespace cmln::chain
