// oneDNN BatchNorm training forward/backward on [128, 32, 28, 28] in three layouts (plain, 8-channel
// blocked, nhwc): which implementation oneDNN picks and its median time, to choose the layout and
// thread count of the training BN kernels. Not part of the CMake build:
//   g++ -O2 -o bn_layouts bench/train/bn_layouts.cc -ldnnl && OMP_NUM_THREADS=2 ./bn_layouts
#include <dnnl.hpp>
#include <chrono>
#include <cstdio>
#include <vector>
#include <algorithm>
using namespace dnnl;
double now(){return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();}
template<class F> double med(F f){std::vector<double> t;for(int i=0;i<9;i++){double a=now();f();t.push_back(now()-a);}std::sort(t.begin(),t.end());return t[4]*1e3;}
int main(){
  engine eng(engine::kind::cpu,0); stream s(eng);
  memory::dims d{128,32,28,28};
  auto f32=memory::data_type::f32;
  for (auto tg : {memory::format_tag::nchw, memory::format_tag::nChw8c, memory::format_tag::nhwc}) {
  memory::desc md(d,f32,tg), user(d,f32,memory::format_tag::nchw), cmd({32},f32,memory::format_tag::a);
  auto flags=normalization_flags::use_scale|normalization_flags::use_shift;
  batch_normalization_forward::primitive_desc fpd(batch_normalization_forward::desc(prop_kind::forward_training,md,1e-5f,flags),eng);
  batch_normalization_backward::primitive_desc bpd(batch_normalization_backward::desc(prop_kind::backward,md,md,1e-5f,flags),eng,fpd);
  memory x(md,eng),y(md,eng),dy(md,eng),dx(md,eng),u(user,eng),mean(cmd,eng),var(cmd,eng),sc(cmd,eng),sh(cmd,eng),dsc(cmd,eng),dsh(cmd,eng);
  std::fill_n((float*)u.get_data_handle(),128*32*28*28,0.5f); std::fill_n((float*)sc.get_data_handle(),32,1.f);
  auto fwd=batch_normalization_forward(fpd); auto bwd=batch_normalization_backward(bpd);
  auto r=reorder(u,x);
  double tr=med([&]{r.execute(s,u,x);s.wait();});
  double tf=med([&]{fwd.execute(s,{{DNNL_ARG_SRC,x},{DNNL_ARG_DST,y},{DNNL_ARG_MEAN,mean},{DNNL_ARG_VARIANCE,var},{DNNL_ARG_SCALE,sc},{DNNL_ARG_SHIFT,sh}});s.wait();});
  double tb=med([&]{bwd.execute(s,{{DNNL_ARG_SRC,x},{DNNL_ARG_MEAN,mean},{DNNL_ARG_VARIANCE,var},{DNNL_ARG_DIFF_DST,dy},{DNNL_ARG_SCALE,sc},{DNNL_ARG_SHIFT,sh},{DNNL_ARG_DIFF_SRC,dx},{DNNL_ARG_DIFF_SCALE,dsc},{DNNL_ARG_DIFF_SHIFT,dsh}});s.wait();});
  printf("%s/%s: reorder %.2f ms fwd %.2f ms bwd %.2f ms\n",fpd.impl_info_str(),bpd.impl_info_str(),tr,tf,tb);
  }
}
