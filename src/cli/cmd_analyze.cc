// greenai analyze MODEL: placeholder until the cost model lands (keeps the binary linking).
#include "cli/cli_util.h"
#include "cli/commands.h"

namespace greenai::cli {

void RegisterAnalyze(CLI::App& app, int* exit_code) {
  auto model = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("analyze", "Static cost of a model: MACs, FLOPs, bytes, roofline time and energy");
  sub->add_option("model", *model, "ONNX model file")->required();
  sub->callback([exit_code] { *exit_code = Fail("analyze", "not implemented yet"); });
}

}  // namespace greenai::cli
