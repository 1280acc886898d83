// Op family: misc (Einsum, LRN, MeanVarianceNormalization, RNN/GRU/LSTM, losses, Det,
// NonMaxSuppression, window functions, RoiAlign, GridSample).
// Each group lives in its own misc_*.cc; this file only collects them.
// See ops/op_table.h for the contract each OpDef follows.
#include "ops/misc_internal.h"
#include "ops/op_table.h"

namespace greenai {

void AddMiscOps(std::vector<OpDef>& ops) {
  misc::AddEinsumOp(ops);
  misc::AddNormOps(ops);
  misc::AddRnnOps(ops);
  misc::AddLossOps(ops);
  misc::AddLinalgOps(ops);
  misc::AddSignalOps(ops);
  misc::AddGridOps(ops);
}

}  // namespace greenai
