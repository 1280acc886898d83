// Einsum: equation parser and OpDef.
#include "ops/misc_einsum.h"

#include <algorithm>
#include <cctype>

#include "ops/misc_internal.h"
#include "ops/op_table.h"

namespace greenai::einsum {

namespace {

int LetterLabel(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return 26 + (c - 'A');
  return -1;
}

// One term: its letter labels, and where the ellipsis sits (-1 when absent).
struct Term {
  std::vector<int> letters;
  int ellipsis_at = -1;
};

Result<Term> ParseTerm(const std::string& s, const std::string& who, const std::string& eq) {
  Term t;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (s.compare(i, 3, "...") != 0 || t.ellipsis_at >= 0)
        return InvalidArgument("{}: equation '{}' has a malformed or repeated ellipsis in term '{}'", who, eq, s);
      t.ellipsis_at = static_cast<int>(t.letters.size());
      i += 2;
      continue;
    }
    const int l = LetterLabel(s[i]);
    if (l < 0) return InvalidArgument("{}: equation '{}' has invalid character '{}' (expects letters, '...')", who, eq, s[i]);
    t.letters.push_back(l);
  }
  return t;
}

}  // namespace

Result<Spec> Parse(const std::string& equation, const std::vector<std::vector<int64_t>>& input_dims,
                   const std::string& who) {
  std::string eq;
  for (char c : equation)
    if (!std::isspace(static_cast<unsigned char>(c))) eq += c;
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms;
  size_t start = 0;
  while (true) {
    const size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != input_dims.size())
    return InvalidArgument("{}: equation '{}' has {} input terms but the node has {} inputs", who, equation,
                           terms.size(), input_dims.size());
  std::vector<Term> parsed;
  int max_ell = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    GREENAI_ASSIGN_OR_RETURN(Term t, ParseTerm(terms[i], who, equation));
    const int rank = static_cast<int>(input_dims[i].size());
    const int nl = static_cast<int>(t.letters.size());
    if (t.ellipsis_at < 0 ? rank != nl : rank < nl)
      return InvalidArgument("{}: equation term '{}' names {} axes but input {} has rank {}", who, terms[i], nl, i, rank);
    if (t.ellipsis_at >= 0) max_ell = std::max(max_ell, rank - nl);
    parsed.push_back(std::move(t));
  }
  Spec spec;
  spec.num_labels = kEllipsisBase + max_ell;
  spec.dims.assign(static_cast<size_t>(spec.num_labels), -1);
  std::vector<int> count(static_cast<size_t>(spec.num_labels), 0);
  std::vector<bool> broadcast_one(static_cast<size_t>(spec.num_labels), false);
  for (size_t i = 0; i < parsed.size(); ++i) {
    const Term& t = parsed[i];
    const int rank = static_cast<int>(input_dims[i].size());
    const int e = t.ellipsis_at >= 0 ? rank - static_cast<int>(t.letters.size()) : 0;
    std::vector<int> labels;
    for (int j = 0; j < static_cast<int>(t.letters.size()); ++j) {
      if (j == t.ellipsis_at)
        for (int k = 0; k < e; ++k) labels.push_back(kEllipsisBase + (max_ell - e) + k);
      labels.push_back(t.letters[static_cast<size_t>(j)]);
    }
    if (t.ellipsis_at == static_cast<int>(t.letters.size()))
      for (int k = 0; k < e; ++k) labels.push_back(kEllipsisBase + (max_ell - e) + k);
    for (size_t a = 0; a < labels.size(); ++a) {
      const int l = labels[a];
      const int64_t d = input_dims[i][a];
      ++count[static_cast<size_t>(l)];
      int64_t& cur = spec.dims[static_cast<size_t>(l)];
      if (d < 0) continue;
      if (l >= kEllipsisBase && d == 1) {
        broadcast_one[static_cast<size_t>(l)] = true;
        continue;
      }
      if (cur >= 0 && cur != d)
        return InvalidArgument("{}: equation '{}': label at axis {} of input {} has size {} but {} elsewhere", who,
                               equation, a, i, d, cur);
      cur = d;
    }
    spec.inputs.push_back(std::move(labels));
  }
  for (int l = kEllipsisBase; l < spec.num_labels; ++l)
    if (spec.dims[static_cast<size_t>(l)] < 0 && broadcast_one[static_cast<size_t>(l)]) spec.dims[static_cast<size_t>(l)] = 1;
  if (arrow != std::string::npos) {
    GREENAI_ASSIGN_OR_RETURN(Term out, ParseTerm(eq.substr(arrow + 2), who, equation));
    for (int j = 0; j <= static_cast<int>(out.letters.size()); ++j) {
      if (j == out.ellipsis_at)
        for (int l = kEllipsisBase; l < spec.num_labels; ++l) spec.output.push_back(l);
      if (j < static_cast<int>(out.letters.size())) spec.output.push_back(out.letters[static_cast<size_t>(j)]);
    }
    if (out.ellipsis_at < 0 && max_ell > 0)
      return InvalidArgument("{}: equation '{}' has inputs with '...' but an output without it", who, equation);
    std::vector<bool> seen(static_cast<size_t>(spec.num_labels), false);
    for (int l : spec.output) {
      if (count[static_cast<size_t>(l)] == 0)
        return InvalidArgument("{}: equation '{}': output label does not occur in any input", who, equation);
      if (seen[static_cast<size_t>(l)])
        return InvalidArgument("{}: equation '{}': output repeats a label", who, equation);
      seen[static_cast<size_t>(l)] = true;
    }
  } else {
    for (int l = kEllipsisBase; l < spec.num_labels; ++l) spec.output.push_back(l);
    std::vector<int> singles;
    for (int l = 0; l < kEllipsisBase; ++l)
      if (count[static_cast<size_t>(l)] == 1) singles.push_back(l);
    // Alphabetical in ASCII order: 'A'..'Z' before 'a'..'z'.
    std::sort(singles.begin(), singles.end(), [](int a, int b) {
      auto ch = [](int x) { return x < 26 ? 'a' + x : 'A' + (x - 26); };
      return ch(a) < ch(b);
    });
    spec.output.insert(spec.output.end(), singles.begin(), singles.end());
  }
  return spec;
}

}  // namespace greenai::einsum

namespace greenai::misc {

namespace {

Status InferEinsum(const InferContext& ctx, std::vector<TensorType>* out) {
  const DType t = ctx.inputs[0].dtype;
  std::vector<std::vector<int64_t>> dims;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (ctx.inputs[i].dtype != t)
      return InvalidArgument("{}: input {} has dtype {} but input 0 has {} (must match)", ctx.node.Describe(), i,
                             DTypeName(ctx.inputs[i].dtype), DTypeName(t));
    if (!ctx.inputs[i].has_shape) {
      (*out)[0].dtype = t;
      return Status::Ok();
    }
    dims.push_back(ctx.inputs[i].dims);
  }
  if (!ctx.node.HasAttr("equation"))
    return InvalidArgument("{}: required attribute 'equation' is missing", ctx.node.Describe());
  GREENAI_ASSIGN_OR_RETURN(einsum::Spec spec,
                           einsum::Parse(ctx.node.GetString("equation", ""), dims, ctx.node.Describe()));
  std::vector<int64_t> od;
  for (int l : spec.output) od.push_back(spec.dims[static_cast<size_t>(l)]);
  (*out)[0] = TensorType::Of(t, od);
  return Status::Ok();
}

// MACs: one multiply-accumulate per point of the full label space per extra operand
// (what a direct evaluation does; the GEMM fast path does exactly this much work too).
OpCost EinsumCost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c = DefaultCost(ctx, outs);
  std::vector<std::vector<int64_t>> dims;
  for (const auto& in : ctx.inputs) {
    if (!in.IsFullyKnown()) return c;
    dims.push_back(in.dims);
  }
  auto spec = einsum::Parse(ctx.node.GetString("equation", ""), dims, ctx.node.Describe());
  if (!spec.ok()) return c;
  double space = 1;
  std::vector<bool> used(static_cast<size_t>(spec->num_labels), false);
  for (const auto& in : spec->inputs)
    for (int l : in) used[static_cast<size_t>(l)] = true;
  for (int l = 0; l < spec->num_labels; ++l)
    if (used[static_cast<size_t>(l)]) space *= static_cast<double>(spec->dims[static_cast<size_t>(l)]);
  c.macs = space * static_cast<double>(std::max<size_t>(1, ctx.inputs.size() - 1));
  c.flops = 2 * c.macs;
  return c;
}

}  // namespace

void AddEinsumOp(std::vector<OpDef>& ops) {
  ops.push_back({"Einsum", "", 12, 1, -1, 1, 1, InferEinsum, EinsumCost});
}

}  // namespace greenai::misc
