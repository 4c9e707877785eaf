// im2col / col2im for 2-D convolution, and max-pooling, for one image or a stack of planes.
#include <algorithm>
#include <limits>

#include "vugrad/kernels.h"
#include "vugrad/parallel.h"

namespace vg {

// im2col of one image into [c*kh*kw, oh*ow].
template <typename T>
void im2col(const T* x, size_t c, size_t h, size_t w, size_t kh, size_t kw, size_t stride, size_t pad, T* out) {
  const int64_t oh = convOutSize(h, kh, stride, pad);
  const int64_t ow = convOutSize(w, kw, stride, pad);
  const int64_t H = static_cast<int64_t>(h), W = static_cast<int64_t>(w), P = static_cast<int64_t>(pad);
  const int64_t S = static_cast<int64_t>(stride);
  size_t row = 0;
  for (size_t ch = 0; ch < c; ch++) {
    const T* xc = x + ch * h * w;
    for (size_t ky = 0; ky < kh; ky++) {
      for (size_t kx = 0; kx < kw; kx++, row++) {
        T* o = out + row * static_cast<size_t>(oh * ow);
        for (int64_t oy = 0; oy < oh; oy++, o += ow) {
          const int64_t iy = oy * S - P + static_cast<int64_t>(ky);
          if (iy < 0 || iy >= H) {
            std::fill(o, o + ow, T(0));
            continue;
          }
          const T* xr = xc + iy * W;
          const int64_t ix0 = static_cast<int64_t>(kx) - P;
          if (S == 1 && ix0 >= 0 && ix0 + ow <= W) {
            std::copy(xr + ix0, xr + ix0 + ow, o);  // the common unpadded stride-1 row
            continue;
          }
          for (int64_t ox = 0; ox < ow; ox++) {
            const int64_t ix = ox * S + ix0;
            o[ox] = (ix >= 0 && ix < W) ? xr[ix] : T(0);
          }
        }
      }
    }
  }
}

// col2im of [c*kh*kw, oh*ow] columns accumulated into one image (the adjoint of im2col).
template <typename T>
void col2im(const T* cols, size_t c, size_t h, size_t w, size_t kh, size_t kw, size_t stride, size_t pad, T* out) {
  const int64_t oh = convOutSize(h, kh, stride, pad);
  const int64_t ow = convOutSize(w, kw, stride, pad);
  const int64_t H = static_cast<int64_t>(h), W = static_cast<int64_t>(w), P = static_cast<int64_t>(pad);
  const int64_t S = static_cast<int64_t>(stride);
  size_t row = 0;
  for (size_t ch = 0; ch < c; ch++) {
    T* oc = out + ch * h * w;
    for (size_t ky = 0; ky < kh; ky++) {
      for (size_t kx = 0; kx < kw; kx++, row++) {
        const T* src = cols + row * static_cast<size_t>(oh * ow);
        for (int64_t oy = 0; oy < oh; oy++, src += ow) {
          const int64_t iy = oy * S - P + static_cast<int64_t>(ky);
          if (iy < 0 || iy >= H) continue;
          T* orow = oc + iy * W;
          const int64_t ix0 = static_cast<int64_t>(kx) - P;
          if (S == 1 && ix0 >= 0 && ix0 + ow <= W) {
            T* d = orow + ix0;  // the common unpadded stride-1 row: a contiguous, vectorizable add
            for (int64_t ox = 0; ox < ow; ox++) d[ox] += src[ox];
            continue;
          }
          for (int64_t ox = 0; ox < ow; ox++) {
            const int64_t ix = ox * S + ix0;
            if (ix >= 0 && ix < W) orow[ix] += src[ox];
          }
        }
      }
    }
  }
}

namespace {

// Items per pool part: enough that a part copies at least ~32k values (less is not worth a hand-off).
inline size_t imagesPerPart(size_t valuesPerItem) {
  return std::max<size_t>(1, kElementGrain / std::max<size_t>(1, valuesPerItem));
}

}  // namespace

template <typename T>
void maxPool2dPart(const T* x, size_t planes, size_t h, size_t w, size_t k, size_t stride, T* out, int32_t* argmax) {
  const size_t oh = static_cast<size_t>(convOutSize(h, k, stride, 0));
  const size_t ow = static_cast<size_t>(convOutSize(w, k, stride, 0));
  for (size_t p = 0; p < planes; p++) {
    const T* xb = x + p * h * w;
    T* ob = out + p * oh * ow;
    int32_t* ab = argmax + p * oh * ow;
    for (size_t oy = 0; oy < oh; oy++) {
      for (size_t ox = 0; ox < ow; ox++) {
        T best = -std::numeric_limits<T>::infinity();
        size_t bestIdx = oy * stride * w + ox * stride;  // a window of NaNs reports its first element
        for (size_t ky = 0; ky < k; ky++) {
          const size_t row = (oy * stride + ky) * w + ox * stride;
          for (size_t kx = 0; kx < k; kx++) {
            const T v = xb[row + kx];
            if (v > best) {
              best = v;
              bestIdx = row + kx;
            }
          }
        }
        ob[oy * ow + ox] = xb[bestIdx];
        ab[oy * ow + ox] = static_cast<int32_t>(bestIdx);
      }
    }
  }
}

template <typename T>
void maxPool2dBackwardPart(const T* g, const int32_t* argmax, size_t planes, size_t h, size_t w, size_t oh, size_t ow,
                           T* out) {
  const size_t plane = oh * ow;
  for (size_t p = 0; p < planes; p++) {
    const T* gb = g + p * plane;
    const int32_t* ab = argmax + p * plane;
    T* xb = out + p * h * w;
    for (size_t o = 0; o < plane; o++) xb[static_cast<size_t>(ab[o])] += gb[o];
  }
}

// Pooling: planes split across the pool, each part one call of the loop above on its planes.
template <typename T>
void maxPool2d(const T* x, size_t planes, size_t h, size_t w, size_t k, size_t stride, T* out, int32_t* argmax) {
  const size_t oh = static_cast<size_t>(convOutSize(h, k, stride, 0));
  const size_t ow = static_cast<size_t>(convOutSize(w, k, stride, 0));
  parallelFor(planes, imagesPerPart(h * w), [&](size_t p0, size_t p1) {
    maxPool2dPart(x + p0 * h * w, p1 - p0, h, w, k, stride, out + p0 * oh * ow, argmax + p0 * oh * ow);
  });
}

template <typename T>
void maxPool2dBackward(const T* g, const int32_t* argmax, size_t planes, size_t h, size_t w, size_t oh, size_t ow,
                       T* out) {
  parallelFor(planes, imagesPerPart(h * w), [&](size_t p0, size_t p1) {
    maxPool2dBackwardPart(g + p0 * oh * ow, argmax + p0 * oh * ow, p1 - p0, h, w, oh, ow, out + p0 * h * w);
  });
}

#define VG_INSTANTIATE(T)                                                                                 \
  template void im2col<T>(const T*, size_t, size_t, size_t, size_t, size_t, size_t, size_t, T*);          \
  template void col2im<T>(const T*, size_t, size_t, size_t, size_t, size_t, size_t, size_t, T*);          \
  template void maxPool2d<T>(const T*, size_t, size_t, size_t, size_t, size_t, T*, int32_t*);             \
  template void maxPool2dBackward<T>(const T*, const int32_t*, size_t, size_t, size_t, size_t, size_t, T*);

VG_INSTANTIATE(float)
VG_INSTANTIATE(double)
#undef VG_INSTANTIATE

}  // namespace vg
