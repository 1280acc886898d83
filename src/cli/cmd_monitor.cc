// greenai monitor
#include <cstdio>

#include "cli/commands.h"

namespace greenai::cli {

void RegisterMonitor(CLI::App& app, int* exit_code) {
  auto* sub = app.add_subcommand("monitor", "(not yet implemented)");
  sub->callback([exit_code] {
    std::fprintf(stderr, "greenai monitor: not implemented yet\n");
    *exit_code = 2;
  });
}

}  // namespace greenai::cli
