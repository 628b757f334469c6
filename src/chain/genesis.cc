#include "chain/genesis.h"

#include <google/protobuf/util/json_util.h>

#include "chain/keeper.h"
#include "chain/keys.h"
#include "chain/usage_batch.h"
#include "common/byte_reader.h"
#include "seal/crypto.h"

namespace cmln::chain {

namespace {

Error Bad(const std::string& m) { return Error(ErrorCode::kInvalidArgument, "genesis: " + m); }

Result<uint64_t> U64Field(const nlohmann::json& j, const char* name, const std::string& where) {
  if (!j.contains(name)) return Bad(where + "." + name + " missing");
  const auto& v = j[name];
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos) {
      return Bad(where + "." + name + " is not an unsigned integer");
    }
    errno = 0;
    unsigned long long x = std::strtoull(s.c_str(), nullptr, 10);
    if (errno != 0) return Bad(where + "." + name + " overflows uint64");
    return static_cast<uint64_t>(x);
  }
  return Bad(where + "." + name + " is not an unsigned integer");
}

}  // namespace

Result<Genesis> ParseGenesis(std::string_view text) {
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error(ErrorCode::kBadEncoding, "genesis: not JSON");
  if (!doc.is_object()) return Bad("not an object");
  static const char* kKnown[] = {"chain_id", "genesis_time", "params", "accounts", "participants", "collateral", "tee_trust"};
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    bool known = false;
    for (const char* k : kKnown) known = known || it.key() == k;
    if (!known) return Bad("unknown field " + it.key());
  }
  Genesis g;
  if (!doc.contains("chain_id") || !doc["chain_id"].is_string()) return Bad("chain_id missing");
  g.chain_id = doc["chain_id"].get<std::string>();
  if (g.chain_id.empty() || g.chain_id.size() > kMaxChainIdLen) return Bad("chain_id length outside 1..64");
  if (!doc.contains("genesis_time") || !doc["genesis_time"].is_number_integer()) return Bad("genesis_time missing");
  g.genesis_time = doc["genesis_time"].get<int64_t>();
  for (const char* arr : {"accounts", "participants", "collateral"}) {
    if (doc.contains(arr) && !doc[arr].is_array()) return Bad(std::string(arr) + " is not an array");
  }
  if (!doc.contains("params") || !doc["params"].is_object()) return Bad("params missing");
  g.doc = std::move(doc);
  return g;
}

Result<pb::Params> ParamsFromJson(const nlohmann::json& j) {
  // Fields the genesis leaves out keep their documented defaults (JsonStringToMessage clears first).
  pb::Params p;
  std::string defaults;
  google::protobuf::util::JsonPrintOptions po;
  po.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(DefaultParams(), &defaults, po);
  nlohmann::json merged = nlohmann::json::parse(defaults);
  merged.merge_patch(j);
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = false;
  auto st = google::protobuf::util::JsonStringToMessage(merged.dump(), &p, opts);
  if (!st.ok()) return Bad("params: " + std::string(st.message()));
  CMLN_TRY(ValidateParams(p));
  return p;
}

Status InitGenesisState(const Genesis& g, CacheStore* store) {
  const nlohmann::json& doc = g.doc;
  CMLN_ASSIGN_OR_RETURN(pb::Params params, ParamsFromJson(doc["params"]));
  auto put = [&](const std::string& key, const google::protobuf::Message& m) {
    std::string out;
    m.SerializeToString(&out);
    store->Set(key, std::move(out));
  };
  put(std::string(keys::kParams), params);

  pb::Supply supply;
  if (doc.contains("accounts")) {
    for (size_t i = 0; i < doc["accounts"].size(); ++i) {
      const auto& a = doc["accounts"][i];
      const std::string where = "accounts[" + std::to_string(i) + "]";
      if (!a.is_object() || !a.contains("address") || !a["address"].is_string()) return Bad(where + ".address missing");
      const std::string addr = a["address"].get<std::string>();
      if (!seal::AccountAddressFromString(addr).ok()) return Bad(where + ".address is not a gonka1 address");
      CMLN_ASSIGN_OR_RETURN(uint64_t bal, U64Field(a, "balance", where));
      if (store->Get(keys::Account(addr))) return Bad(where + " duplicates " + addr);
      pb::Account acc;
      acc.set_address(addr);
      acc.set_balance(bal);
      put(keys::Account(addr), acc);
      uint64_t sum = 0;
      if (__builtin_add_overflow(supply.genesis(), bal, &sum)) return Bad("total supply overflows uint64");
      supply.set_genesis(sum);
    }
  }
  put(std::string(keys::kSupply), supply);

  if (doc.contains("participants")) {
    for (size_t i = 0; i < doc["participants"].size(); ++i) {
      const auto& p = doc["participants"][i];
      const std::string where = "participants[" + std::to_string(i) + "]";
      if (!p.is_object() || !p.contains("address") || !p["address"].is_string()) return Bad(where + ".address missing");
      const std::string addr = p["address"].get<std::string>();
      if (!seal::AccountAddressFromString(addr).ok()) return Bad(where + ".address is not a gonka1 address");
      CMLN_ASSIGN_OR_RETURN(uint64_t w, U64Field(p, "weight", where));
      pb::Participant part;
      part.set_address(addr);
      part.set_weight(w);
      put(keys::Participant(addr), part);
    }
  }
  if (doc.contains("collateral")) {
    for (size_t i = 0; i < doc["collateral"].size(); ++i) {
      const auto& c = doc["collateral"][i];
      const std::string where = "collateral[" + std::to_string(i) + "]";
      if (!c.is_object()) return Bad(where + " is not an object");
      for (const char* f : {"platform", "kind", "id", "collateral_base64"}) {
        if (!c.contains(f) || !c[f].is_string()) return Bad(where + "." + f + " missing");
      }
      CMLN_ASSIGN_OR_RETURN(Bytes bytes, Base64Decode(c["collateral_base64"].get<std::string>()));
      if (!c.contains("issue_time") || !c["issue_time"].is_number_integer() || !c.contains("next_update") ||
          !c["next_update"].is_number_integer()) {
        return Bad(where + ".issue_time/next_update missing");
      }
      pb::CollateralRecord r;
      r.set_platform(c["platform"].get<std::string>());
      r.set_kind(c["kind"].get<std::string>());
      r.set_id(c["id"].get<std::string>());
      r.set_collateral(std::string(AsChars(bytes)));
      r.set_issue_time(c["issue_time"].get<int64_t>());
      r.set_next_update(c["next_update"].get<int64_t>());
      put(keys::Collateral(r.platform(), r.kind(), r.id()), r);
    }
  }

  pb::ChainMeta meta;
  meta.set_chain_id(g.chain_id);
  meta.set_current_epoch(0);
  meta.set_next_escrow_id(1);
  meta.set_next_subsidy(params.initial_epoch_subsidy());
  if (doc.contains("tee_trust")) meta.set_trust_settings(doc["tee_trust"].dump());
  put(std::string(keys::kMeta), meta);

  ByteWriter w;
  w.Bytes(kEpochNonceDomain);
  w.U16BE(static_cast<uint16_t>(g.chain_id.size()));
  w.Bytes(g.chain_id);
  w.U64BE(0);
  w.U64BE(static_cast<uint64_t>(g.genesis_time));
  seal::Digest32 nonce = seal::Sha256(w.bytes());
  pb::EpochInfo e0;
  e0.set_number(0);
  e0.set_start_height(1);
  e0.set_nonce(nonce.data(), nonce.size());
  put(keys::Epoch(0), e0);
  return OkStatus();
}

}  // namespace cmln::chain
