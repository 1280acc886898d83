// greenai info
#include <cstdio>

#include "cli/commands.h"

namespace greenai::cli {

void RegisterInfo(CLI::App& app, int* exit_code) {
  auto* sub = app.add_subcommand("info", "(not yet implemented)");
  sub->callback([exit_code] {
    std::fprintf(stderr, "greenai info: not implemented yet\n");
    *exit_code = 2;
  });
}

}  // namespace greenai::cli
