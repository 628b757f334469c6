// Process-spawning harness for Confidential MLNode end-to-end tests (and the client's): a real
// `cmln chain start` devnet initialized with `cmln chain init --allow-simulated-tee`, a sim-tdx release
// registered by governance for a tiny GGUF model (tests/engine/gguf_writer.h), real `cmln node start`
// processes, and a minimal client built from the seal primitives (OHTTP, chunked OHTTP, envelope v1,
// authorizations and receipts) so tests see exactly the bytes a client would.
//
// Everything here aborts the current test (ADD_FAILURE / empty results) rather than throwing. Child
// processes are SIGKILLed and reaped on destruction, so a failed assertion leaks nothing.
#pragma once

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "chain/rest_client.h"
#include "common/bytes.h"
#include "common/child_process.h"
#include "engine/gguf_writer.h"
#include "seal/account_key.h"
#include "seal/bhttp.h"
#include "seal/chunked_ohttp.h"
#include "seal/crypto.h"
#include "seal/envelope_v1.h"
#include "seal/inference_protocol.h"
#include "seal/ohttp.h"
#include "testing/test_util.h"

namespace cmln::node::testing {

namespace fs = std::filesystem;
using json = nlohmann::json;

inline constexpr const char* kTinyModelId = "cmln-tiny";
inline constexpr uint64_t kTinyPrice = 2;  // ngonka per token
inline constexpr const char* kReleaseId = "rel-tiny-1";

inline std::string CmlnBin() { return std::string(CMLN_BINARY_DIR) + "/cmln"; }

inline int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

inline uint64_t U64(const json& j, const char* field) {
  if (!j.contains(field)) return 0;  // proto3 JSON omits zeros
  return j[field].is_string() ? std::stoull(j[field].get<std::string>()) : j[field].get<uint64_t>();
}

inline void WriteText(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// A child process running `cmln ARGS...` with stdout and stderr appended to `log`: a cmln::ChildProcess
// (SIGKILLed and reaped on destruction) with the harness's defaults. One Child is one run.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::string& log) : process_("cmln", log) {
    std::vector<std::string> argv{CmlnBin()};
    argv.insert(argv.end(), args.begin(), args.end());
    const Status started = process_.Start(argv);
    EXPECT_TRUE(started.ok()) << (started.ok() ? "" : started.error().ToString());
  }

  // "http://HOST:PORT" from the first JSON line with string member "listening" this run wrote to the
  // log; "" if the child exits or the timeout passes first.
  std::string WaitListening(int timeout_ms) {
    return process_.WaitListening(std::chrono::milliseconds(timeout_ms)).value_or("");
  }
  bool Running() { return process_.Running(); }
  void Signal(int sig) { process_.Signal(sig); }
  // SIGTERM and wait; returns the exit code, or -1 if it was killed by a signal (SIGKILLed after two
  // minutes) or already reaped.
  int Terminate() {
    if (process_.pid() <= 0) return -1;
    process_.Signal(SIGTERM);
    const std::optional<int> exited = process_.WaitExit(std::chrono::minutes(2));
    const int status = exited ? *exited : process_.Kill();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  void Kill9() { process_.Kill(); }
  // The whole log, earlier runs included.
  std::string Log() const { return cmln::testing::ReadFileOrDie(process_.log_path()); }

 private:
  ChildProcess process_;
};

// Runs `cmln ARGS` to completion and parses its stdout as JSON.
inline json CmlnJson(const std::string& args, int want_exit = 0) {
  auto r = cmln::testing::RunProcess(CmlnBin() + " " + args);
  EXPECT_EQ(r.exit_code, want_exit) << args << "\n" << r.out;
  auto j = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << args << "\n" << r.out;
  return j;
}

// The tiny GGUF model: written once per directory; its SHA-256 is the release's model_digest.
struct TinyModel {
  std::string path;
  seal::Digest32 digest{};
  static TinyModel Write(const std::string& dir) {
    engine::testing::TinyModelSpec spec;
    spec.weight_type = engine::TensorType::kQ8_0;
    spec.embd_type = engine::TensorType::kQ8_0;
    const Bytes bytes = engine::testing::BuildTinyModel(spec);
    TinyModel m;
    m.path = dir + "/tiny.gguf";
    WriteText(m.path, AsChars(bytes));
    m.digest = seal::Sha256(bytes);
    return m;
  }
};

// The simulated measurements the test node reports and the release approves.
inline std::map<std::string, Bytes> SimMeasurements() {
  std::map<std::string, Bytes> m;
  m["MRTD"] = Bytes(48, 0xA1);
  for (int i = 0; i < 4; ++i) m["RTMR" + std::to_string(i)] = Bytes(48, static_cast<uint8_t>(0xB0 + i));
  return m;
}

// A devnet: `cmln chain init --allow-simulated-tee` + `cmln chain start`, the sim-tdx release of the
// tiny model registered by the authority, and helpers to fund users and open escrows.
struct DevnetOptions {
  uint64_t epoch_length = 100000;  // long: escrows close at epoch boundaries
  int block_interval_ms = 100;
};

class Devnet {
 public:
  using Options = DevnetOptions;

  // A development PKI shared by every devnet of this machine's test runs (generating one costs seconds of
  // RSA-4096): made once with `cmln attest sim pki`, published by an atomic rename.
  static std::string SharedSimPki() {
    const std::string dir = ::testing::TempDir() + "/cmln-node-tests-sim-pki";
    if (fs::exists(dir + "/sim_pki.json")) return dir;
    const std::string tmp = dir + ".tmp." + std::to_string(getpid());
    fs::remove_all(tmp);
    CmlnJson("attest sim pki --out " + tmp + " --json");
    std::error_code ec;
    fs::rename(tmp, dir, ec);  // another process may have won the race: theirs is as good
    fs::remove_all(tmp, ec);
    return dir;
  }

  // Creates DIR (wiped first). Fails the test (url() empty) on error.
  explicit Devnet(const std::string& dir, Options o = Options()) : dir_(dir), home_(dir + "/chain") {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    CmlnJson("chain init --home " + home_ + " --allow-simulated-tee --epoch-length " + std::to_string(o.epoch_length) +
             " --model " + std::string(kTinyModelId) + "=" + std::to_string(kTinyPrice) + " --host host --sim-pki " +
             SharedSimPki());
    model_ = TinyModel::Write(dir_);
    StartChain(o.block_interval_ms);
    if (url_.empty()) return;
    RegisterRelease();
  }

  void StartChain(int block_interval_ms = 100) {
    chain_ = std::make_unique<Child>(std::vector<std::string>{"chain", "start", "--home", home_, "--listen",
                                                             "127.0.0.1:" + std::to_string(port_), "--block-interval-ms",
                                                             std::to_string(block_interval_ms)},
                                     dir_ + "/chain.log");
    url_ = chain_->WaitListening(60000);
    EXPECT_FALSE(url_.empty()) << "chain did not start:\n" << chain_->Log();
    if (!url_.empty() && port_ == 0) port_ = std::stoi(url_.substr(url_.rfind(':') + 1));
  }

  const std::string& url() const { return url_; }
  const std::string& home() const { return home_; }
  const std::string& dir() const { return dir_; }
  const TinyModel& model() const { return model_; }
  Child& chain() { return *chain_; }
  chain::RestClient rest() const { return chain::RestClient(url_); }
  std::string KeyFile(const std::string& name) const { return home_ + "/keys/" + name + ".json"; }
  std::string Address(const std::string& name) const {
    return json::parse(std::ifstream(KeyFile(name)))["address"].get<std::string>();
  }
  std::string ChainId() const { return (*rest().Get("/status"))["chain_id"].get<std::string>(); }
  json Get(const std::string& path) const {
    auto r = rest().Get(path);
    EXPECT_TRUE(r.ok()) << path << ": " << (r.ok() ? "" : r.error().ToString());
    return r.ok() ? *r : json();
  }

  // A fresh user funded by alice, with an OPEN escrow of `amount` for the tiny model. Returns the escrow id.
  uint64_t NewUserWithEscrow(const seal::AccountPrivateKey& user, uint64_t amount, const std::string& name) {
    const std::string addr = seal::AccountAddressToString(seal::AccountAddressFromPublicKey(user.public_key()));
    const std::string key_file = dir_ + "/" + name + ".json";
    WriteText(key_file, json{{"private_key_hex", HexEncode(user.scalar())}}.dump());
    EXPECT_EQ(CmlnJson("tx send --node " + url_ + " --key " + KeyFile("alice") + " --to " + addr + " --amount " +
                       std::to_string(amount + 1000000))["code"],
              0);
    return CreateEscrow(key_file, addr, amount);
  }
  uint64_t CreateEscrow(const std::string& key_file, const std::string& addr, uint64_t amount,
                        const std::string& model = kTinyModelId) {
    const size_t before = Get("/escrows?creator=" + addr).size();
    EXPECT_EQ(CmlnJson("tx create-escrow --node " + url_ + " --key " + key_file + " --amount " + std::to_string(amount) +
                       " --model " + model)["code"],
              0);
    json list = Get("/escrows?creator=" + addr);
    EXPECT_EQ(list.size(), before + 1);
    return list.empty() ? 0 : U64(list.back(), "id");
  }

  // The node configuration for `node_id` (JSON; tests may edit it before writing).
  json NodeConfig(const std::string& node_id) const {
    json m = json::object();
    for (const auto& [k, v] : SimMeasurements()) m[k] = HexEncode(v);
    return {{"node_id", node_id},
            {"chain_rest_url", url_},
            {"host_key_file", KeyFile("host")},
            {"listen_host", "127.0.0.1"},
            {"listen_port", 0},
            {"model_id", kTinyModelId},
            {"model_path", model_.path},
            {"engine_threads", 1},
            {"platform", "sim-tdx"},
            {"release_id", kReleaseId},
            {"sim_pki_dir", SharedSimPki()},
            {"sim_measurements", m},
            {"data_dir", dir_ + "/" + node_id + "-data"},
            {"batch_interval_ms", 300},
            {"submit_backoff_initial_ms", 100},
            {"submit_backoff_max_ms", 1000},
            {"epoch_poll_ms", 200},
            {"escrow_cache_ms", 0},
            {"default_max_tokens", 8},
            {"log_level", "debug"}};
  }

 private:
  void RegisterRelease() {
    json ms = json::array();
    for (const auto& [k, v] : SimMeasurements()) ms.push_back({{"name", k}, {"value", Base64Encode(v)}});
    json release = {{"release_id", kReleaseId},      {"platform", "sim-tdx"},
                    {"measurements", ms},            {"model_id", kTinyModelId},
                    {"model_digest", Base64Encode(model_.digest)}, {"engine", "builtin"},
                    {"min_tcb", "UpToDate"}};
    WriteText(dir_ + "/release.json", release.dump());
    EXPECT_EQ(CmlnJson("tx register-release --node " + url_ + " --key " + KeyFile("authority") + " --release " + dir_ +
                       "/release.json")["code"],
              0);
  }

  std::string dir_, home_, url_;
  int port_ = 0;  // kept across chain restarts so nodes find it again
  TinyModel model_;
  std::unique_ptr<Child> chain_;
};

// A `cmln node start` process with its configuration file.
class NodeProcess {
 public:
  NodeProcess(const std::string& dir, const std::string& node_id, const json& config)
      : config_path_(dir + "/" + node_id + ".config.json"), log_(dir + "/" + node_id + ".log") {
    WriteText(config_path_, config.dump(2));
    Start();
  }
  void Start() {
    child_ = std::make_unique<Child>(std::vector<std::string>{"node", "start", "--config", config_path_}, log_);
    url_ = child_->WaitListening(120000);
    EXPECT_FALSE(url_.empty()) << "node did not start:\n" << child_->Log();
  }
  const std::string& url() const { return url_; }
  Child& child() { return *child_; }
  std::string Log() const { return child_->Log(); }

 private:
  std::string config_path_, log_, url_;
  std::unique_ptr<Child> child_;
};

// --- a minimal client over the seal primitives ----------------------------------------------------------

struct ChatResult {
  int outer_status = 0;        // HTTP status of the outer response
  std::string outer_body;      // plaintext outer body when the request was refused before decryption
  int status = 0;              // status of the BHTTP response inside the encryption
  std::string content;         // its content (JSON, or the SSE bytes of a stream)
  std::optional<Bytes> receipt;  // decoded from the gonka-receipt header or trailer
  size_t sealed_chunks = 0;    // chunked responses: chunks that arrived before the final one
  bool indeterminate = false;  // the BHTTP framing was indeterminate-length
};

inline std::string ChatRequestJson(const std::string& prompt, bool stream, uint32_t max_tokens = 6) {
  json j = {{"model", kTinyModelId},
            {"messages", {{{"role", "user"}, {"content", prompt}}}},
            {"max_tokens", max_tokens},
            {"temperature", 0},
            {"stream", stream}};
  return j.dump();
}

inline std::string AuthorizationHeader(const seal::AccountPrivateKey& user, const std::string& chain_id,
                                       const std::string& node_id, uint64_t escrow, const std::string& content,
                                       int64_t timestamp = 0) {
  auto auth = seal::SignAuthorization(user, chain_id, node_id, escrow,
                                      static_cast<uint64_t>(timestamp == 0 ? UnixNow() : timestamp), AsBytes(content));
  EXPECT_TRUE(auth.ok());
  auto bytes = seal::EncodeAuthorization(*auth);
  EXPECT_TRUE(bytes.ok());
  return Base64Encode(*bytes);
}

inline Bytes InnerRequest(const std::string& content, const std::string& authorization_b64) {
  seal::bhttp::Request r;
  r.method = "POST";
  r.scheme = "https";
  r.authority = "node";
  r.path = "/v1/chat/completions";
  r.headers = {{"content-type", "application/json"}};
  if (!authorization_b64.empty()) r.headers.push_back({std::string(seal::kAuthorizationHeader), authorization_b64});
  r.content = ToBytes(content);
  auto b = seal::bhttp::EncodeRequest(r);
  EXPECT_TRUE(b.ok());
  return b.ok() ? *b : Bytes();
}

inline seal::ohttp::KeyConfig FetchKeyConfig(const std::string& node_url) {
  httplib::Client c(node_url);
  auto r = c.Get("/.well-known/ohttp-gateway");
  EXPECT_TRUE(r && r->status == 200);
  auto list = seal::ohttp::DecodeKeyConfigList(AsBytes(r ? r->body : std::string()));
  EXPECT_TRUE(list.ok() && !list->empty());
  return list.ok() && !list->empty() ? list->front() : seal::ohttp::KeyConfig();
}

inline void FillFromBhttp(ChatResult& out, ByteView bhttp_bytes) {
  auto resp = seal::bhttp::DecodeResponse(bhttp_bytes);
  EXPECT_TRUE(resp.ok()) << (resp.ok() ? "" : resp.error().ToString());
  if (!resp.ok()) return;
  out.indeterminate = !bhttp_bytes.empty() && bhttp_bytes[0] == 3;
  out.status = resp->status;
  out.content = std::string(AsChars(resp->content));
  for (const auto* fields : {&resp->headers, &resp->trailers}) {
    for (const auto& f : *fields) {
      if (f.name == seal::kReceiptHeader) {
        auto b = Base64Decode(f.value);
        EXPECT_TRUE(b.ok());
        if (b.ok()) out.receipt = *b;
      }
    }
  }
}

// One-shot OHTTP (message/ohttp-req). `tamper` may edit the encapsulated request before it is sent.
inline ChatResult PostOhttp(const std::string& node_url, const seal::ohttp::KeyConfig& config, ByteView inner,
                            const std::function<void(Bytes&)>& tamper = nullptr,
                            std::optional<Bytes>* sent = nullptr) {
  ChatResult out;
  auto suite = seal::ohttp::SelectSuite(config);
  EXPECT_TRUE(suite.ok());
  auto req = seal::ohttp::EncapsulateRequest(config, *suite, inner);
  EXPECT_TRUE(req.ok());
  if (!req.ok()) return out;
  if (tamper) tamper(req->encapsulated_request);
  if (sent != nullptr) *sent = req->encapsulated_request;
  httplib::Client c(node_url);
  c.set_read_timeout(120, 0);
  auto r = c.Post("/v1/ohttp", std::string(AsChars(req->encapsulated_request)), std::string(seal::ohttp::kRequestMediaType));
  EXPECT_TRUE(r);
  if (!r) return out;
  out.outer_status = r->status;
  if (r->status != 200) {
    out.outer_body = r->body;
    return out;
  }
  EXPECT_EQ(r->get_header_value("Content-Type"), seal::ohttp::kResponseMediaType);
  auto bhttp_bytes = req->context.DecapsulateResponse(AsBytes(r->body));
  EXPECT_TRUE(bhttp_bytes.ok()) << (bhttp_bytes.ok() ? "" : bhttp_bytes.error().ToString());
  if (bhttp_bytes.ok()) FillFromBhttp(out, *bhttp_bytes);
  return out;
}

// Re-sends exactly the bytes of an earlier encapsulated request (B3): the response cannot be opened by
// the test (it lacks the original context), so only the outer status and body are returned.
inline std::pair<int, std::string> PostRaw(const std::string& node_url, const std::string& path, const std::string& body,
                                           const std::string& content_type,
                                           const httplib::Headers& headers = httplib::Headers()) {
  httplib::Client c(node_url);
  c.set_read_timeout(120, 0);
  auto r = c.Post(path.c_str(), headers, body, content_type.c_str());
  if (!r) return {0, ""};
  return {r->status, r->body};
}

// Chunked OHTTP: the request sealed as one final chunk; the response read incrementally.
inline ChatResult PostChunkedOhttp(const std::string& node_url, const seal::ohttp::KeyConfig& config, ByteView inner) {
  ChatResult out;
  auto suite = seal::ohttp::SelectSuite(config);
  EXPECT_TRUE(suite.ok());
  auto sealer = seal::ohttp::ChunkedRequestSealer::Create(config, *suite);
  EXPECT_TRUE(sealer.ok());
  if (!sealer.ok()) return out;
  auto body = sealer->SealFinalChunk(inner);
  EXPECT_TRUE(body.ok());
  auto opener = sealer->NewResponseOpener();
  Bytes plaintext;
  bool open_failed = false;
  httplib::Client c(node_url);
  c.set_read_timeout(120, 0);
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/ohttp";
  req.body = std::string(AsChars(*body));
  req.set_header("Content-Type", std::string(seal::ohttp::kChunkedRequestMediaType));
  std::string raw_error_body;
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    raw_error_body.append(data, len);
    auto chunks = opener.Push(ByteView(reinterpret_cast<const uint8_t*>(data), len));
    if (!chunks.ok()) {
      open_failed = true;
      return true;
    }
    for (const auto& ch : *chunks) {
      Append(plaintext, ch);
      ++out.sealed_chunks;
    }
    return true;
  };
  auto r = c.send(req);
  EXPECT_TRUE(r);
  if (!r) return out;
  out.outer_status = r->status;
  if (r->status != 200) {
    out.outer_body = raw_error_body;
    return out;
  }
  EXPECT_EQ(r->get_header_value("Content-Type"), seal::ohttp::kChunkedResponseMediaType);
  EXPECT_FALSE(open_failed);
  auto last = opener.Finish();
  EXPECT_TRUE(last.ok()) << (last.ok() ? "" : last.error().ToString());
  if (!last.ok()) return out;
  Append(plaintext, *last);
  FillFromBhttp(out, plaintext);
  return out;
}

// Verifies a receipt under `sign_pk` and returns it decoded (fails the test on any mismatch).
inline seal::Receipt CheckReceipt(const Bytes& encoded, ByteView sign_pk) {
  auto r = seal::DecodeReceipt(encoded);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
  if (!r.ok()) return seal::Receipt();
  Status st = seal::VerifyReceiptSignature(*r, sign_pk);
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().ToString());
  return *r;
}

}  // namespace cmln::node::testing
