// Op family: reduce. See ops/op_table.h for the contract each OpDef follows.
#include "ops/op_table.h"

namespace greenai {

void AddReduceOps(std::vector<OpDef>& ops) {
  (void)ops;
}

}  // namespace greenai
