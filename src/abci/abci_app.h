// The chain's App (chain/app.h) behind CometBFT v0.38's ABCI 2.0 methods.
//
//   Info             last COMMITTED height and app hash (never a finalized-but-uncommitted block), so the
//                    app is never ahead of CometBFT and its handshake replays whatever the app lacks.
//   InitChain        app_state_bytes = our genesis JSON (chain/genesis.h); its chain_id must equal CometBFT's.
//                    Repeated for a store already at genesis with the same document (a crash right after
//                    InitChain): returns the same app hash. initial_height must be 0 or 1.
//   CheckTx          New and Recheck both run App::CheckTx against the check state, which Commit resets,
//                    so CometBFT's recheck after each block re-admits the mempool in order.
//   PrepareProposal  keeps, in CometBFT's order, the txs that decode, while their protobuf size in the
//                    block's Data (tag + length + bytes each) fits max_tx_bytes.
//   ProcessProposal  ACCEPT iff every tx decodes (DecodeTx with the absolute cap); REJECT otherwise.
//   FinalizeBlock    App::FinalizeBlock with the header's height and time (unix seconds) and the proposer's
//                    20-byte consensus address as a gonka1 address (fees go there). One ExecTxResult per tx
//                    (code = cmln::ErrorCode, codespace = its name, log, events); app_hash. A block pending
//                    from an earlier FinalizeBlock whose Commit never came (CometBFT restarted) is dropped by
//                    reopening the store first.
//   Commit           App::Commit: the block's writes go to SQLite in ONE transaction here, nothing before,
//                    so a crash between FinalizeBlock and Commit leaves the store at the previous height.
//                    retain_height 0 (keep every block).
//   Query            `path` as in the REST API (/status, /accounts/ADDR, /escrows?creator=A, …) or the App's own
//                    paths (status, account/ADDR, …); value = the JSON document; code/codespace/log on error.
//                    height 0 or the last committed height only.
//   Echo, Flush, ListSnapshots, OfferSnapshot (REJECT), LoadSnapshotChunk, ApplySnapshotChunk (ABORT),
//   ExtendVote (empty), VerifyVoteExtension (ACCEPT).
// Errors of the state machine itself (a height CometBFT should never send, a store failure) come back as
// ResponseException, which stops CometBFT: continuing would fork. Everything a client controls (txs, query
// paths) is a result code.
//
// Thread safety: Handle may be called from any thread; one mutex serializes every call into the App.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "chain/app.h"
#include "chain/attestation_verifier.h"
#include "common/status.h"

namespace tendermint::abci {
class Request;
class Response;
}  // namespace tendermint::abci

namespace cmln::abci {

inline constexpr uint64_t kAppVersion = 1;
inline constexpr std::string_view kAppVersionString = "cmln-abci/1";

struct AbciOptions {
  std::string db_path;  // DIR/data/chain.db
  // Test-only fault injection (CMLN_ABCI_CRASH_BEFORE_COMMIT_AT_HEIGHT): when Commit arrives for this
  // height, the process exits with _exit(kCrashExitCode) before anything is written.
  std::optional<uint64_t> crash_before_commit_at;
};

inline constexpr int kCrashExitCode = 86;

class AbciApplication {
 public:
  // Opens (or creates) the store. `verifier` must outlive this object.
  static Result<std::unique_ptr<AbciApplication>> Open(AbciOptions options, const chain::AttestationVerifier* verifier);

  // One request -> its response (a ResponseException for failures of the state machine).
  void Handle(const tendermint::abci::Request& request, tendermint::abci::Response* response);

  uint64_t height();
  Bytes app_hash();

 private:
  AbciApplication(AbciOptions options, const chain::AttestationVerifier* verifier, std::unique_ptr<chain::App> app)
      : options_(std::move(options)), verifier_(verifier), app_(std::move(app)) {}
  Status Dispatch(const tendermint::abci::Request& request, tendermint::abci::Response* response);

  AbciOptions options_;
  const chain::AttestationVerifier* verifier_;
  std::mutex mu_;
  std::unique_ptr<chain::App> app_;
  bool block_pending_ = false;  // FinalizeBlock ran, Commit has not
};

// REST path (node.h) -> App::Query path; App paths pass through unchanged.
std::string QueryPathFromRest(std::string_view path);

}  // namespace cmln::abci
