// Shape logic of RNN, GRU and LSTM, shared by the OpDefs (ops/misc_rnn.cc) and the kernel
// (backends/cpu/ref_misc_rnn.cc). Private to the misc family.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "graph/ir.h"

namespace greenai::rnn {

enum class Kind { kRnn, kGru, kLstm };

struct Dims {
  Kind kind = Kind::kRnn;
  int gates = 1;          // 1 (RNN), 3 (GRU), 4 (LSTM)
  int num_activations = 1;  // per direction: 1, 2, 3
  int64_t seq = -1, batch = -1, input = -1, hidden = -1;
  int64_t dirs = 1;
  bool batch_first = false;  // layout = 1
  std::string direction = "forward";
};

Kind KindOf(const std::string& op_type);
// Validates X, W, R (dims may be -1 = unknown) and the attributes against each other.
Result<Dims> Check(const Node& node, const std::vector<int64_t>& x, const std::vector<int64_t>& w,
                   const std::vector<int64_t>& r);

}  // namespace greenai::rnn
