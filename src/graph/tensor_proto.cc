// TensorProto <-> Tensor conversion (shared with onnx_io.cc) and .pb file I/O.
#include "graph/tensor_proto.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <filesystem>

#include <onnx/onnx-data_pb.h>
#include <onnx/onnx_pb.h>

#include "core/file_util.h"

namespace greenai {
namespace onnx_internal {

// Declared again in onnx_io.cc (headers under src/ must not mention protobuf types).
Result<Tensor> TensorFromProto(const onnx::TensorProto& p, const std::string& base_dir);
Status TensorToProto(const Tensor& t, const std::string& name, onnx::TensorProto* p);
Result<Tensor> SparseTensorToDense(const onnx::SparseTensorProto& sp, const std::string& base_dir);
Result<DType> DTypeFromOnnx(int32_t v, const std::string& what);

namespace {

std::string TensorLabel(const onnx::TensorProto& p) {
  return p.name().empty() ? std::string("tensor (unnamed)") : "tensor '" + p.name() + "'";
}

// Resolves `location` inside `base_dir`, refusing absolute paths and anything that escapes the
// folder (".." components or symlinks pointing out) - a model must not read arbitrary files.
Result<std::string> ResolveExternalPath(const std::string& label, const std::string& base_dir,
                                        const std::string& location) {
  namespace fs = std::filesystem;
  if (location.empty()) return InvalidArgument("{}: external data has no 'location'", label);
  if (location.find('\0') != std::string::npos)
    return InvalidArgument("{}: external data location contains a NUL byte", label);
  fs::path loc(location);
  if (loc.is_absolute())
    return InvalidArgument("{}: external data location '{}' is absolute (must be relative to the model's folder)",
                           label, location);
  fs::path norm = loc.lexically_normal();
  if (norm.empty() || *norm.begin() == "..")
    return InvalidArgument("{}: external data location '{}' escapes the model's folder", label, location);
  std::error_code ec;
  fs::path base = fs::weakly_canonical(fs::path(base_dir.empty() ? "." : base_dir), ec);
  if (ec) return IoError("{}: cannot resolve model folder '{}': {}", label, base_dir, ec.message());
  fs::path full = fs::weakly_canonical(base / norm, ec);
  if (ec) return IoError("{}: cannot resolve external data '{}': {}", label, location, ec.message());
  auto rel = full.lexically_relative(base);
  if (rel.empty() || *rel.begin() == "..")
    return InvalidArgument("{}: external data location '{}' resolves outside the model's folder (symlink?)", label,
                           location);
  return full.string();
}

Status ReadExternal(const onnx::TensorProto& p, const std::string& base_dir, uint64_t want, std::string* out) {
  const std::string label = TensorLabel(p);
  std::string location;
  uint64_t offset = 0;
  bool has_length = false;
  uint64_t length = 0;
  for (const auto& kv : p.external_data()) {
    const std::string& v = kv.value();
    if (kv.key() == "location") {
      location = v;
    } else if (kv.key() == "offset" || kv.key() == "length") {
      uint64_t x = 0;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
      if (ec != std::errc() || ptr != v.data() + v.size())
        return InvalidArgument("{}: external data {} '{}' is not a non-negative integer", label, kv.key(), v);
      if (kv.key() == "offset") offset = x;
      else { length = x; has_length = true; }
    }
  }
  if (has_length && length != want)
    return InvalidArgument("{}: external data length {} does not match dims x element size = {} bytes", label,
                           length, want);
  GREENAI_ASSIGN_OR_RETURN(std::string path, ResolveExternalPath(label, base_dir, location));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NotFound("{}: cannot open external data file '{}': {}", label, location, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgument("{}: external data '{}' is not a regular file", label, location);
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset > size || want > size - offset) {
    ::close(fd);
    return InvalidArgument("{}: external data file '{}' has {} bytes, too short for {} bytes at offset {}", label,
                           location, size, want, offset);
  }
  out->resize(want);
  uint64_t got = 0;
  while (got < want) {
    ssize_t n = ::pread(fd, out->data() + got, want - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return IoError("{}: reading external data '{}' failed at byte {}", label, location, offset + got);
    }
    got += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return Status::Ok();
}

// Which typed field carries `dt` when raw_data is not used, and how many values it holds.
enum class Field { kFloat, kInt32, kInt64, kDouble, kUint64, kString };
Field FieldFor(DType dt) {
  switch (dt) {
    case DType::kF32: return Field::kFloat;
    case DType::kI64: return Field::kInt64;
    case DType::kF64: return Field::kDouble;
    case DType::kU32: case DType::kU64: return Field::kUint64;
    case DType::kString: return Field::kString;
    default: return Field::kInt32;
  }
}
const char* FieldName(Field f) {
  switch (f) {
    case Field::kFloat: return "float_data";
    case Field::kInt32: return "int32_data";
    case Field::kInt64: return "int64_data";
    case Field::kDouble: return "double_data";
    case Field::kUint64: return "uint64_data";
    case Field::kString: return "string_data";
  }
  return "?";
}
int64_t FieldSize(const onnx::TensorProto& p, Field f) {
  switch (f) {
    case Field::kFloat: return p.float_data_size();
    case Field::kInt32: return p.int32_data_size();
    case Field::kInt64: return p.int64_data_size();
    case Field::kDouble: return p.double_data_size();
    case Field::kUint64: return p.uint64_data_size();
    case Field::kString: return p.string_data_size();
  }
  return 0;
}

template <typename T, typename Src>
void CopyCast(const Src& src, Tensor& t) {
  T* d = t.data<T>();
  for (int i = 0; i < src.size(); ++i) d[i] = static_cast<T>(src.Get(i));
}

void FillFromInt32(const onnx::TensorProto& p, Tensor& t) {
  const auto& s = p.int32_data();
  switch (t.dtype()) {
    case DType::kI32: CopyCast<int32_t>(s, t); break;
    case DType::kI16: CopyCast<int16_t>(s, t); break;
    case DType::kU16: CopyCast<uint16_t>(s, t); break;
    case DType::kI8: CopyCast<int8_t>(s, t); break;
    case DType::kU8: CopyCast<uint8_t>(s, t); break;
    case DType::kF16: case DType::kBF16: {
      // The 16 bits of each half/bfloat16 value sit in the low half of an int32.
      auto* d = t.data<uint16_t>();
      for (int i = 0; i < s.size(); ++i) d[i] = static_cast<uint16_t>(static_cast<uint32_t>(s.Get(i)) & 0xffffu);
      break;
    }
    case DType::kBool: {
      auto* d = t.data<bool>();
      for (int i = 0; i < s.size(); ++i) d[i] = s.Get(i) != 0;
      break;
    }
    default: break;
  }
}

}  // namespace

Result<DType> DTypeFromOnnx(int32_t v, const std::string& what) {
  if (IsKnownDType(v)) return static_cast<DType>(v);
  if (v == 0) return InvalidArgument("{}: data_type is UNDEFINED (0)", what);
  if (v == 14 || v == 15)
    return Unimplemented("{}: complex data_type {} is not supported", what, v == 14 ? "complex64" : "complex128");
  return InvalidArgument("{}: unknown data_type {} (expects a TensorProto.DataType in 1..16)", what, v);
}

Result<Tensor> TensorFromProto(const onnx::TensorProto& p, const std::string& base_dir) {
  const std::string label = TensorLabel(p);
  GREENAI_ASSIGN_OR_RETURN(DType dt, DTypeFromOnnx(p.data_type(), label));
  if (p.has_segment()) return Unimplemented("{}: segmented tensors are not supported", label);
  Shape shape(p.dims().begin(), p.dims().end());
  auto n_or = CheckedNumElements(shape);
  if (!n_or.ok()) return n_or.status().WithContext(label);
  const int64_t n = *n_or;
  const bool external = p.data_location() == onnx::TensorProto::EXTERNAL;
  if (!external && p.external_data_size() > 0)
    return InvalidArgument("{}: has external_data entries but data_location is not EXTERNAL", label);
  const Field field = FieldFor(dt);
  static const Field kAll[] = {Field::kFloat, Field::kInt32, Field::kInt64, Field::kDouble, Field::kUint64,
                               Field::kString};
  for (Field f : kAll)
    if (f != field && FieldSize(p, f) > 0)
      return InvalidArgument("{}: data_type {} but values are in {} (expects {} or raw_data)", label, DTypeName(dt),
                             FieldName(f), FieldName(field));
  const bool typed = FieldSize(p, field) > 0;
  if ((external ? 1 : 0) + (p.has_raw_data() ? 1 : 0) + (typed ? 1 : 0) > 1)
    return InvalidArgument("{}: data is given more than once (external, raw_data and {}; expects one)", label,
                           FieldName(field));

  if (dt == DType::kString) {
    if (external || p.has_raw_data())
      return InvalidArgument("{}: string tensors must use string_data, not raw or external data", label);
    if (p.string_data_size() != n)
      return InvalidArgument("{}: string_data has {} values but dims {} need {}", label, p.string_data_size(),
                             ShapeToString(shape), n);
    GREENAI_ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dt, shape));
    for (int64_t i = 0; i < n; ++i) t.data<std::string>()[i] = p.string_data(static_cast<int>(i));
    return t;
  }

  const uint64_t want = static_cast<uint64_t>(n) * DTypeSize(dt);
  std::string ext;
  const std::string* raw = nullptr;
  if (external) {
    GREENAI_RETURN_IF_ERROR(ReadExternal(p, base_dir, want, &ext));
    raw = &ext;
  } else if (p.has_raw_data() || !typed) {
    raw = &p.raw_data();
  }
  if (raw) {
    if (raw->size() != want)
      return InvalidArgument("{}: raw_data has {} bytes but dims {} of {} need {}", label, raw->size(),
                             ShapeToString(shape), DTypeName(dt), want);
    GREENAI_ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dt, shape));
    if (want) std::memcpy(t.raw(), raw->data(), want);  // ONNX raw data is little-endian, like this host
    if (dt == DType::kBool) {
      auto* b = static_cast<unsigned char*>(t.raw());
      for (int64_t i = 0; i < n; ++i) b[i] = b[i] != 0;
    }
    return t;
  }
  if (FieldSize(p, field) != n)
    return InvalidArgument("{}: {} has {} values but dims {} need {}", label, FieldName(field), FieldSize(p, field),
                           ShapeToString(shape), n);
  GREENAI_ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dt, shape));
  switch (field) {
    case Field::kFloat: CopyCast<float>(p.float_data(), t); break;
    case Field::kInt64: CopyCast<int64_t>(p.int64_data(), t); break;
    case Field::kDouble: CopyCast<double>(p.double_data(), t); break;
    case Field::kUint64:
      if (dt == DType::kU32) CopyCast<uint32_t>(p.uint64_data(), t);
      else CopyCast<uint64_t>(p.uint64_data(), t);
      break;
    case Field::kInt32: FillFromInt32(p, t); break;
    case Field::kString: break;
  }
  return t;
}

Status TensorToProto(const Tensor& t, const std::string& name, onnx::TensorProto* p) {
  if (!t.defined()) return InvalidArgument("tensor '{}': cannot export an undefined tensor", name);
  p->Clear();
  p->set_name(name);
  p->set_data_type(static_cast<int32_t>(t.dtype()));
  for (int64_t d : t.shape()) p->add_dims(d);
  if (t.dtype() == DType::kString) {
    for (int64_t i = 0; i < t.numel(); ++i) p->add_string_data(t.data<std::string>()[i]);
  } else {
    p->set_raw_data(std::string(static_cast<const char*>(t.raw()), t.nbytes()));
  }
  return Status::Ok();
}

Result<Tensor> SparseTensorToDense(const onnx::SparseTensorProto& sp, const std::string& base_dir) {
  const std::string label = sp.values().name().empty() ? std::string("sparse tensor (unnamed)")
                                                       : "sparse tensor '" + sp.values().name() + "'";
  Shape shape(sp.dims().begin(), sp.dims().end());
  auto n_or = CheckedNumElements(shape);
  if (!n_or.ok()) return n_or.status().WithContext(label);
  GREENAI_ASSIGN_OR_RETURN(Tensor values, TensorFromProto(sp.values(), base_dir));
  GREENAI_ASSIGN_OR_RETURN(Tensor indices, TensorFromProto(sp.indices(), base_dir));
  if (values.rank() != 1) return InvalidArgument("{}: values must be 1-D, got {}", label, ShapeToString(values.shape()));
  if (indices.dtype() != DType::kI64) return InvalidArgument("{}: indices must be int64", label);
  const int64_t nnz = values.dim(0);
  const int64_t rank = static_cast<int64_t>(shape.size());
  bool linear = indices.rank() == 1 && indices.dim(0) == nnz;
  bool coords = indices.rank() == 2 && indices.dim(0) == nnz && indices.dim(1) == rank;
  if (!linear && !coords)
    return InvalidArgument("{}: indices shape {} must be [NNZ={}] or [NNZ, rank={}]", label,
                           ShapeToString(indices.shape()), nnz, rank);
  // The dense form is not backed by bytes in the file, so a few hostile bytes could ask for
  // 2^34 elements. Allow what any plausibly sparse tensor needs (a 4096x expansion) plus 64 MiB.
  const uint64_t dense_bytes = static_cast<uint64_t>(*n_or) * DTypeSize(values.dtype());
  const uint64_t allowed = (uint64_t{64} << 20) + 4096 * (static_cast<uint64_t>(values.nbytes()) + indices.nbytes());
  if (dense_bytes > allowed)
    return ResourceExhausted("{}: densifying {} of {} needs {} bytes from {} stored values (limit {} bytes)", label,
                             ShapeToString(shape), DTypeName(values.dtype()), dense_bytes, nnz, allowed);
  GREENAI_ASSIGN_OR_RETURN(Tensor dense, Tensor::Create(values.dtype(), shape));
  const int64_t* idx = indices.data<int64_t>();
  const auto strides = RowMajorStrides(shape);
  const size_t es = DTypeSize(values.dtype());
  for (int64_t k = 0; k < nnz; ++k) {
    int64_t off = 0;
    if (linear) {
      off = idx[k];
    } else {
      for (int64_t j = 0; j < rank; ++j) {
        int64_t c = idx[k * rank + j];
        if (c < 0 || c >= shape[static_cast<size_t>(j)])
          return InvalidArgument("{}: index {} of entry {} is {} (outside dim {})", label, j, k, c,
                                 shape[static_cast<size_t>(j)]);
        off += c * strides[static_cast<size_t>(j)];
      }
    }
    if (off < 0 || off >= *n_or)
      return InvalidArgument("{}: linear index {} of entry {} is outside [0, {})", label, off, k, *n_or);
    if (values.dtype() == DType::kString)
      dense.data<std::string>()[off] = values.data<std::string>()[k];
    else
      std::memcpy(static_cast<char*>(dense.raw()) + off * static_cast<int64_t>(es),
                  static_cast<const char*>(values.raw()) + k * static_cast<int64_t>(es), es);
  }
  return dense;
}

}  // namespace onnx_internal

namespace {

// A .pb may hold a SequenceProto/OptionalProto instead of a TensorProto; the wire formats
// overlap (a sequence's name parses as packed dims, its elements as a tensor segment), so a
// value that does not make sense as a tensor is tried as the other two message types.
template <typename Proto>
bool ParsesCleanly(std::string_view bytes) {
  Proto s;
  if (!s.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
  return s.unknown_fields().empty() && s.elem_type() >= 0 && s.elem_type() <= 5;
}
bool LooksLikeSequenceOrOptional(std::string_view bytes) {
  return ParsesCleanly<onnx::SequenceProto>(bytes) || ParsesCleanly<onnx::OptionalProto>(bytes);
}

}  // namespace

Result<Tensor> TensorFromProtoBytes(std::string_view bytes, std::string* name, const std::string& what,
                                    const std::string& base_dir) {
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    return Unimplemented("{}: {} bytes is over the 2 GiB protobuf limit", what, bytes.size());
  onnx::TensorProto p;
  bool parsed = p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  Status err = InvalidArgument("{}: not a valid TensorProto (protobuf parse failed: truncated or corrupt)", what);
  if (parsed) {
    auto t = onnx_internal::TensorFromProto(p, base_dir);
    bool odd = !p.unknown_fields().empty() || p.has_segment();
    if (t.ok() && !(odd && LooksLikeSequenceOrOptional(bytes))) {
      if (name) *name = p.name();
      return t;
    }
    if (!t.ok()) err = t.status().WithContext(what);
  }
  if (LooksLikeSequenceOrOptional(bytes))
    return Unimplemented("{}: holds a SequenceProto or OptionalProto, not a TensorProto (sequence/optional values "
                         "are not supported)", what);
  return err;
}

Result<std::string> TensorToProtoBytes(const Tensor& t, const std::string& name) {
  onnx::TensorProto p;
  GREENAI_RETURN_IF_ERROR(onnx_internal::TensorToProto(t, name, &p));
  if (p.ByteSizeLong() > static_cast<size_t>(INT_MAX))
    return Unimplemented("tensor '{}': {} bytes is over the 2 GiB protobuf limit", name, p.ByteSizeLong());
  std::string out;
  if (!p.SerializeToString(&out)) return Internal("tensor '{}': protobuf serialization failed", name);
  return out;
}

Result<Tensor> LoadTensorProtoFile(const std::string& path, std::string* name) {
  GREENAI_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path, static_cast<uint64_t>(INT_MAX)));
  std::string dir = std::filesystem::path(path).parent_path().string();
  return TensorFromProtoBytes(bytes, name, "'" + path + "'", dir.empty() ? "." : dir);
}

Status SaveTensorProtoFile(const Tensor& t, const std::string& name, const std::string& path) {
  GREENAI_ASSIGN_OR_RETURN(std::string bytes, TensorToProtoBytes(t, name));
  return WriteFileAtomic(path, bytes);
}

}  // namespace greenai
