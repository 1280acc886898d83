// Op family: quant. See ops/op_table.h for the contract each OpDef follows.
#include "ops/op_table.h"

namespace greenai {

void AddQuantOps(std::vector<OpDef>& ops) {
  (void)ops;
}

}  // namespace greenai
