// `cmln keys add|show|list`: account keys in the local keyring (seal/keyring.h).
//
//   cmln keys add NAME  [--home DIR] [--json]
//   cmln keys show NAME [--home DIR] [--json] [--export-private]
//   cmln keys list      [--home DIR] [--json]
//
// The home directory is --home, else $CMLN_HOME, else ~/.cmln. `show` prints the private key only
// with --export-private. Exit codes: 0 ok; 1 the operation failed, with `error: <code>: <message>` on
// stderr, or {"error":{"code":"<code>","message":"…"}} on stdout with --json; 2 usage (CLI11).
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "common/bytes.h"
#include "seal/keyring.h"

namespace cmln::cli {

namespace {

using nlohmann::json;

// CLI11 writes parsed values into these after parse(); the callbacks run later, so the targets must
// outlive RegisterKeys (hence static storage).
struct KeysOptions {
  std::string name;
  std::string home;
  bool json = false;
  bool export_private = false;
};
KeysOptions g_add;
KeysOptions g_show;
KeysOptions g_list;

void Fail(const Error& error, bool as_json) {
  if (as_json) {
    json j = {{"error", {{"code", std::string(ErrorCodeName(error.code()))}, {"message", error.message()}}}};
    std::cout << j.dump() << "\n";
  } else {
    std::cerr << "error: " << error.ToString() << "\n";
  }
  SetExitCode(1);
}

Result<seal::Keyring> OpenKeyring(const KeysOptions& o) {
  std::string home = o.home;
  if (home.empty()) {
    CMLN_ASSIGN_OR_RETURN(home, seal::Keyring::DefaultHome());
  }
  return seal::Keyring::Open(home);
}

json InfoJson(const seal::KeyInfo& k) {
  return {{"name", k.name}, {"address", k.address}, {"pubkey", HexEncode(k.public_key)}, {"created", k.created}};
}

void PrintInfo(const seal::KeyInfo& k) {
  std::cout << "name: " << k.name << "\n"
            << "address: " << k.address << "\n"
            << "pubkey: " << HexEncode(k.public_key) << "\n"
            << "created: " << k.created << "\n";
}

void RunAdd() {
  auto keyring = OpenKeyring(g_add);
  if (!keyring.ok()) return Fail(keyring.error(), g_add.json);
  auto info = keyring->Add(g_add.name);
  if (!info.ok()) return Fail(info.error(), g_add.json);
  if (g_add.json) {
    std::cout << InfoJson(*info).dump() << "\n";
  } else {
    PrintInfo(*info);
    std::cerr << "stored in " << keyring->file_path() << " (plaintext, mode 0600; see docs/keys.md)\n";
  }
  SetExitCode(0);
}

void RunShow() {
  auto keyring = OpenKeyring(g_show);
  if (!keyring.ok()) return Fail(keyring.error(), g_show.json);
  auto info = keyring->Get(g_show.name);
  if (!info.ok()) return Fail(info.error(), g_show.json);
  std::string private_hex;
  if (g_show.export_private) {
    auto key = keyring->GetPrivateKey(g_show.name);
    if (!key.ok()) return Fail(key.error(), g_show.json);
    private_hex = HexEncode(key->scalar());
    std::cerr << "warning: printing the private key of '" << info->name << "'; anyone who sees it controls the account\n";
  }
  if (g_show.json) {
    json j = InfoJson(*info);
    if (g_show.export_private) j["private_key"] = private_hex;
    std::string text = j.dump();
    std::cout << text << "\n";
    if (g_show.export_private) {
      SecureZero(text.data(), text.size());
      SecureZero(j["private_key"].get_ref<std::string&>().data(), private_hex.size());
    }
  } else {
    PrintInfo(*info);
    if (g_show.export_private) std::cout << "private_key: " << private_hex << "\n";
  }
  std::cout.flush();
  if (!private_hex.empty()) SecureZero(private_hex.data(), private_hex.size());
  SetExitCode(0);
}

void RunList() {
  auto keyring = OpenKeyring(g_list);
  if (!keyring.ok()) return Fail(keyring.error(), g_list.json);
  const auto keys = keyring->List();
  if (g_list.json) {
    json arr = json::array();
    for (const auto& k : keys) arr.push_back(InfoJson(k));
    std::cout << json{{"keys", arr}}.dump() << "\n";
  } else {
    for (const auto& k : keys) std::cout << k.name << "\t" << k.address << "\t" << HexEncode(k.public_key) << "\n";
  }
  SetExitCode(0);
}

void AddCommon(CLI::App* cmd, KeysOptions& o) {
  cmd->add_option("--home", o.home, "Keyring directory (default: $CMLN_HOME, else ~/.cmln)");
  cmd->add_flag("--json", o.json, "Print JSON");
}

}  // namespace

void RegisterKeys(CLI::App& app) {
  auto* cmd = app.add_subcommand("keys", "Manage account keys in the local keyring");
  cmd->require_subcommand(1);

  auto* add = cmd->add_subcommand("add", "Generate a new secp256k1 account key and store it under NAME");
  add->add_option("name", g_add.name, "Key name, [a-z0-9._-]{1,64}")->required();
  AddCommon(add, g_add);
  add->callback(RunAdd);

  auto* show = cmd->add_subcommand("show", "Print the address and public key of NAME");
  show->add_option("name", g_show.name, "Key name")->required();
  AddCommon(show, g_show);
  show->add_flag("--export-private", g_show.export_private, "Also print the private key (hex)");
  show->callback(RunShow);

  auto* list = cmd->add_subcommand("list", "List the keys in the keyring");
  AddCommon(list, g_list);
  list->callback(RunList);
}

}  // namespace cmln::cli
