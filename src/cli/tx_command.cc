// `cmln tx …`: sign a transaction and broadcast it to a chain node's REST API.
//
//   cmln tx <kind> --node URL (--key FILE | --from NAME [--keyring-home DIR]) [--fee N] [--no-wait] ...
// The signer is a key file written by `cmln chain init` (--key) or a key of the `cmln keys` keyring
// (--from; home as `cmln keys`: --keyring-home, else $CMLN_HOME, else $HOME/.cmln). Exactly one of them.
//     send                --to ADDR --amount N
//     create-escrow       --amount N --model ID
//     register-release    --release FILE          (Release as protobuf JSON, proto field names)
//     retire-release      --release-id ID
//     submit-attestation  --node-id ID --model ID --endpoint URL --bundle FILE
//     revoke-attestation  --node-id ID [--reason TEXT]
//     submit-collateral   --platform P --file FILE
//     settle-usage        --batch FILE --signature-hex HEX   (canonical batch bytes, src/chain/usage_batch.h)
// Prints the committed tx result JSON ({hash, height, code, codespace, log, events}); with --no-wait
// the CheckTx result. Exit 0 if the tx succeeded, 1 if refused or failed, 2 usage.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <google/protobuf/util/json_util.h>

#include "chain/node.h"
#include "chain/rest_client.h"
#include "cli/commands.h"
#include "seal/keyring.h"

namespace cmln::cli {

namespace {

namespace pb = ::cmln::chain::v1;

struct TxOpts {
  std::string node = "http://127.0.0.1:26657";
  std::string key;
  std::string from;
  std::string keyring_home;
  uint64_t fee = 0;
  bool no_wait = false;
  std::string to, model, release_file, release_id, node_id, endpoint, bundle, reason, platform, file, batch, signature_hex;
  uint64_t amount = 0;
} g_tx;

Result<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kIoError, "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Fail(const Error& e) {
  std::cout << nlohmann::json{{"error", {{"code", std::string(ErrorCodeName(e.code()))}, {"message", e.message()}}}}.dump() << "\n";
  SetExitCode(1);
}

// The signing key: --key FILE or --from NAME (keyring), exactly one.
Result<seal::AccountPrivateKey> LoadSigner() {
  if (g_tx.key.empty() == g_tx.from.empty()) {
    return Error(ErrorCode::kInvalidArgument, "give exactly one of --key FILE and --from NAME");
  }
  if (!g_tx.key.empty()) return chain::LoadKeyFile(g_tx.key);
  std::string home = g_tx.keyring_home;
  if (home.empty()) {
    CMLN_ASSIGN_OR_RETURN(home, seal::Keyring::DefaultHome());
  }
  CMLN_ASSIGN_OR_RETURN(seal::Keyring keyring, seal::Keyring::Open(home));
  return keyring.GetPrivateKey(g_tx.from);
}

void Send(const std::function<Result<pb::Msg>(const std::string& signer)>& build) {
  auto key = LoadSigner();
  if (!key.ok()) return Fail(key.error());
  const std::string signer = seal::AccountAddressToString(seal::AccountAddressFromPublicKey(key->public_key()));
  auto msg = build(signer);
  if (!msg.ok()) return Fail(msg.error());
  chain::RestClient client(g_tx.node);
  auto r = client.SignAndBroadcast(*key, {*msg}, g_tx.fee, !g_tx.no_wait);
  if (!r.ok()) return Fail(r.error());
  std::cout << r->dump() << "\n";
  SetExitCode(r->value("code", 0) == 0 ? 0 : 1);
}

CLI::App* Kind(CLI::App* tx, const char* name, const char* help) {
  auto* c = tx->add_subcommand(name, help);
  c->add_option("--node", g_tx.node, "Chain REST URL");
  c->add_option("--key", g_tx.key, "Signer key file (from cmln chain init)");
  c->add_option("--from", g_tx.from, "Signer key name in the cmln keys keyring");
  c->add_option("--keyring-home", g_tx.keyring_home, "Keyring home (default $CMLN_HOME, else $HOME/.cmln)");
  c->add_option("--fee", g_tx.fee, "Fee in ngonka");
  c->add_flag("--no-wait", g_tx.no_wait, "Return after CheckTx instead of waiting for the block");
  return c;
}

}  // namespace

void RegisterTx(CLI::App& app) {
  auto* tx = app.add_subcommand("tx", "Sign and broadcast chain transactions");
  tx->require_subcommand(1);

  auto* send = Kind(tx, "send", "Transfer ngonka");
  send->add_option("--to", g_tx.to)->required();
  send->add_option("--amount", g_tx.amount)->required();
  send->callback([] {
    Send([](const std::string& signer) -> Result<pb::Msg> {
      pb::Msg m;
      m.mutable_send()->set_from_address(signer);
      m.mutable_send()->set_to_address(g_tx.to);
      m.mutable_send()->set_amount(g_tx.amount);
      return m;
    });
  });

  auto* esc = Kind(tx, "create-escrow", "Lock quota for a model");
  esc->add_option("--amount", g_tx.amount)->required();
  esc->add_option("--model", g_tx.model)->required();
  esc->callback([] {
    Send([](const std::string& signer) -> Result<pb::Msg> {
      pb::Msg m;
      m.mutable_create_confidential_escrow()->set_creator(signer);
      m.mutable_create_confidential_escrow()->set_amount(g_tx.amount);
      m.mutable_create_confidential_escrow()->set_model_id(g_tx.model);
      return m;
    });
  });

  auto* reg = Kind(tx, "register-release", "Governance: approve a release (measurements + model)");
  reg->add_option("--release", g_tx.release_file, "Release JSON file")->required();
  reg->callback([] {
    Send([](const std::string& signer) -> Result<pb::Msg> {
      CMLN_ASSIGN_OR_RETURN(std::string text, ReadAll(g_tx.release_file));
      pb::Msg m;
      m.mutable_register_release()->set_authority(signer);
      auto st = google::protobuf::util::JsonStringToMessage(text, m.mutable_register_release()->mutable_release());
      if (!st.ok()) return Error(ErrorCode::kBadEncoding, "release JSON: " + std::string(st.message()));
      return m;
    });
  });

  auto* ret = Kind(tx, "retire-release", "Governance: retire a release");
  ret->add_option("--release-id", g_tx.release_id)->required();
  ret->callback([] {
    Send([](const std::string& signer) -> Result<pb::Msg> {
      pb::Msg m;
      m.mutable_retire_release()->set_authority(signer);
      m.mutable_retire_release()->set_release_id(g_tx.release_id);
      return m;
    });
  });

  auto* att = Kind(tx, "submit-attestation", "Register a node's attestation bundle");
  att->add_option("--node-id", g_tx.node_id)->required();
  att->add_option("--model", g_tx.model)->required();
  att->add_option("--endpoint", g_tx.endpoint);
  att->add_option("--bundle", g_tx.bundle, "Bundle JSON file")->required();
  att->callback([] {
    Send([](const std::string& signer) -> Result<pb::Msg> {
      CMLN_ASSIGN_OR_RETURN(std::string bundle, ReadAll(g_tx.bundle));
      pb::Msg m;
      auto* a = m.mutable_submit_tee_attestation();
      a->set_participant(signer);
      a->set_node_id(g_tx.node_id);
      a->set_model_id(g_tx.model);
      a->set_endpoint(g_tx.endpoint);
      a->set_bundle(bundle);
      return m;
    });
  });

  auto* rev = Kind(tx, "revoke-attestation", "Revoke a node's attestation (authority or owner)");
  rev->add_option("--node-id", g_tx.node_id)->required();
  rev->add_option("--reason", g_tx.reason);
  rev->callback([] {
    Send([](const std::string& signer) -> Result<pb::Msg> {
      pb::Msg m;
      m.mutable_revoke_tee_attestation()->set_signer(signer);
      m.mutable_revoke_tee_attestation()->set_node_id(g_tx.node_id);
      m.mutable_revoke_tee_attestation()->set_reason(g_tx.reason);
      return m;
    });
  });

  auto* col = Kind(tx, "submit-collateral", "Submit self-authenticating TEE collateral");
  col->add_option("--platform", g_tx.platform)->required();
  col->add_option("--file", g_tx.file)->required();
  col->callback([] {
    Send([](const std::string& signer) -> Result<pb::Msg> {
      CMLN_ASSIGN_OR_RETURN(std::string bytes, ReadAll(g_tx.file));
      pb::Msg m;
      m.mutable_submit_collateral()->set_submitter(signer);
      m.mutable_submit_collateral()->set_platform(g_tx.platform);
      m.mutable_submit_collateral()->set_collateral(bytes);
      return m;
    });
  });

  auto* settle = Kind(tx, "settle-usage", "Settle a TEE-signed usage batch");
  settle->add_option("--batch", g_tx.batch, "Canonical batch bytes file")->required();
  settle->add_option("--signature-hex", g_tx.signature_hex, "Ed25519 signature (hex)")->required();
  settle->callback([] {
    Send([](const std::string& signer) -> Result<pb::Msg> {
      CMLN_ASSIGN_OR_RETURN(std::string batch, ReadAll(g_tx.batch));
      CMLN_ASSIGN_OR_RETURN(Bytes sig, HexDecode(g_tx.signature_hex));
      pb::Msg m;
      m.mutable_settle_confidential_usage()->set_submitter(signer);
      m.mutable_settle_confidential_usage()->set_batch(batch);
      m.mutable_settle_confidential_usage()->set_signature(std::string(AsChars(sig)));
      return m;
    });
  });
}

}  // namespace cmln::cli
