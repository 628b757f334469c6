// `scripts/bench chain-settle`: confidential usage settlement through the chain's state machine, and the
// on-chain bytes it takes beside Gonka's classic two-transaction flow.
//
// BM_SettleBlock: one block of kTxsPerBlock MsgSettleConfidentialUsage transactions, each carrying a full
//   usage batch (kEntriesPerBatch entries, one per escrow, each escrow created by its own account), run
//   through App::FinalizeBlock + App::Commit exactly as `cmln chain start` does: tx decoding, the relayer's
//   secp256k1 signature, the ante step, the node's Ed25519 batch signature, every per-entry check
//   (escrow, model, grace window), the requesters digest over the escrows' creator keys, the payments,
//   events, the app hash and the SQLite commit (WAL, synchronous=FULL, on a file in a temporary directory). Batches are signed outside the
//   timed region (that is the node's and the relayer's work, not the chain's). Counter entries_per_s.
//   The node registered through the real verifier: a simulated-TEE devnet genesis (InitHome) and a
//   sim-tdx bundle (attest::BuildSimBundle).
//
// BM_OnChainBytes: bytes that reach blocks for 1,000 inferences.
//   ours: the exact TxRaw bytes of MsgSettleConfidentialUsage txs carrying them. Worst case (counter
//     ours_bytes_per_1k): every inference is from a different escrow, one entry each (usage batch layout
//     version 2: five shortest-form varints per entry, one 32-byte requesters digest per batch; with the
//     bench's consecutive escrow ids, 512/256 tokens and a 1..3 ngonka cost, 7 bytes per entry). Counter
//     ours_bytes_per_1k_wide: the same with mainnet-width values (escrow ids 2^20 apart, cost ~768,000
//     ngonka: 13 bytes per entry), measured only. Counter ours_bytes_per_1k_agg10: 10 inferences per
//     escrow per batch (a chat session's turns between two settlements), so 100 entries.
//   classic: two Cosmos SDK transactions per inference, MsgStartInference (by the transfer agent) and
//     MsgFinishInference (by the executor), as Gonka's x/inference carries them. They are encoded here
//     field by field in protobuf wire format (a bench-local writer; the chain never parses them) with:
//       - the field set after Gonka's "signature migration" (hashes instead of payloads: prompt_payload,
//         response_payload and original_prompt deprecated and left empty) — the smallest classic form,
//         so the classic figure is a lower bound (the 2025 messages also carried the payload JSON);
//       - addresses as bech32 "gonka1…" (44 characters); inference_id = the requester's signature in
//         base64 (88 characters), as Gonka's API node uses the request signature as inference id;
//         prompt/response/original-prompt hashes as SHA-256 hex (64); transfer and executor signatures
//         as base64 of 64-byte secp256k1 signatures (88); model "Qwen/Qwen2.5-7B-Instruct"; node_version
//         "v0.2.9"; max_tokens 5000, 512 prompt and 256 completion tokens; request_timestamp in unix
//         nanoseconds;
//       - the Cosmos envelope: TxRaw{body_bytes, auth_info_bytes, signatures[64 bytes]}, TxBody with one
//         Any ("/inference.inference.MsgStartInference" …), AuthInfo with one SignerInfo (Any
//         "/cosmos.crypto.secp256k1.PubKey" of 33 bytes, SIGN_MODE_DIRECT, a 4-byte sequence) and a Fee
//         with gas_limit 200000 and no coins (Gonka's inference messages pay no fee).
//   Counters classic_bytes_per_1k, ours_bytes_per_1k, ours_bytes_per_1k_wide, ours_bytes_per_1k_agg10.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attest/bundle.h"
#include "attest/sim_pki.h"
#include "chain/app.h"
#include "chain/attestation_verifier.h"
#include "chain/genesis.h"
#include "chain/node.h"
#include "chain/tx.h"
#include "chain/usage_batch.h"
#include "seal/account_key.h"
#include "seal/crypto.h"
#include "seal/ohttp.h"

namespace cmln::chain {
namespace {

namespace pb = v1;
namespace fs = std::filesystem;

constexpr size_t kEntriesPerBatch = kMaxBatchEntries;  // a full batch (4096)
constexpr size_t kTxsPerBlock = 4;
constexpr const char* kModelId = "smollm2-135m-instruct";
constexpr const char* kNodeId = "node-bench";

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "chain_settle_bench: " << what << "\n";
  std::abort();
}

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) Die(std::string(what) + ": " + r.error().ToString());
  return std::move(r).value();
}
void Must(const Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.error().ToString());
}

std::string Addr(const seal::AccountPrivateKey& k) {
  return seal::AccountAddressToString(seal::AccountAddressFromPublicKey(k.public_key()));
}

// Entry values that take the varint widths of a busy chain rather than the bench's compact ones: escrow
// ids 2^20 apart (a node sees a sparse subset of many users' escrows: 4-byte deltas), cost 768 tokens at
// 1,000 ngonka (4 bytes), tokens 512/256 (2 bytes each), one request: 13 bytes per entry.
void WideEntry(UsageEntry& e) {
  e.escrow_id <<= 20;
  e.cost = 768'000 + e.cost;
}

// A devnet with one attested simulated node and kEntriesPerBatch open escrows of distinct users.
class SettleChain {
 public:
  SettleChain() {
    dir_ = fs::temp_directory_path() / ("cmln_chain_settle_bench_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    InitOptions io;
    io.chain_id = "cmln-bench";
    io.epoch_length = 1'000'000'000;  // no epoch boundary inside the measurement
    io.allow_simulated_tee = true;
    io.sim_pki_rsa_bits = 2048;
    io.demo_accounts = {};
    io.hosts = {"host"};
    io.model_prices = {{kModelId, 1}};
    Must(InitHome(dir_.string(), io), "InitHome");
    authority_ = Must(LoadKeyFile((dir_ / "keys/authority.json").string()), "authority key");
    host_ = Must(LoadKeyFile((dir_ / "keys/host.json").string()), "host key");
    auto genesis = nlohmann::json::parse(std::ifstream(dir_ / "config/genesis.json"));
    genesis_time_ = genesis["genesis_time"].get<int64_t>();
    for (size_t i = 0; i < kEntriesPerBatch; ++i) {
      users_.push_back(seal::AccountPrivateKey::Generate());
      genesis["accounts"].push_back({{"address", Addr(users_.back())}, {"balance", 1'000'000'000'000ULL}});
    }
    app_ = Must(App::Open((dir_ / "chain.db").string(), &verifier_), "App::Open");
    Must(app_->InitChain(Must(ParseGenesis(genesis.dump()), "genesis")), "InitChain");
    chain_id_ = io.chain_id;
    RegisterNode();
    std::vector<Bytes> escrows;
    for (auto& u : users_) {
      pb::Msg m;
      auto* e = m.mutable_create_confidential_escrow();
      e->set_creator(Addr(u));
      e->set_amount(1'000'000'000'000ULL);
      e->set_model_id(kModelId);
      escrows.push_back(Must(BuildSignedTx(u, chain_id_, 0, 0, {m}), "escrow tx"));
    }
    Block(escrows);
    for (uint64_t id = 1; id <= kEntriesPerBatch; ++id) escrow_ids_.push_back(id);
  }
  ~SettleChain() {
    app_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // One settlement tx: the next batch of the node, one entry (cost 1..3) per escrow, signed by the
  // node's Ed25519 key and relayed by the host.
  Bytes NextSettleTx(size_t entries) { return SettleTx(++batch_seq_, host_sequence_++, entries); }

  // The tx NextSettleTx would build, without consuming the sequences (for sizes). wide_values: the
  // entries as a busy mainnet would carry them (see WideEntry); such a tx is only measured, never run.
  Bytes PeekSettleTx(size_t entries, bool wide_values = false) {
    return SettleTx(batch_seq_ + 1, host_sequence_, entries, wide_values);
  }

  // FinalizeBlock + Commit; aborts unless every tx succeeded.
  void Block(const std::vector<Bytes>& txs) {
    BlockHeader h{app_->height() + 1, genesis_time_ + static_cast<int64_t>(app_->height() + 1), Addr(host_)};
    auto r = Must(app_->FinalizeBlock(h, txs), "FinalizeBlock");
    for (const auto& t : r.tx_results) {
      if (!t.ok()) Die("tx refused: " + std::string(ErrorCodeName(t.code)) + " " + t.log);
    }
    Must(app_->Commit(), "Commit");
  }

 private:
  Bytes SettleTx(uint64_t batch_seq, uint64_t host_sequence, size_t entries, bool wide_values = false) {
    UsageBatch b{chain_id_, kNodeId, batch_seq, {}};
    for (size_t i = 0; i < entries; ++i) {
      UsageEntry e;
      e.escrow_id = escrow_ids_[i];
      e.requester_key_hash = seal::Sha256(users_[i].public_key());
      e.requests = 1;
      e.prompt_tokens = 512;
      e.completion_tokens = 256;
      e.cost = 1 + (batch_seq + i) % 3;
      if (wide_values) WideEntry(e);
      b.entries.push_back(e);
    }
    Bytes batch = Must(EncodeUsageBatch(b), "batch");
    auto sig = Must(SignUsageBatch(tee_key_, batch), "batch signature");
    pb::Msg m;
    auto* s = m.mutable_settle_confidential_usage();
    s->set_submitter(Addr(host_));
    s->set_batch(std::string(AsChars(batch)));
    s->set_signature(std::string(sig.begin(), sig.end()));
    return Must(BuildSignedTx(host_, chain_id_, host_sequence, 0, {m}), "settle tx");
  }

  void RegisterNode() {
    auto pki = Must(attest::LoadSimPki((dir_ / "sim-pki").string()), "sim PKI");
    attest::SimTdxQuoteSpec measured;
    measured.mr_td.fill(0xA1);
    pb::Msg reg;
    reg.mutable_register_release()->set_authority(Addr(authority_));
    auto* rel = reg.mutable_register_release()->mutable_release();
    rel->set_release_id("rel-bench");
    rel->set_platform("sim-tdx");
    auto* ms = rel->add_measurements();
    ms->set_name("MRTD");
    ms->set_value(std::string(measured.mr_td.begin(), measured.mr_td.end()));
    rel->set_model_id(kModelId);
    rel->set_model_digest(std::string(32, '\x5D'));
    rel->set_engine("builtin");
    rel->set_min_tcb("UpToDate");
    Block({Must(BuildSignedTx(authority_, chain_id_, 0, 0, {reg}), "release tx")});

    auto status = Must(app_->Query("status"), "status");
    attest::SimBundleSpec spec;
    spec.binding = attest::BundleBinding{chain_id_, 0, Must(HexDecode(status["epoch_nonce"].get<std::string>()), "nonce"),
                                         Addr(host_), kNodeId};
    seal::ohttp::KeyConfig kc;
    kc.key_id = 1;
    kc.kem_id = 0x0020;
    kc.public_key = Bytes(32, 0x09);
    kc.algorithms = {{0x0001, 0x0001}};
    spec.ohttp_key_config = Must(seal::ohttp::EncodeKeyConfig(kc), "key config");
    spec.sign_pk = ToBytes(tee_key_.public_key());
    spec.model_id = kModelId;
    spec.model_digest = Bytes(32, 0x5D);
    spec.release_id = "rel-bench";
    spec.tdx = measured;
    std::string bundle = Must(attest::SerializeBundle(Must(attest::BuildSimBundle(pki, spec), "bundle")), "bundle text");
    pb::Msg att;
    auto* a = att.mutable_submit_tee_attestation();
    a->set_participant(Addr(host_));
    a->set_node_id(kNodeId);
    a->set_model_id(kModelId);
    a->set_endpoint("https://127.0.0.1:9443");
    a->set_bundle(bundle);
    Block({Must(BuildSignedTx(host_, chain_id_, host_sequence_++, 0, {att}), "attestation tx")});
  }

  fs::path dir_;
  AttestLibraryVerifier verifier_;
  std::unique_ptr<App> app_;
  std::string chain_id_;
  int64_t genesis_time_ = 0;
  seal::AccountPrivateKey authority_ = seal::AccountPrivateKey::Generate();
  seal::AccountPrivateKey host_ = seal::AccountPrivateKey::Generate();
  seal::Ed25519PrivateKey tee_key_ = seal::Ed25519PrivateKey::Generate();
  uint64_t host_sequence_ = 0;
  uint64_t batch_seq_ = 0;
  std::vector<seal::AccountPrivateKey> users_;
  std::vector<uint64_t> escrow_ids_;
};

// One chain for every run and repetition (its setup signs and settles thousands of txs).
SettleChain& Chain() {
  static std::unique_ptr<SettleChain> chain = std::make_unique<SettleChain>();
  return *chain;
}

void BM_SettleBlock(benchmark::State& state) {
  SettleChain& chain = Chain();
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Bytes> txs;
    for (size_t i = 0; i < kTxsPerBlock; ++i) txs.push_back(chain.NextSettleTx(kEntriesPerBatch));
    state.ResumeTiming();
    chain.Block(txs);
  }
  const double entries = static_cast<double>(state.iterations()) * kTxsPerBlock * kEntriesPerBatch;
  state.SetItemsProcessed(static_cast<int64_t>(entries));
  state.counters["entries_per_block"] = static_cast<double>(kTxsPerBlock * kEntriesPerBatch);
  state.counters["entries_per_s"] = benchmark::Counter(entries, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SettleBlock)->Unit(benchmark::kMillisecond)->MinTime(3.0);

// --- the classic flow's bytes: a protobuf wire writer for the few shapes needed ------------------------
class Proto {
 public:
  Proto& Varint(uint32_t field, uint64_t v) {
    if (v == 0) return *this;  // proto3 omits defaults
    Key(field, 0);
    Raw(v);
    return *this;
  }
  Proto& Str(uint32_t field, std::string_view s) {
    if (s.empty()) return *this;
    Key(field, 2);
    Raw(s.size());
    out_.append(s);
    return *this;
  }
  Proto& Msg(uint32_t field, const Proto& m) { return Str(field, m.out_); }
  const std::string& bytes() const { return out_; }

 private:
  void Key(uint32_t field, uint32_t wire) { Raw((static_cast<uint64_t>(field) << 3) | wire); }
  void Raw(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  std::string out_;
};

size_t CosmosTxSize(std::string_view type_url, const Proto& msg) {
  Proto any, body, pubkey, pubkey_any, single, mode, signer, fee, auth, raw;
  any.Str(1, type_url).Msg(2, msg);
  body.Msg(1, any);
  pubkey.Str(1, std::string(33, '\x02'));
  pubkey_any.Str(1, "/cosmos.crypto.secp256k1.PubKey").Msg(2, pubkey);
  single.Varint(1, 1);  // SIGN_MODE_DIRECT
  mode.Msg(1, single);
  signer.Msg(1, pubkey_any).Msg(2, mode).Varint(3, 1'234'567);
  fee.Varint(2, 200'000);
  auth.Msg(1, signer).Msg(2, fee);
  raw.Msg(1, body).Msg(2, auth).Str(3, std::string(64, '\x01'));
  return raw.bytes().size();
}

size_t ClassicBytesPerInference() {
  const std::string addr = "gonka1" + std::string(38, 'q');  // 44 characters, as bech32 of 20 bytes
  const std::string sig_b64(88, 'A');                          // base64 of a 64-byte signature
  const std::string hash_hex(64, 'f');
  const std::string model = "Qwen/Qwen2.5-7B-Instruct";
  const uint64_t ts_ns = 1'767'225'600'123'456'789ULL;
  Proto start;
  start.Str(1, addr).Str(2, sig_b64).Str(3, hash_hex).Str(6, model).Str(7, addr).Str(8, addr).Str(9, "v0.2.9");
  start.Varint(10, 5000).Varint(11, 512).Varint(12, ts_ns).Str(14, sig_b64).Str(16, hash_hex);
  Proto finish;
  finish.Str(1, addr).Str(2, sig_b64).Str(3, hash_hex).Varint(5, 512).Varint(6, 256).Str(7, addr).Str(8, addr);
  finish.Varint(9, ts_ns).Str(10, sig_b64).Str(11, sig_b64).Str(12, addr).Str(14, model).Str(15, hash_hex).Str(16, hash_hex);
  return CosmosTxSize("/inference.inference.MsgStartInference", start) +
         CosmosTxSize("/inference.inference.MsgFinishInference", finish);
}

// Exact bytes of our settlement txs for 1,000 inferences with `per_entry` inferences per escrow entry.
size_t OursBytesPer1k(SettleChain& chain, size_t per_entry, bool wide_values = false) {
  const size_t entries = 1000 / per_entry;
  size_t total = 0;
  for (size_t left = entries; left > 0;) {
    size_t n = std::min(left, kEntriesPerBatch);
    total += chain.PeekSettleTx(n, wide_values).size();
    left -= n;
  }
  return total;
}

void BM_OnChainBytes(benchmark::State& state) {
  SettleChain& chain = Chain();
  size_t ours = 0, ours_wide = 0, ours_agg = 0, classic = 0;
  for (auto _ : state) {
    ours = OursBytesPer1k(chain, 1);
    ours_wide = OursBytesPer1k(chain, 1, true);
    ours_agg = OursBytesPer1k(chain, 10);
    classic = 1000 * ClassicBytesPerInference();
  }
  state.counters["ours_bytes_per_1k"] = static_cast<double>(ours);
  state.counters["ours_bytes_per_1k_wide"] = static_cast<double>(ours_wide);
  state.counters["ours_bytes_per_1k_agg10"] = static_cast<double>(ours_agg);
  state.counters["classic_bytes_per_1k"] = static_cast<double>(classic);
}
BENCHMARK(BM_OnChainBytes)->Iterations(1);

}  // namespace
}  // namespace cmln::chain

BENCHMARK_MAIN();
