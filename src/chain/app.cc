#include "chain/app.h"

#include <google/protobuf/util/json_util.h>

#include "chain/invariants.h"
#include "chain/keys.h"
#include "chain/msg_server.h"
#include "chain/tx.h"
#include "common/byte_reader.h"
#include "seal/crypto.h"

namespace cmln::chain {

namespace {
constexpr std::string_view kAppHashDomain = "cmln/app-hash/v1";

nlohmann::json EventsJson(const std::vector<Event>& events) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& e : events) arr.push_back(e.ToJson());
  return arr;
}
}  // namespace

nlohmann::json TxResult::ToJson() const {
  return nlohmann::json{{"hash", hash},
                        {"code", static_cast<int>(code)},
                        {"codespace", std::string(ErrorCodeName(code))},
                        {"log", log},
                        {"events", EventsJson(events)}};
}

namespace {

// Bytes fields holding whole documents keep protobuf JSON's base64; every other bytes field (keys,
// hashes, nonces, measurements) is rendered as lowercase hex, the encoding the attest library uses.
bool IsDocumentField(const std::string& name) { return name == "bundle" || name == "collateral"; }

void HexBytesFields(const google::protobuf::Message& m, nlohmann::json& j) {
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (!j.contains(f->name())) continue;
    nlohmann::json& v = j[f->name()];
    if (f->type() == google::protobuf::FieldDescriptor::TYPE_BYTES && !IsDocumentField(f->name())) {
      if (f->is_repeated()) {
        for (int k = 0; k < r->FieldSize(m, f); ++k) v[k] = HexEncode(AsBytes(r->GetRepeatedString(m, f, k)));
      } else {
        v = HexEncode(AsBytes(r->GetString(m, f)));
      }
    } else if (f->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int k = 0; k < r->FieldSize(m, f); ++k) HexBytesFields(r->GetRepeatedMessage(m, f, k), v[k]);
      } else if (r->HasField(m, f)) {
        HexBytesFields(r->GetMessage(m, f), v);
      }
    }
  }
}

}  // namespace

nlohmann::json ProtoToJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  o.always_print_enums_as_ints = false;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_object()) HexBytesFields(m, j);
  return j;
}

Bytes ChainAppHash(ByteView previous, uint64_t height, const WriteSet& writes) {
  seal::Sha256Hasher changes;
  for (const auto& [k, v] : writes) {
    ByteWriter w;
    w.U32BE(static_cast<uint32_t>(k.size()));
    w.Bytes(k);
    w.U8(v ? 1 : 0);
    w.U32BE(v ? static_cast<uint32_t>(v->size()) : 0);
    changes.Update(w.bytes());
    if (v) changes.Update(AsBytes(*v));
  }
  seal::Digest32 ch = changes.Finish();
  ByteWriter w;
  w.Bytes(kAppHashDomain);
  w.Bytes(previous);
  w.U64BE(height);
  w.Bytes(ByteView(ch));
  return ToBytes(seal::Sha256(w.bytes()));
}

App::App(std::unique_ptr<BlockStore> store, const AttestationVerifier* verifier)
    : store_(std::move(store)), verifier_(verifier) {}

Result<std::unique_ptr<App>> App::Open(const std::string& db_path, const AttestationVerifier* verifier) {
  CMLN_ASSIGN_OR_RETURN(std::unique_ptr<BlockStore> store, BlockStore::Open(db_path));
  std::unique_ptr<App> app(new App(std::move(store), verifier));
  CMLN_TRY(app->store_->LoadState(&app->committed_));
  CMLN_ASSIGN_OR_RETURN(std::optional<BlockRecord> last, app->store_->LastBlock());
  if (last) {
    app->initialized_ = true;
    app->height_ = last->height;
    app->app_hash_ = last->app_hash;
    app->last_time_ = last->time;
    pb::ChainMeta meta;
    auto v = app->committed_reader_.Get(std::string(keys::kMeta));
    if (!v || !meta.ParseFromString(*v)) return Error(ErrorCode::kInternal, "store has blocks but no chain meta");
    app->chain_id_ = meta.chain_id();
  }
  app->check_cache_ = std::make_unique<CacheStore>(&app->committed_reader_);
  return app;
}

Status App::InitChain(const Genesis& genesis) {
  if (initialized_) return Error(ErrorCode::kAlreadyExists, "chain already initialized at height " + std::to_string(height_));
  CacheStore cache(&committed_reader_);
  CMLN_TRY(InitGenesisState(genesis, &cache));
  CMLN_TRY(CheckInvariants(cache));
  BlockRecord b;
  b.height = 0;
  b.time = genesis.genesis_time;
  b.app_hash = ChainAppHash(Bytes(32, 0), 0, cache.writes());
  CMLN_TRY(store_->CommitBlock(b, cache.writes(), {}, {{"genesis", genesis.doc.dump()}}));
  ApplyWrites(cache.writes(), committed_);
  initialized_ = true;
  chain_id_ = genesis.chain_id;
  height_ = 0;
  app_hash_ = b.app_hash;
  last_time_ = b.time;
  check_cache_ = std::make_unique<CacheStore>(&committed_reader_);
  return OkStatus();
}

pb::Params App::CommittedParams() const {
  pb::Params p = DefaultParams();
  if (auto v = committed_reader_.Get(std::string(keys::kParams))) p.ParseFromString(*v);
  return p;
}

Status App::Stateless(const DecodedTx& tx) const {
  CMLN_TRY(VerifyTxSignature(tx, chain_id_));
  for (int i = 0; i < tx.body.messages_size(); ++i) {
    const auto& m = tx.body.messages(i);
    Status st = ValidateBasic(m);
    if (!st.ok()) return st.error().WithContext("messages[" + std::to_string(i) + "] " + MsgTypeName(m));
    if (MsgSigner(m) != tx.signer) {
      return Error(ErrorCode::kUnauthorized, "messages[" + std::to_string(i) + "] " + MsgTypeName(m) + " names signer " +
                                                 MsgSigner(m) + " but the tx is signed by " + tx.signer);
    }
  }
  return OkStatus();
}

TxResult App::RunTx(ByteView raw, CacheStore* block_cache, const BlockContext& ctx, bool check_only) {
  TxResult res;
  res.hash = TxHashHex(raw);
  auto fail = [&](const Error& e) {
    res.code = e.code();
    res.log = e.message();
    return res;
  };
  if (!initialized_) return fail(Error(ErrorCode::kUnsupported, "chain not initialized"));
  auto decoded = DecodeTx(raw, std::min<size_t>(CommittedParams().max_tx_bytes(), kAbsoluteMaxTxBytes));
  if (!decoded.ok()) return fail(decoded.error());
  const DecodedTx& tx = *decoded;
  Status st = Stateless(tx);
  if (!st.ok()) return fail(st.error());

  EventSink events;
  {
    CacheStore ante(block_cache);
    Keeper k(&ante, ctx, &events, verifier_);
    Status a = k.ConsumeFeeAndSequence(tx.signer, tx.signer_public_key, tx.body.sequence(), tx.body.fee());
    if (!a.ok()) return fail(a.error());
    ante.MoveInto(*block_cache);
  }
  if (check_only) return res;
  const size_t after_ante = events.size();
  CacheStore msgs(block_cache);
  Keeper k(&msgs, ctx, &events, verifier_);
  for (int i = 0; i < tx.body.messages_size(); ++i) {
    Status m = DeliverMsg(k, tx.body.messages(i));
    if (!m.ok()) {
      events.Truncate(after_ante);
      res.events = events.Take();
      return fail(m.error().WithContext("messages[" + std::to_string(i) + "] " + MsgTypeName(tx.body.messages(i))));
    }
  }
  msgs.MoveInto(*block_cache);
  res.events = events.Take();
  return res;
}

TxResult App::CheckTx(ByteView raw) {
  BlockContext ctx;
  ctx.height = height_ + 1;
  ctx.time = last_time_;
  ctx.proposer = CommittedParams().authority();
  return RunTx(raw, check_cache_.get(), ctx, /*check_only=*/true);
}

Result<FinalizeBlockResult> App::FinalizeBlock(const BlockHeader& header, const std::vector<Bytes>& txs) {
  if (!initialized_) return Error(ErrorCode::kUnsupported, "chain not initialized");
  if (pending_) return Error(ErrorCode::kInvalidArgument, "a finalized block awaits Commit");
  if (header.height != height_ + 1) {
    return Error(ErrorCode::kInvalidArgument, "block height " + std::to_string(header.height) + ", expected " +
                                                  std::to_string(height_ + 1));
  }
  if (header.time < last_time_) return Error(ErrorCode::kInvalidArgument, "block time goes backwards");
  if (!seal::AccountAddressFromString(header.proposer).ok()) {
    return Error(ErrorCode::kInvalidArgument, "block proposer is not a gonka1 address");
  }
  BlockContext ctx{header.height, header.time, header.proposer, app_hash_};
  Pending p;
  p.cache = std::make_unique<CacheStore>(&committed_reader_);
  FinalizeBlockResult out;
  for (size_t i = 0; i < txs.size(); ++i) {
    TxResult r = RunTx(txs[i], p.cache.get(), ctx, /*check_only=*/false);
    TxRecord rec;
    rec.hash = r.hash;
    rec.height = header.height;
    rec.index = static_cast<uint32_t>(i);
    rec.code = static_cast<uint32_t>(r.code);
    rec.log = r.log;
    rec.events_json = EventsJson(r.events).dump();
    rec.raw = txs[i];
    p.txs.push_back(std::move(rec));
    p.block.tx_hashes.push_back(r.hash);
    out.tx_results.push_back(std::move(r));
  }
  EventSink end_events;
  {
    CacheStore end(p.cache.get());
    Keeper k(&end, ctx, &end_events, verifier_);
    CMLN_TRY(k.EndBlock());  // an error here is a bug in the state machine, never a user's input
    end.MoveInto(*p.cache);
  }
  out.end_block_events = end_events.Take();
  p.block.height = header.height;
  p.block.time = header.time;
  p.block.proposer = header.proposer;
  p.block.app_hash = ChainAppHash(app_hash_, header.height, p.cache->writes());
  p.block.events_json = EventsJson(out.end_block_events).dump();
  out.app_hash = p.block.app_hash;
  pending_ = std::move(p);
  return out;
}

Result<Bytes> App::Commit() {
  if (!pending_) return Error(ErrorCode::kInvalidArgument, "nothing to commit");
  CMLN_TRY(store_->CommitBlock(pending_->block, pending_->cache->writes(), pending_->txs));
  pending_->cache->MoveIntoMap(committed_);
  height_ = pending_->block.height;
  app_hash_ = pending_->block.app_hash;
  last_time_ = pending_->block.time;
  pending_.reset();
  check_cache_ = std::make_unique<CacheStore>(&committed_reader_);
  return app_hash_;
}

Result<nlohmann::json> App::Query(std::string_view path) const {
  const StateReader& s = committed_reader_;
  auto load = [&](const std::string& key, google::protobuf::Message& m) {
    auto v = s.Get(key);
    return v && m.ParseFromString(*v);
  };
  auto list = [&](std::string_view prefix, auto proto, auto filter) {
    nlohmann::json arr = nlohmann::json::array();
    s.Scan(prefix, [&](const std::string&, const std::string& v) {
      decltype(proto) m;
      if (m.ParseFromString(v) && filter(m)) arr.push_back(ProtoToJson(m));
      return true;
    });
    return arr;
  };
  auto all = [](const auto&) { return true; };
  auto starts = [&](std::string_view p) { return path.substr(0, p.size()) == p; };
  auto rest = [&](std::string_view p) { return std::string(path.substr(p.size())); };
  auto not_found = [&](const std::string& what) { return Error(ErrorCode::kNotFound, what + " not found"); };

  pb::ChainMeta meta;
  load(std::string(keys::kMeta), meta);
  if (path == "status") {
    pb::EpochInfo ep;
    load(keys::Epoch(meta.current_epoch()), ep);
    return nlohmann::json{{"chain_id", chain_id_},
                          {"height", height_},
                          {"app_hash", HexEncode(app_hash_)},
                          {"last_block_time", last_time_},
                          {"epoch", meta.current_epoch()},
                          {"epoch_start_height", ep.start_height()},
                          {"epoch_nonce", HexEncode(AsBytes(ep.nonce()))}};
  }
  if (path == "params") return ProtoToJson(CommittedParams());
  if (path == "supply") {
    pb::Supply sp;
    load(std::string(keys::kSupply), sp);
    return ProtoToJson(sp);
  }
  if (path == "participants") return list(keys::kParticipant, pb::Participant(), all);
  if (starts("account/")) {
    pb::Account a;
    if (!load(keys::Account(rest("account/")), a)) {
      if (!seal::AccountAddressFromString(rest("account/")).ok()) return Error(ErrorCode::kInvalidArgument, "not a gonka1 address");
      a.set_address(rest("account/"));  // an address never funded: zero balance, sequence 0
    }
    return ProtoToJson(a);
  }
  if (starts("earnings/")) {
    pb::Earnings e;
    if (!load(keys::Earnings(rest("earnings/")), e)) e.set_address(rest("earnings/"));
    return ProtoToJson(e);
  }
  if (path == "releases") return list(keys::kRelease, pb::ReleaseRecord(), all);
  if (starts("release/")) {
    pb::ReleaseRecord r;
    if (!load(keys::Release(rest("release/")), r)) return not_found("release " + rest("release/"));
    return ProtoToJson(r);
  }
  if (path == "attestations") return list(keys::kAttestation, pb::TeeAttestation(), all);
  if (starts("attestations/model/")) {
    const std::string model = rest("attestations/model/");
    return list(keys::kAttestation, pb::TeeAttestation(), [&](const pb::TeeAttestation& a) { return a.model_id() == model; });
  }
  if (starts("attestations/node/")) {
    pb::TeeAttestation a;
    if (!load(keys::Attestation(rest("attestations/node/")), a)) return not_found("attestation of node " + rest("attestations/node/"));
    return ProtoToJson(a);
  }
  if (path == "collateral") return list(keys::kCollateral, pb::CollateralRecord(), all);
  if (path == "escrows") return list(keys::kEscrow, pb::Escrow(), all);
  if (starts("escrows/creator/")) {
    const std::string c = rest("escrows/creator/");
    return list(keys::kEscrow, pb::Escrow(), [&](const pb::Escrow& e) { return e.creator() == c; });
  }
  auto parse_u64 = [](const std::string& t) -> std::optional<uint64_t> {
    if (t.empty() || t.size() > 19 || t.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::stoull(t);
  };
  if (starts("escrow/")) {
    auto id = parse_u64(rest("escrow/"));
    pb::Escrow e;
    if (!id || !load(keys::Escrow(*id), e)) return not_found("escrow " + rest("escrow/"));
    return ProtoToJson(e);
  }
  if (starts("epoch/")) {
    std::optional<uint64_t> n = rest("epoch/") == "current" ? std::optional<uint64_t>(meta.current_epoch()) : parse_u64(rest("epoch/"));
    pb::EpochInfo e;
    if (!n || !load(keys::Epoch(*n), e)) return not_found("epoch " + rest("epoch/"));
    return ProtoToJson(e);
  }
  if (starts("tx/")) {
    CMLN_ASSIGN_OR_RETURN(std::optional<TxRecord> t, store_->GetTx(rest("tx/")));
    if (!t) return not_found("tx " + rest("tx/"));
    return nlohmann::json{{"hash", t->hash},
                          {"height", t->height},
                          {"index", t->index},
                          {"code", t->code},
                          {"codespace", std::string(ErrorCodeName(static_cast<ErrorCode>(t->code)))},
                          {"log", t->log},
                          {"events", nlohmann::json::parse(t->events_json, nullptr, false)},
                          {"tx_base64", Base64Encode(t->raw)}};
  }
  if (starts("block/")) {
    auto h = parse_u64(rest("block/"));
    if (!h) return not_found("block " + rest("block/"));
    CMLN_ASSIGN_OR_RETURN(std::optional<BlockRecord> b, store_->GetBlock(*h));
    if (!b) return not_found("block " + rest("block/"));
    return nlohmann::json{{"height", b->height},
                          {"time", b->time},
                          {"proposer", b->proposer},
                          {"app_hash", HexEncode(b->app_hash)},
                          {"tx_hashes", b->tx_hashes},
                          {"end_block_events", nlohmann::json::parse(b->events_json, nullptr, false)}};
  }
  return Error(ErrorCode::kNotFound, "unknown query path " + std::string(path));
}

}  // namespace cmln::chain
