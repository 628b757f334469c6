#include "abci/abci_app.h"

#include <unistd.h>

#include "chain/genesis.h"
#include "chain/tx.h"
#include "seal/account_key.h"
#include "seal/crypto.h"
#include "tendermint/abci/types.pb.h"

namespace cmln::abci {

namespace tm = ::tendermint::abci;

namespace {

constexpr size_t kProposerAddressSize = 20;  // CometBFT: first 20 bytes of SHA-256 of the ed25519 key
constexpr int kTxFieldTagBytes = 1;          // Data.txs = field 1, wire type 2

// The proposer's consensus address as a gonka1 account (all validators compute the same string).
std::string ProposerAccount(const std::string& proposer_address) {
  seal::AccountAddress a{};
  if (proposer_address.size() == kProposerAddressSize) {
    std::copy(proposer_address.begin(), proposer_address.end(), a.begin());
  } else {  // never sent by CometBFT; still deterministic
    auto d = seal::Sha256(AsBytes(proposer_address));
    std::copy(d.begin(), d.begin() + kProposerAddressSize, a.begin());
  }
  return seal::AccountAddressToString(a);
}

void ToAbciEvents(const std::vector<chain::Event>& in, google::protobuf::RepeatedPtrField<tm::Event>* out) {
  for (const auto& e : in) {
    tm::Event* ev = out->Add();
    ev->set_type(e.type);
    for (const auto& [k, v] : e.attributes) {
      tm::EventAttribute* a = ev->add_attributes();
      a->set_key(k);
      a->set_value(v);
      a->set_index(true);
    }
  }
}

size_t UvarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

std::string AsString(ByteView b) { return std::string(AsChars(b)); }

}  // namespace

std::string QueryPathFromRest(std::string_view path) {
  std::string p(path);
  if (!p.empty() && p[0] == '/') p.erase(0, 1);
  std::string query;
  if (auto q = p.find('?'); q != std::string::npos) {
    query = p.substr(q + 1);
    p.resize(q);
  }
  auto param = [&](std::string_view name) -> std::optional<std::string> {
    const std::string key = std::string(name) + "=";
    size_t at = 0;
    while (at <= query.size()) {
      size_t end = query.find('&', at);
      if (end == std::string::npos) end = query.size();
      if (query.compare(at, key.size(), key) == 0) return query.substr(at + key.size(), end - at - key.size());
      at = end + 1;
    }
    return std::nullopt;
  };
  auto starts = [&](std::string_view s) { return p.rfind(s, 0) == 0; };
  auto rest = [&](std::string_view s) { return p.substr(s.size()); };
  if (p == "attestations") {
    if (auto n = param("node")) return "attestations/node/" + *n;
    if (auto m = param("model")) return "attestations/model/" + *m;
    return p;
  }
  if (p == "escrows") {
    if (auto c = param("creator")) return "escrows/creator/" + *c;
    return p;
  }
  if (starts("accounts/")) return "account/" + rest("accounts/");
  if (starts("releases/")) return "release/" + rest("releases/");
  if (starts("escrows/") && !starts("escrows/creator/")) return "escrow/" + rest("escrows/");
  if (starts("epochs/")) return "epoch/" + rest("epochs/");
  if (starts("blocks/")) return "block/" + rest("blocks/");
  if (starts("txs/")) return "tx/" + rest("txs/");
  return p;
}

Result<std::unique_ptr<AbciApplication>> AbciApplication::Open(AbciOptions options,
                                                               const chain::AttestationVerifier* verifier) {
  CMLN_ASSIGN_OR_RETURN(std::unique_ptr<chain::App> app, chain::App::Open(options.db_path, verifier));
  return std::unique_ptr<AbciApplication>(new AbciApplication(std::move(options), verifier, std::move(app)));
}

uint64_t AbciApplication::height() {
  std::lock_guard<std::mutex> lock(mu_);
  return app_->height();
}

Bytes AbciApplication::app_hash() {
  std::lock_guard<std::mutex> lock(mu_);
  return app_->app_hash();
}

void AbciApplication::Handle(const tm::Request& request, tm::Response* response) {
  std::lock_guard<std::mutex> lock(mu_);
  Status st = Dispatch(request, response);
  if (!st.ok()) {
    response->Clear();
    response->mutable_exception()->set_error(st.error().ToString());
  }
}

Status AbciApplication::Dispatch(const tm::Request& req, tm::Response* res) {
  switch (req.value_case()) {
    case tm::Request::kEcho:
      res->mutable_echo()->set_message(req.echo().message());
      return OkStatus();
    case tm::Request::kFlush:
      res->mutable_flush();
      return OkStatus();
    case tm::Request::kInfo: {
      tm::ResponseInfo* info = res->mutable_info();
      info->set_data("cmln");
      info->set_version(std::string(kAppVersionString));
      info->set_app_version(kAppVersion);
      // Height 0 with an empty hash tells CometBFT to run InitChain (again, if it crashed right after it).
      if (app_->initialized() && app_->height() > 0) {
        info->set_last_block_height(static_cast<int64_t>(app_->height()));
        info->set_last_block_app_hash(AsString(app_->app_hash()));
      }
      return OkStatus();
    }
    case tm::Request::kInitChain: {
      const tm::RequestInitChain& r = req.init_chain();
      if (r.initial_height() > 1) {
        return Error(ErrorCode::kUnsupported, "initial_height " + std::to_string(r.initial_height()) + " (only 1)");
      }
      CMLN_ASSIGN_OR_RETURN(chain::Genesis g, chain::ParseGenesis(r.app_state_bytes()));
      if (g.chain_id != r.chain_id()) {
        return Error(ErrorCode::kInvalidArgument,
                     "app_state chain_id " + g.chain_id + " differs from CometBFT's " + r.chain_id());
      }
      if (app_->initialized()) {
        CMLN_ASSIGN_OR_RETURN(std::optional<std::string> stored, app_->block_store().GetMeta("genesis"));
        if (app_->height() != 0 || !stored || *stored != g.doc.dump()) {
          return Error(ErrorCode::kAlreadyExists, "store already initialized with another genesis or past height 0");
        }
      } else {
        CMLN_TRY(app_->InitChain(g));
      }
      res->mutable_init_chain()->set_app_hash(AsString(app_->app_hash()));
      return OkStatus();
    }
    case tm::Request::kCheckTx: {
      chain::TxResult r = app_->CheckTx(AsBytes(req.check_tx().tx()));
      tm::ResponseCheckTx* out = res->mutable_check_tx();
      out->set_code(static_cast<uint32_t>(r.code));
      if (!r.ok()) out->set_codespace(std::string(ErrorCodeName(r.code)));
      out->set_log(r.log);
      out->set_data(r.hash);
      return OkStatus();
    }
    case tm::Request::kPrepareProposal: {
      const tm::RequestPrepareProposal& r = req.prepare_proposal();
      tm::ResponsePrepareProposal* out = res->mutable_prepare_proposal();
      int64_t used = 0;
      for (const std::string& tx : r.txs()) {
        const int64_t size = kTxFieldTagBytes + static_cast<int64_t>(UvarintSize(tx.size()) + tx.size());
        if (used + size > r.max_tx_bytes()) break;
        if (!chain::DecodeTx(AsBytes(tx), chain::kAbsoluteMaxTxBytes).ok()) continue;
        used += size;
        out->add_txs(tx);
      }
      return OkStatus();
    }
    case tm::Request::kProcessProposal: {
      bool ok = true;
      for (const std::string& tx : req.process_proposal().txs()) {
        if (!chain::DecodeTx(AsBytes(tx), chain::kAbsoluteMaxTxBytes).ok()) {
          ok = false;
          break;
        }
      }
      res->mutable_process_proposal()->set_status(ok ? tm::ResponseProcessProposal::ACCEPT
                                                     : tm::ResponseProcessProposal::REJECT);
      return OkStatus();
    }
    case tm::Request::kFinalizeBlock: {
      const tm::RequestFinalizeBlock& r = req.finalize_block();
      if (block_pending_) {
        // CometBFT restarted between our FinalizeBlock and its Commit: drop the uncommitted block.
        app_.reset();
        CMLN_ASSIGN_OR_RETURN(app_, chain::App::Open(options_.db_path, verifier_));
        block_pending_ = false;
      }
      if (r.height() <= 0) return Error(ErrorCode::kInvalidArgument, "block height must be positive");
      chain::BlockHeader h;
      h.height = static_cast<uint64_t>(r.height());
      // CometBFT's BFT time never goes backwards; the clamp keeps a genesis_time set later than CometBFT's
      // from halting the chain (every validator clamps to the same value).
      h.time = std::max<int64_t>(r.time().seconds(), app_->last_block_time());
      h.proposer = ProposerAccount(r.proposer_address());
      std::vector<Bytes> txs;
      txs.reserve(r.txs_size());
      for (const std::string& tx : r.txs()) txs.push_back(ToBytes(tx));
      CMLN_ASSIGN_OR_RETURN(chain::FinalizeBlockResult fb, app_->FinalizeBlock(h, txs));
      block_pending_ = true;
      tm::ResponseFinalizeBlock* out = res->mutable_finalize_block();
      for (const chain::TxResult& t : fb.tx_results) {
        tm::ExecTxResult* e = out->add_tx_results();
        e->set_code(static_cast<uint32_t>(t.code));
        if (!t.ok()) e->set_codespace(std::string(ErrorCodeName(t.code)));
        e->set_log(t.log);
        e->set_data(t.hash);
        ToAbciEvents(t.events, e->mutable_events());
      }
      ToAbciEvents(fb.end_block_events, out->mutable_events());
      out->set_app_hash(AsString(fb.app_hash));
      return OkStatus();
    }
    case tm::Request::kCommit: {
      if (options_.crash_before_commit_at && *options_.crash_before_commit_at == app_->height() + 1) {
        ::_exit(kCrashExitCode);  // test-only fault injection: nothing of this block is written
      }
      CMLN_ASSIGN_OR_RETURN(Bytes hash, app_->Commit());
      (void)hash;
      block_pending_ = false;
      res->mutable_commit()->set_retain_height(0);
      return OkStatus();
    }
    case tm::Request::kQuery: {
      const tm::RequestQuery& r = req.query();
      tm::ResponseQuery* out = res->mutable_query();
      const std::string path = QueryPathFromRest(r.path().empty() ? r.data() : r.path());
      out->set_key(path);
      out->set_height(static_cast<int64_t>(app_->height()));
      Result<nlohmann::json> q = Error(ErrorCode::kUnsupported, "queries at past heights are not kept");
      if (r.height() == 0 || r.height() == static_cast<int64_t>(app_->height())) q = app_->Query(path);
      if (q.ok()) {
        out->set_value(q->dump());
      } else {
        out->set_code(static_cast<uint32_t>(q.error().code()));
        out->set_codespace(std::string(ErrorCodeName(q.error().code())));
        out->set_log(q.error().message());
      }
      return OkStatus();
    }
    case tm::Request::kListSnapshots:
      res->mutable_list_snapshots();
      return OkStatus();
    case tm::Request::kOfferSnapshot:
      res->mutable_offer_snapshot()->set_result(tm::ResponseOfferSnapshot::REJECT);
      return OkStatus();
    case tm::Request::kLoadSnapshotChunk:
      res->mutable_load_snapshot_chunk();
      return OkStatus();
    case tm::Request::kApplySnapshotChunk:
      res->mutable_apply_snapshot_chunk()->set_result(tm::ResponseApplySnapshotChunk::ABORT);
      return OkStatus();
    case tm::Request::kExtendVote:
      res->mutable_extend_vote();
      return OkStatus();
    case tm::Request::kVerifyVoteExtension:
      res->mutable_verify_vote_extension()->set_status(tm::ResponseVerifyVoteExtension::ACCEPT);
      return OkStatus();
    case tm::Request::VALUE_NOT_SET:
      break;
  }
  return Error(ErrorCode::kUnsupported, "unknown ABCI request");
}

}  // namespace cmln::abci
