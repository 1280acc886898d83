// Op family: misc. See ops/op_table.h for the contract each OpDef follows.
#include "ops/op_table.h"

namespace greenai {

void AddMiscOps(std::vector<OpDef>& ops) {
  (void)ops;
}

}  // namespace greenai
