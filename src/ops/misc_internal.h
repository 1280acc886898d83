// Private registration helpers of the misc op family: each misc*.cc adds its OpDefs
// through one of these, and AddMiscOps (ops/misc.cc) calls them all.
#pragma once

#include <vector>

#include "ops/op_table.h"

namespace greenai::misc {

void AddEinsumOp(std::vector<OpDef>& ops);
void AddNormOps(std::vector<OpDef>& ops);  // LRN, MeanVarianceNormalization
void AddRnnOps(std::vector<OpDef>& ops);   // RNN, GRU, LSTM
void AddLossOps(std::vector<OpDef>& ops);  // NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss
void AddSignalOps(std::vector<OpDef>& ops);  // Hann/Hamming/BlackmanWindow, RoiAlign
void AddGridOps(std::vector<OpDef>& ops);  // GridSample
void AddLinalgOps(std::vector<OpDef>& ops);  // Det, NonMaxSuppression

}  // namespace greenai::misc
