#include <openssl/opensslv.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"

namespace cmln::cli {

void RegisterVersion(CLI::App& app) {
  auto* cmd = app.add_subcommand("version", "Print the version of cmln and the libraries it is built on");
  static bool json = false;
  cmd->add_flag("--json", json, "Print JSON");
  cmd->callback([] {
    if (json) {
      nlohmann::json j = {{"cmln", CMLN_VERSION}, {"openssl", OPENSSL_VERSION_TEXT}};
      std::cout << j.dump() << "\n";
    } else {
      std::cout << "cmln " << CMLN_VERSION << " (" << OPENSSL_VERSION_TEXT << ")\n";
    }
  });
}

}  // namespace cmln::cli
