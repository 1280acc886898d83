#include "core/npy.h"

#include <cctype>
#include <cstring>

#include "core/file_util.h"

namespace greenai {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

// Minimal reader for the Python dict literal numpy writes as the header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class HeaderParser {
 public:
  HeaderParser(std::string_view s, const std::string& what) : s_(s), what_(what) {}

  Status Parse(std::string* descr, bool* fortran, Shape* shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    Skip();
    if (!Eat('{')) return Err("header does not start with '{'");
    for (;;) {
      Skip();
      if (Eat('}')) break;
      std::string key;
      GREENAI_RETURN_IF_ERROR(ParseString(&key));
      Skip();
      if (!Eat(':')) return Err("expected ':' after key '" + key + "'");
      Skip();
      if (key == "descr") {
        GREENAI_RETURN_IF_ERROR(ParseString(descr));
        have_descr = true;
      } else if (key == "fortran_order") {
        if (Word("True")) *fortran = true;
        else if (Word("False")) *fortran = false;
        else return Err("fortran_order is not True or False");
        have_fortran = true;
      } else if (key == "shape") {
        GREENAI_RETURN_IF_ERROR(ParseShape(shape));
        have_shape = true;
      } else {
        return Err("unexpected header key '" + key + "' (expects descr, fortran_order, shape)");
      }
      Skip();
      if (Eat(',')) continue;
      Skip();
      if (Eat('}')) break;
      return Err("expected ',' or '}' in header");
    }
    if (!have_descr || !have_fortran || !have_shape)
      return Err("header lacks one of 'descr', 'fortran_order', 'shape'");
    return Status::Ok();
  }

 private:
  Status Err(const std::string& m) const { return InvalidArgument("{}: bad .npy header: {}", what_, m); }
  void Skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool Eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool Word(std::string_view w) {
    if (s_.substr(i_, w.size()) == w) {
      i_ += w.size();
      return true;
    }
    return false;
  }
  Status ParseString(std::string* out) {
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) return Err("expected a quoted string");
    char q = s_[i_++];
    size_t end = s_.find(q, i_);
    if (end == std::string_view::npos) return Err("unterminated string");
    *out = std::string(s_.substr(i_, end - i_));
    i_ = end + 1;
    return Status::Ok();
  }
  Status ParseShape(Shape* shape) {
    shape->clear();
    if (!Eat('(')) return Err("shape is not a tuple");
    for (;;) {
      Skip();
      if (Eat(')')) return Status::Ok();
      if (i_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[i_])))
        return Err("shape entry is not a non-negative integer");
      int64_t v = 0;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
        if (v > (int64_t{1} << 50)) return Err("shape entry is too large");
        v = v * 10 + (s_[i_++] - '0');
      }
      if (Word("L")) {}  // Python 2 long suffix
      shape->push_back(v);
      if (shape->size() > 64) return Err("shape has more than 64 dims");
      Skip();
      if (Eat(',')) continue;
      Skip();
      if (Eat(')')) return Status::Ok();
      return Err("expected ',' or ')' in shape");
    }
  }

  std::string_view s_;
  const std::string& what_;
  size_t i_ = 0;
};

Result<DType> DescrToDType(const std::string& d, const std::string& what) {
  if (d.size() < 3) return InvalidArgument("{}: unsupported .npy dtype '{}'", what, d);
  char order = d[0];
  std::string code = d.substr(1);
  if (order == '>' && code != "i1" && code != "u1" && code != "b1")
    return Unimplemented("{}: big-endian dtype '{}' is not supported (save with '<' byte order)", what, d);
  if (order != '<' && order != '|' && order != '=' && order != '>')
    return InvalidArgument("{}: bad byte-order character in dtype '{}'", what, d);
  static const struct { const char* code; DType t; } kMap[] = {
      {"f2", DType::kF16}, {"f4", DType::kF32}, {"f8", DType::kF64}, {"i1", DType::kI8},
      {"u1", DType::kU8},  {"i2", DType::kI16}, {"u2", DType::kU16}, {"i4", DType::kI32},
      {"u4", DType::kU32}, {"i8", DType::kI64}, {"u8", DType::kU64}, {"b1", DType::kBool},
  };
  for (const auto& m : kMap)
    if (code == m.code) return m.t;
  return Unimplemented("{}: .npy dtype '{}' is not supported (expects f2 f4 f8 i1 u1 i2 u2 i4 u4 i8 u8 b1)",
                       what, d);
}

const char* DTypeToDescr(DType t) {
  switch (t) {
    case DType::kF16: return "<f2";
    case DType::kF32: return "<f4";
    case DType::kF64: return "<f8";
    case DType::kI8: return "|i1";
    case DType::kU8: return "|u1";
    case DType::kI16: return "<i2";
    case DType::kU16: return "<u2";
    case DType::kI32: return "<i4";
    case DType::kU32: return "<u4";
    case DType::kI64: return "<i8";
    case DType::kU64: return "<u8";
    case DType::kBool: return "|b1";
    default: return nullptr;
  }
}

uint32_t ReadLE(const unsigned char* p, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

Result<Tensor> NpyFromBytes(std::string_view bytes, const std::string& what) {
  if (bytes.size() < kMagicLen + 4 || std::memcmp(bytes.data(), kMagic, kMagicLen) != 0)
    return InvalidArgument("{}: not a .npy file (missing \\x93NUMPY magic or file shorter than 10 bytes)", what);
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  int major = u[6], minor = u[7];
  size_t len_bytes;
  if (major == 1) len_bytes = 2;
  else if (major == 2 || major == 3) len_bytes = 4;
  else return Unimplemented("{}: .npy format version {}.{} is not supported (expects 1.0, 2.0 or 3.0)", what, major, minor);
  if (bytes.size() < 8 + len_bytes) return InvalidArgument("{}: .npy file truncated inside the header length", what);
  uint64_t header_len = ReadLE(u + 8, static_cast<int>(len_bytes));
  uint64_t data_off = 8 + len_bytes + header_len;
  if (data_off > bytes.size())
    return InvalidArgument("{}: .npy header declares {} bytes but the file has only {} after the preamble", what,
                           header_len, bytes.size() - 8 - len_bytes);
  std::string_view header = bytes.substr(8 + len_bytes, header_len);
  std::string descr;
  bool fortran = false;
  Shape shape;
  GREENAI_RETURN_IF_ERROR(HeaderParser(header, what).Parse(&descr, &fortran, &shape));
  if (fortran)
    return Unimplemented("{}: fortran_order True is not supported (save a C-contiguous array)", what);
  GREENAI_ASSIGN_OR_RETURN(DType dt, DescrToDType(descr, what));
  auto n = CheckedNumElements(shape);
  if (!n.ok()) return n.status().WithContext(what);
  uint64_t want = static_cast<uint64_t>(*n) * DTypeSize(dt);
  uint64_t have = bytes.size() - data_off;
  if (want != have)
    return InvalidArgument("{}: shape {} of {} needs {} data bytes but the file holds {}", what,
                           ShapeToString(shape), DTypeName(dt), want, have);
  GREENAI_ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dt, shape));
  if (want) std::memcpy(t.raw(), bytes.data() + data_off, want);
  if (dt == DType::kBool) {
    // Anything but 0/1 in a C++ bool is undefined behaviour; numpy treats nonzero as True.
    auto* b = static_cast<unsigned char*>(t.raw());
    for (int64_t i = 0; i < t.numel(); ++i) b[i] = b[i] != 0;
  }
  return t;
}

Result<std::string> NpyToBytes(const Tensor& t) {
  const char* descr = DTypeToDescr(t.dtype());
  if (!descr)
    return Unimplemented("cannot save a {} tensor as .npy (numpy has no such dtype)", DTypeName(t.dtype()));
  std::string shape = "(";
  for (size_t i = 0; i < t.shape().size(); ++i) {
    if (i) shape += ", ";
    shape += std::to_string(t.shape()[i]);
  }
  if (t.shape().size() == 1) shape += ",";
  shape += ")";
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces and end with '\n' so the data starts at a multiple of 64 bytes.
  size_t len_bytes = header.size() + 1 + 10 > 65535 ? 4 : 2;
  size_t pre = 8 + len_bytes;
  size_t total = (pre + header.size() + 1 + 63) / 64 * 64;
  header.append(total - pre - header.size() - 1, ' ');
  header.push_back('\n');
  std::string out(kMagic, kMagicLen);
  out.push_back(static_cast<char>(len_bytes == 2 ? 1 : 2));
  out.push_back(0);
  uint32_t hl = static_cast<uint32_t>(header.size());
  for (size_t i = 0; i < len_bytes; ++i) out.push_back(static_cast<char>((hl >> (8 * i)) & 0xff));
  out += header;
  out.append(static_cast<const char*>(t.raw()), t.nbytes());
  return out;
}

Result<Tensor> LoadNpy(const std::string& path) {
  GREENAI_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  return NpyFromBytes(bytes, "'" + path + "'");
}

Status SaveNpy(const Tensor& t, const std::string& path) {
  GREENAI_ASSIGN_OR_RETURN(std::string bytes, NpyToBytes(t));
  return WriteFileAtomic(path, bytes);
}

}  // namespace greenai
