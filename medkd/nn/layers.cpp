#include "medkd/nn/layers.h"

#include <cmath>
#include <numeric>

#include "medkd/core/error.h"
#include "medkd/nn/complexity.h"

namespace medkd::nn {
namespace {

int64_t product(const std::vector<int64_t>& values) {
  return std::accumulate(values.begin(), values.end(), int64_t{1}, std::multiplies<>());
}

std::vector<int64_t> shape_of(const torch::Tensor& x) { return x.sizes().vec(); }

// Checks [N, C, *spatial] with 2 or 3 spatial axes; returns the spatial count.
int spatial_axes(const torch::Tensor& x, const char* what) {
  MEDKD_CHECK(x.dim() == 4 || x.dim() == 5, what, " expects [N, C, *spatial] with 2 or 3 spatial axes, got ",
              x.sizes());
  return int(x.dim()) - 2;
}

// PyTorch's default initialisation of conv and linear layers: weight Kaiming-uniform with a = √5
// (bound √(6 / ((1 + a²) fan_in)) = 1/√fan_in), bias U(±1/√fan_in).
void default_init(torch::Tensor& weight, torch::Tensor& bias) {
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const int64_t fan_in = std::get<0>(torch::nn::init::_calculate_fan_in_and_fan_out(weight));
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(double(fan_in)) : 0.0;
    torch::nn::init::uniform_(bias, -bound, bound);
  }
}

std::vector<int64_t> pool_output(const std::vector<int64_t>& shape, const std::vector<int64_t>& k,
                                 const std::vector<int64_t>& s, const std::vector<int64_t>& p) {
  std::vector<int64_t> out = shape;
  for (size_t a = 0; a < k.size(); ++a) out[2 + a] = (shape[2 + a] + 2 * p[a] - k[a]) / s[a] + 1;
  return out;
}

template <typename Compute>
torch::Tensor pool(const torch::Tensor& x, const std::vector<int64_t>& kernel,
                   const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                   Compute compute) {
  const int d = spatial_axes(x, "pooling");
  const auto k = per_axis(kernel, d, "pool kernel");
  const auto s = per_axis(stride, d, "pool stride");
  std::vector<int64_t> p = padding.size() == 1 ? std::vector<int64_t>(d, padding[0]) : padding;
  MEDKD_CHECK(int(p.size()) == d, "pool padding needs 1 or ", d, " values");
  if (detail::counting()) {
    auto out = pool_output(shape_of(x), k, s, p);
    detail::record(nullptr, "pool", out, product(out) * product(k));
    return torch::zeros(out, x.options());
  }
  return compute(d, k, s, p);
}

}  // namespace

std::vector<int64_t> per_axis(const std::vector<int64_t>& values, int spatial_dims,
                              const std::string& what) {
  MEDKD_CHECK(spatial_dims == 2 || spatial_dims == 3, "spatial_dims must be 2 or 3, got ",
              spatial_dims);
  MEDKD_CHECK(values.size() == 1 || values.size() == static_cast<size_t>(spatial_dims), what,
              " needs 1 or ", spatial_dims, " values, got ", values.size());
  for (int64_t v : values) MEDKD_CHECK(v >= 1, what, " must be >= 1, got ", v);
  return values.size() == 1 ? std::vector<int64_t>(spatial_dims, values[0]) : values;
}

// ---- Conv ------------------------------------------------------------------------------------

ConvImpl::ConvImpl(const ConvOptions& o) : options(o) {
  const int d = o.spatial_dims();
  MEDKD_CHECK(o.in_channels() >= 1 && o.out_channels() >= 1, "conv channels must be >= 1, got ",
              o.in_channels(), " -> ", o.out_channels());
  MEDKD_CHECK(o.groups() >= 1 && o.in_channels() % o.groups() == 0 &&
                  o.out_channels() % o.groups() == 0,
              "conv groups (", o.groups(), ") must divide in (", o.in_channels(), ") and out (",
              o.out_channels(), ") channels");
  options.kernel_size(per_axis(o.kernel_size(), d, "kernel_size"));
  options.stride(per_axis(o.stride(), d, "stride"));
  options.dilation(per_axis(o.dilation(), d, "dilation"));
  auto expand_zero_ok = [&](const std::vector<int64_t>& v, const char* what) {
    MEDKD_CHECK(v.size() == 1 || v.size() == size_t(d), what, " needs 1 or ", d, " values");
    for (int64_t x : v) MEDKD_CHECK(x >= 0, what, " must be >= 0, got ", x);
    return v.size() == 1 ? std::vector<int64_t>(d, v[0]) : v;
  };
  options.padding(expand_zero_ok(o.padding(), "padding"));
  options.output_padding(expand_zero_ok(o.output_padding(), "output_padding"));
  std::vector<int64_t> shape = o.transposed()
                                   ? std::vector<int64_t>{o.in_channels(), o.out_channels() / o.groups()}
                                   : std::vector<int64_t>{o.out_channels(), o.in_channels() / o.groups()};
  for (int64_t k : options.kernel_size()) shape.push_back(k);
  weight = register_parameter("weight", torch::empty(shape));
  if (o.bias()) bias = register_parameter("bias", torch::empty({o.out_channels()}));
  reset_parameters();
}

void ConvImpl::reset_parameters() { default_init(weight, bias); }

std::vector<int64_t> ConvImpl::output_size(const std::vector<int64_t>& in) const {
  const auto& k = options.kernel_size();
  const auto& s = options.stride();
  const auto& p = options.padding();
  const auto& dl = options.dilation();
  std::vector<int64_t> out(in.size());
  for (size_t a = 0; a < in.size(); ++a) {
    out[a] = options.transposed()
                 ? (in[a] - 1) * s[a] - 2 * p[a] + dl[a] * (k[a] - 1) + options.output_padding()[a] + 1
                 : (in[a] + 2 * p[a] - dl[a] * (k[a] - 1) - 1) / s[a] + 1;
  }
  return out;
}

torch::Tensor ConvImpl::forward(const torch::Tensor& x) {
  const int d = options.spatial_dims();
  MEDKD_CHECK(x.dim() == d + 2 && x.size(1) == options.in_channels(), "conv expects [N, ",
              options.in_channels(), ", *", d, " spatial axes], got ", x.sizes());
  if (detail::counting()) {
    const auto in_size = std::vector<int64_t>(x.sizes().begin() + 2, x.sizes().end());
    std::vector<int64_t> out = {x.size(0), options.out_channels()};
    for (int64_t s : output_size(in_size)) out.push_back(s);
    const int64_t per_voxel = options.in_channels() / options.groups() * options.out_channels() *
                              product(options.kernel_size());
    // A transposed conv spreads every input voxel over a kernel: count per input voxel.
    const int64_t voxels = options.transposed() ? x.size(0) * product(in_size)
                                                : x.size(0) * product({out.begin() + 2, out.end()});
    detail::record(this, options.transposed() ? "transposed_conv" : "conv", out,
                   voxels * per_voxel);
    return torch::zeros(out, x.options());
  }
  const auto& o = options;
  if (o.transposed()) {
    return d == 2 ? torch::conv_transpose2d(x, weight, bias, o.stride(), o.padding(),
                                            o.output_padding(), o.groups(), o.dilation())
                  : torch::conv_transpose3d(x, weight, bias, o.stride(), o.padding(),
                                            o.output_padding(), o.groups(), o.dilation());
  }
  return d == 2 ? torch::conv2d(x, weight, bias, o.stride(), o.padding(), o.dilation(), o.groups())
                : torch::conv3d(x, weight, bias, o.stride(), o.padding(), o.dilation(), o.groups());
}

// ---- Linear ----------------------------------------------------------------------------------

LinearImpl::LinearImpl(int64_t in, int64_t out, bool with_bias) : in_features(in), out_features(out) {
  MEDKD_CHECK(in >= 1 && out >= 1, "linear features must be >= 1, got ", in, " -> ", out);
  weight = register_parameter("weight", torch::empty({out, in}));
  if (with_bias) bias = register_parameter("bias", torch::empty({out}));
  reset_parameters();
}

void LinearImpl::reset_parameters() { default_init(weight, bias); }

torch::Tensor LinearImpl::forward(const torch::Tensor& x) {
  MEDKD_CHECK(x.dim() >= 1 && x.size(-1) == in_features, "linear expects [..., ", in_features,
              "], got ", x.sizes());
  if (detail::counting()) {
    auto out = shape_of(x);
    out.back() = out_features;
    detail::record(this, "linear", out, x.numel() / in_features * in_features * out_features);
    return torch::zeros(out, x.options());
  }
  return torch::linear(x, weight, bias);
}

// ---- Norm ------------------------------------------------------------------------------------

NormImpl::NormImpl(const NormOptions& o) : options(o) {
  MEDKD_CHECK(o.channels() >= 1, "norm channels must be >= 1, got ", o.channels());
  if (o.type() == NormType::kGroup)
    MEDKD_CHECK(o.groups() >= 1 && o.channels() % o.groups() == 0, "group norm: ", o.groups(),
                " groups do not divide ", o.channels(), " channels");
  if (o.affine()) {
    weight = register_parameter("weight", torch::ones({o.channels()}));
    bias = register_parameter("bias", torch::zeros({o.channels()}));
  }
  if (o.type() == NormType::kBatch) {
    running_mean = register_buffer("running_mean", torch::zeros({o.channels()}));
    running_var = register_buffer("running_var", torch::ones({o.channels()}));
    num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kInt64));
  }
}

torch::Tensor NormImpl::forward(const torch::Tensor& x) {
  const auto& o = options;
  const int64_t channel_axis = o.type() == NormType::kLayer ? x.dim() - 1 : 1;
  MEDKD_CHECK(x.dim() >= 2 && x.size(channel_axis) == o.channels(), "norm over ", o.channels(),
              " channels got a tensor of shape ", x.sizes());
  if (detail::counting()) {
    detail::record(this, "norm", shape_of(x), x.numel() * (o.affine() ? 2 : 1));
    return x;
  }
  switch (o.type()) {
    case NormType::kInstance:
      return torch::instance_norm(x, weight, bias, {}, {}, /*use_input_stats=*/true, o.momentum(),
                                  o.eps(), /*cudnn_enabled=*/false);
    case NormType::kBatch: {
      if (is_training()) {
        torch::NoGradGuard no_grad;
        num_batches_tracked.add_(1);
      }
      return torch::batch_norm(x, weight, bias, running_mean, running_var, is_training(),
                               o.momentum(), o.eps(), /*cudnn_enabled=*/false);
    }
    case NormType::kLayer:
      return torch::layer_norm(x, {o.channels()}, weight, bias, o.eps());
    case NormType::kLayerChannels:
      return torch::layer_norm(x.movedim(1, -1), {o.channels()}, weight, bias, o.eps())
          .movedim(-1, 1);
    case NormType::kGroup:
      return torch::group_norm(x, o.groups(), weight, bias, o.eps());
  }
  throw Error("unknown norm type");
}

// ---- Functional ------------------------------------------------------------------------------

torch::Tensor max_pool(const torch::Tensor& x, const std::vector<int64_t>& kernel,
                       const std::vector<int64_t>& stride, const std::vector<int64_t>& padding) {
  return pool(x, kernel, stride, padding, [&](int d, auto k, auto s, auto p) {
    return d == 2 ? torch::max_pool2d(x, k, s, p) : torch::max_pool3d(x, k, s, p);
  });
}

torch::Tensor avg_pool(const torch::Tensor& x, const std::vector<int64_t>& kernel,
                       const std::vector<int64_t>& stride, const std::vector<int64_t>& padding) {
  return pool(x, kernel, stride, padding, [&](int d, auto k, auto s, auto p) {
    return d == 2 ? torch::avg_pool2d(x, k, s, p) : torch::avg_pool3d(x, k, s, p);
  });
}

torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        double scale, const torch::Tensor& bias, const torch::nn::Module* owner) {
  MEDKD_CHECK(q.dim() >= 2 && k.dim() == q.dim() && v.dim() == q.dim() && q.size(-1) == k.size(-1) &&
                  k.size(-2) == v.size(-2),
              "attention expects q [..., N, d], k [..., M, d], v [..., M, e]; got ", q.sizes(), ", ",
              k.sizes(), ", ", v.sizes());
  if (detail::counting()) {
    auto out = shape_of(q);
    out.back() = v.size(-1);
    const int64_t rows = q.numel() / q.size(-1);  // batch × heads × N
    const int64_t keys = k.size(-2);
    detail::record(owner, "attention", out, rows * keys * (q.size(-1) + v.size(-1)));
    return torch::zeros(out, q.options());
  }
  torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) * scale;
  if (bias.defined()) scores = scores + bias;
  return torch::matmul(scores.softmax(-1), v);
}

torch::Tensor matmul(const torch::Tensor& a, const torch::Tensor& b, const torch::nn::Module* owner) {
  MEDKD_CHECK(a.dim() >= 2 && b.dim() >= 2 && a.size(-1) == b.size(-2),
              "matmul expects [..., n, k] × [..., k, m], got ", a.sizes(), " × ", b.sizes());
  if (detail::counting()) {
    std::vector<int64_t> batch =
        at::infer_size(a.sizes().slice(0, a.dim() - 2), b.sizes().slice(0, b.dim() - 2));
    batch.push_back(a.size(-2));
    batch.push_back(b.size(-1));
    detail::record(owner, "matmul", batch, product(batch) * a.size(-1));
    return torch::zeros(batch, a.options());
  }
  return torch::matmul(a, b);
}

}  // namespace medkd::nn
