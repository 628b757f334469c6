#include "cli/commands.h"

namespace cmln::cli {

void RegisterKeys(CLI::App& app) {
  auto* cmd = app.add_subcommand("keys", "Manage account keys in the local keyring");
  cmd->require_subcommand(1);
}

}  // namespace cmln::cli
