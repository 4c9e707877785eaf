// Direct (no im2col) stride-1 2-D convolution for float and double: forward, weight gradient, input gradient.
//
// Layout trick ("flat padded planes"). Each image is first copied into a zero-padded buffer whose planes are
// hb x wb (hb = h + 2*pad, wb = w + 2*pad), one plane per channel, back to back. In that buffer the output pixel
// (oy, ox) lives at the flat position p = oy*wb + ox, and tap (c, ky, kx) of it reads the buffer at p + off(c,ky,kx)
// with off = c*hb*wb + ky*wb + kx. So a whole convolution is a 1-D problem over p in [0, L), L = (oh-1)*wb + ow,
// where consecutive p read consecutive input values: SIMD vectors of 8 floats / 4 doubles run along p with plain
// unaligned loads, no gathers and no edge cases. The price is that the positions with ox >= ow (the kw-1 columns at
// the end of each row) are computed and thrown away (e.g. 4 of 32 for LeNet's first layer).
//
// Forward, micro-kernel fwdTile<OB, NV>: OB output channels x NV consecutive vectors of p, i.e. OB*NV accumulator
// registers (12 on AVX2, leaving registers for the NV input vectors and one broadcast weight). For every tap t
// (all c, ky, kx) it loads NV input vectors at p + off[t] and does OB*NV fused multiply-adds with the broadcast weights
// w[o0..o0+OB, t] (pre-packed tap-major so they are adjacent). The accumulators start at the bias and are stored
// once to a flat output buffer, from which the valid columns are copied out.
//
// Input gradient: a "full" correlation of g with the flipped, transposed kernel, which is the forward kernel run on
// g (o channels) with padding kh-1-pad / kw-1-pad (negative padding crops) and weights wt[c,o,ky,kx] =
// w[o,c,kh-1-ky,kw-1-kx], producing c channels of h x w.
//
// Weight gradient, micro-kernel wgTile<OB, TB>: OB output channels x TB taps, one vector accumulator per pair, swept
// over all p: per vector of p it loads OB vectors of g (stored in the same flat padded layout with zeros at ox >= ow,
// so garbage positions contribute nothing) and TB input vectors at p + off[t], then OB*TB FMAs. Images go in chunks
// (~128 KiB of padded copies); a tile sweeps all images of the chunk before its lanes are summed into gw.
//
// Padding in the forward: kernel rows that would read only the top / bottom zero rows are skipped per tile (taps are
// ordered [ky][c][kx] so that is a shorter tap range), and a "rows" layout (each output row starts a new vector) is
// used instead of the flat one when that skips more; the input gradient (padding kh-1-pad) relies on this.
//
// Instruction sets: the kernels are always-inline templates over the vector width; the exported entry points call
// an AVX2+FMA instantiation (target attribute, chosen at run time with __builtin_cpu_supports) on x86-64 and a
// 16-byte-vector instantiation otherwise (SSE2 / NEON), so the binary needs nothing beyond baseline x86-64.
#include "vugrad/conv_direct.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace vg {

namespace {

#define VG_INLINE inline __attribute__((always_inline))
#define VG_UNROLL _Pragma("GCC unroll 16")
// Keeps a computed pointer in one register (otherwise GCC may split base + offset + j*lanes over several registers).
#define VG_PIN(p) asm("" : "+r"(p))

// Register budget of a tile with rows x cols accumulator vectors, where each step multiplies a "row" operand (a
// broadcast weight or a g vector) by a "column" operand (an input vector): true when holding the cols column vectors
// (and streaming the rows) uses fewer registers than holding the rows (and streaming the columns).
constexpr bool holdInputs(int rows, int cols) { return cols <= rows; }



// Vector of VB bytes of T (GCC vector extension), and its lane count.
template <typename T, int VB>
struct Vec {
  typedef T type __attribute__((vector_size(VB)));
  // The same for unaligned loads / stores from / to arrays of T.
  typedef T unaligned __attribute__((vector_size(VB), aligned(sizeof(T)), may_alias));
  static constexpr int lanes = VB / static_cast<int>(sizeof(T));
};

template <typename T, int VB>
VG_INLINE void loadu(typename Vec<T, VB>::type& v, const T* p) {
  v = *reinterpret_cast<const typename Vec<T, VB>::unaligned*>(p);
}
template <typename T, int VB>
VG_INLINE void storeu(T* p, const typename Vec<T, VB>::type& v) {
  *reinterpret_cast<typename Vec<T, VB>::unaligned*>(p) = v;
}

// The geometry of one padded image: source planes hs x ws, padding py / px (negative crops), kernel kh x kw.
struct Geometry {
  ptrdiff_t hs, ws, py, px, hb, wb, oh, ow, plane, len, lenPadded;
  Geometry(size_t hs_, size_t ws_, ptrdiff_t py_, ptrdiff_t px_, size_t kh, size_t kw, int lanes)
      : hs(static_cast<ptrdiff_t>(hs_)), ws(static_cast<ptrdiff_t>(ws_)), py(py_), px(px_) {
    hb = hs + 2 * py;
    wb = ws + 2 * px;
    oh = hb - static_cast<ptrdiff_t>(kh) + 1;
    ow = wb - static_cast<ptrdiff_t>(kw) + 1;
    plane = hb * wb;
    len = (oh - 1) * wb + ow;  // flat positions from the first to the last valid output pixel
    lenPadded = (len + lanes - 1) / lanes * lanes;
  }
  // Size of a padded-image buffer of `ch` channels: the largest read, (ch-1)*plane + off_max + lenPadded - 1, is
  // ch*plane - 1 + (lenPadded - len).
  size_t bufferSize(size_t ch) const { return ch * static_cast<size_t>(plane) + static_cast<size_t>(lenPadded - len); }
};

// Copies one image (ch planes of hs x ws) into the interior of its padded buffer. The border (and the tail) of the
// buffer is never written, so it keeps the zeros of its allocation for every image.
template <typename T>
VG_INLINE void fillPadded(const T* src, size_t ch, const Geometry& g, T* buf) {
  const ptrdiff_t r0 = std::max<ptrdiff_t>(0, g.py), r1 = std::min(g.hb, g.hs + g.py);
  const ptrdiff_t s0 = std::max<ptrdiff_t>(0, g.px), s1 = std::min(g.wb, g.ws + g.px);
  if (r1 <= r0 || s1 <= s0) return;
  for (size_t c = 0; c < ch; c++) {
    const T* sc = src + c * static_cast<size_t>(g.hs * g.ws);
    T* bc = buf + c * static_cast<size_t>(g.plane);
    for (ptrdiff_t r = r0; r < r1; r++) {
      std::memcpy(bc + r * g.wb + s0, sc + (r - g.py) * g.ws + (s0 - g.px), static_cast<size_t>(s1 - s0) * sizeof(T));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Forward

// A forward tile: nv vectors starting at flat input position `in` (output written at `out` in the output buffer),
// reading only kernel rows [ky0, ky1) (the other rows would read nothing but zero padding for every valid lane).
// Taps are ordered [ky][c][kx] so that a range of kernel rows is a contiguous range of taps.
struct Tile {
  ptrdiff_t in, out;
  int nv, ky0, ky1;
};

// OB output channels x NV vectors: xs / os point at the tile's first input / output position, the output buffer has
// channel stride ldo. Taps [t0, t1): input offsets off[t], weights wp[t][OB]; bias: OB values or nullptr.
template <typename T, int VB, int OB, int NV>
VG_INLINE void fwdTile(const T* xs, const ptrdiff_t* off, size_t t0, size_t t1, const T* wp, const T* bias, T* os,
                       size_t ldo) {
  typedef typename Vec<T, VB>::type V;
  constexpr int L = Vec<T, VB>::lanes;
  V acc[OB][NV];
  VG_UNROLL
  for (int b = 0; b < OB; b++) {
    const T b0 = bias ? bias[b] : T(0);
    VG_UNROLL
    for (int j = 0; j < NV; j++) acc[b][j] = V{} + b0;
  }
  wp += t0 * OB;
  for (size_t t = t0; t < t1; t++, wp += OB) {
    const T* xt = xs + off[t];
    VG_PIN(xt);
    if constexpr (holdInputs(OB, NV)) {  // NV input vectors in registers, one broadcast weight at a time
      V xv[NV];
      VG_UNROLL
      for (int j = 0; j < NV; j++) loadu<T, VB>(xv[j], xt + j * L);
      VG_UNROLL
      for (int b = 0; b < OB; b++) {
        const T wv = wp[b];
        VG_UNROLL
        for (int j = 0; j < NV; j++) acc[b][j] += xv[j] * wv;
      }
    } else {  // OB broadcast weights in registers, one input vector at a time
      T wv[OB];  // broadcast once each (GCC keeps the splats in registers across j)
      VG_UNROLL
      for (int b = 0; b < OB; b++) wv[b] = wp[b];
      VG_UNROLL
      for (int j = 0; j < NV; j++) {
        V xv;
        loadu<T, VB>(xv, xt + j * L);
        VG_UNROLL
        for (int b = 0; b < OB; b++) acc[b][j] += xv * wv[b];
      }
    }
  }
  VG_UNROLL
  for (int b = 0; b < OB; b++) {
    VG_UNROLL
    for (int j = 0; j < NV; j++) storeu<T, VB>(os + b * ldo + j * L, acc[b][j]);
  }
}

// Vectors per forward tile for OB output channels: 12 accumulators where possible.
constexpr int fwdVectors(int ob) { return ob <= 3 ? 4 : (ob == 4 ? 3 : 2); }

// One block of OB output channels over all tiles of one image (tiles have nv == fwdVectors(OB) or 1).
template <typename T, int VB, int OB>
VG_INLINE void fwdBlock(const T* xb, const ptrdiff_t* off, size_t tapsPerRow, const std::vector<Tile>& tiles,
                        const T* wp, const T* bias, T* ob, size_t ldo) {
  constexpr int NV = fwdVectors(OB);
  for (const Tile& t : tiles) {
    const size_t t0 = static_cast<size_t>(t.ky0) * tapsPerRow, t1 = static_cast<size_t>(t.ky1) * tapsPerRow;
    if (t.nv == NV)
      fwdTile<T, VB, OB, NV>(xb + t.in, off, t0, t1, wp, bias, ob + t.out, ldo);
    else
      fwdTile<T, VB, OB, 1>(xb + t.in, off, t0, t1, wp, bias, ob + t.out, ldo);
  }
}

constexpr size_t kMaxFwdBlock = 6;

// The tiles of one image for tiles of nv vectors, and the output layout they write (channel stride ldo, row stride
// rowStride). Two layouts: "flat" (vectors run across row ends, see the top of the file; best without padding) and
// "rows" (each output row starts a new vector; then kernel rows that would read only the top / bottom zero padding are
// skipped exactly, which matters for the input gradient, whose padding is kh-1-pad). The cheaper one is used.
struct TilePlan {
  std::vector<Tile> tiles;
  size_t ldo, rowStride;
  double cost;
};

inline TilePlan planTiles(const Geometry& g, size_t kh, int lanes, int nv, bool rows) {
  TilePlan plan;
  const ptrdiff_t rlo = std::max<ptrdiff_t>(0, g.py), rhi = std::min(g.hb, g.hs + g.py);  // rows holding data
  const ptrdiff_t KH = static_cast<ptrdiff_t>(kh);
  auto add = [&](ptrdiff_t in, ptrdiff_t out, int n, ptrdiff_t ylo, ptrdiff_t yhi) {
    yhi = std::min(yhi, g.oh - 1);
    Tile t;
    t.in = in;
    t.out = out;
    t.nv = n;
    t.ky0 = static_cast<int>(std::max<ptrdiff_t>(0, rlo - yhi));
    t.ky1 = static_cast<int>(std::max<ptrdiff_t>(t.ky0, std::min(KH, rhi - ylo)));
    plan.tiles.push_back(t);
    plan.cost += n * (t.ky1 - t.ky0) + 0.5;  // ~ vector-taps per output channel, plus a per-tile overhead
  };
  plan.cost = 0;
  if (!rows) {
    plan.rowStride = static_cast<size_t>(g.wb);
    plan.ldo = static_cast<size_t>(g.lenPadded);
    const ptrdiff_t nvec = g.lenPadded / lanes;
    for (ptrdiff_t v = 0; v < nvec;) {
      const int n = v + nv <= nvec ? nv : 1;
      const ptrdiff_t p = v * lanes;
      add(p, p, n, p / g.wb, (p + n * lanes - 1) / g.wb);
      v += n;
    }
  } else {
    const ptrdiff_t nvr = (g.ow + lanes - 1) / lanes;  // vectors per output row
    plan.rowStride = static_cast<size_t>(nvr * lanes);
    plan.ldo = static_cast<size_t>(g.oh) * plan.rowStride;
    for (ptrdiff_t y = 0; y < g.oh; y++) {
      for (ptrdiff_t v = 0; v < nvr;) {
        const int n = v + nv <= nvr ? nv : 1;
        add(y * g.wb + v * lanes, y * static_cast<ptrdiff_t>(plan.rowStride) + v * lanes, n, y, y);
        v += n;
      }
    }
  }
  return plan;
}

// Correlation on padded geometry: src has `ch` planes of g.hs x g.ws per image, weight is [o][ch][kh][kw], the output
// has o planes of g.oh x g.ow per image. Used by both the forward and the input gradient.
template <typename T, int VB>
VG_INLINE void directCorrelate(const T* src, size_t i0, size_t i1, size_t ch, const Geometry& g, const T* weight,
                               size_t o, size_t kh, size_t kw, const T* bias, T* out) {
  constexpr int L = Vec<T, VB>::lanes;
  const size_t ntaps = ch * kh * kw, tapsPerRow = ch * kw;
  std::vector<ptrdiff_t> off(ntaps);  // taps in [ky][c][kx] order
  for (size_t ky = 0, t = 0; ky < kh; ky++)
    for (size_t c = 0; c < ch; c++)
      for (size_t kx = 0; kx < kw; kx++, t++)
        off[t] = static_cast<ptrdiff_t>(c) * g.plane + static_cast<ptrdiff_t>(ky) * g.wb + static_cast<ptrdiff_t>(kx);

  // Output-channel blocks of (nearly) equal size <= 6, weights packed [block][tap][channel in block].
  const size_t nblocks = (o + kMaxFwdBlock - 1) / kMaxFwdBlock;
  const size_t bs = (o + nblocks - 1) / nblocks;
  const size_t lastBs = o - (nblocks - 1) * bs;
  std::vector<T> wpack(o * ntaps);
  for (size_t o0 = 0; o0 < o; o0 += bs) {
    const size_t ob = std::min(bs, o - o0);
    T* wp = wpack.data() + o0 * ntaps;
    for (size_t ky = 0, t = 0; ky < kh; ky++)
      for (size_t c = 0; c < ch; c++)
        for (size_t kx = 0; kx < kw; kx++, t++)
          for (size_t b = 0; b < ob; b++) wp[t * ob + b] = weight[(o0 + b) * ntaps + (c * kh + ky) * kw + kx];
  }

  // Tile plans for the two block sizes (the same when all blocks are equal); both use the same layout.
  TilePlan flat = planTiles(g, kh, L, fwdVectors(static_cast<int>(bs)), false);
  TilePlan rows = planTiles(g, kh, L, fwdVectors(static_cast<int>(bs)), true);
  const bool useRows = rows.cost < flat.cost;
  const TilePlan& plan = useRows ? rows : flat;
  const TilePlan lastPlan = planTiles(g, kh, L, fwdVectors(static_cast<int>(lastBs)), useRows);
  const size_t ldo = plan.ldo;

  std::vector<T> buf(g.bufferSize(ch) + 2 * L, T(0));  // zero borders; +2L slack costs nothing
  std::vector<T> obuf(o * ldo);
  const size_t inSize = ch * static_cast<size_t>(g.hs * g.ws), outPlane = static_cast<size_t>(g.oh * g.ow);
  for (size_t i = i0; i < i1; i++) {
    fillPadded(src + i * inSize, ch, g, buf.data());
    for (size_t o0 = 0; o0 < o; o0 += bs) {
      const size_t ob = std::min(bs, o - o0);
      const std::vector<Tile>& tiles = ob == bs ? plan.tiles : lastPlan.tiles;
      const T* wp = wpack.data() + o0 * ntaps;
      const T* b = bias ? bias + o0 : nullptr;
      T* os = obuf.data() + o0 * ldo;
      switch (ob) {
        case 1: fwdBlock<T, VB, 1>(buf.data(), off.data(), tapsPerRow, tiles, wp, b, os, ldo); break;
        case 2: fwdBlock<T, VB, 2>(buf.data(), off.data(), tapsPerRow, tiles, wp, b, os, ldo); break;
        case 3: fwdBlock<T, VB, 3>(buf.data(), off.data(), tapsPerRow, tiles, wp, b, os, ldo); break;
        case 4: fwdBlock<T, VB, 4>(buf.data(), off.data(), tapsPerRow, tiles, wp, b, os, ldo); break;
        case 5: fwdBlock<T, VB, 5>(buf.data(), off.data(), tapsPerRow, tiles, wp, b, os, ldo); break;
        default: fwdBlock<T, VB, 6>(buf.data(), off.data(), tapsPerRow, tiles, wp, b, os, ldo); break;
      }
    }
    // Valid columns out of the buffer rows.
    T* oi = out + i * o * outPlane;
    for (size_t oc = 0; oc < o; oc++) {
      const T* s = obuf.data() + oc * ldo;
      T* d = oi + oc * outPlane;
      for (ptrdiff_t y = 0; y < g.oh; y++)
        std::memcpy(d + y * g.ow, s + y * plan.rowStride, static_cast<size_t>(g.ow) * sizeof(T));
    }
  }
}

template <typename T, int VB>
VG_INLINE void forwardImpl(const T* x, size_t i0, size_t i1, size_t c, size_t h, size_t w, const T* weight, size_t o,
                           size_t kh, size_t kw, size_t pad, const T* bias, T* out) {
  const Geometry g(h, w, static_cast<ptrdiff_t>(pad), static_cast<ptrdiff_t>(pad), kh, kw, Vec<T, VB>::lanes);
  directCorrelate<T, VB>(x, i0, i1, c, g, weight, o, kh, kw, bias, out);
}

template <typename T, int VB>
VG_INLINE void inputGradImpl(const T* gr, const T* weight, size_t i0, size_t i1, size_t c, size_t h, size_t w,
                             size_t o, size_t kh, size_t kw, size_t pad, T* gx) {
  const ptrdiff_t p = static_cast<ptrdiff_t>(pad);
  const size_t oh = h + 2 * pad - kh + 1, ow = w + 2 * pad - kw + 1;
  const Geometry g(oh, ow, static_cast<ptrdiff_t>(kh) - 1 - p, static_cast<ptrdiff_t>(kw) - 1 - p, kh, kw,
                   Vec<T, VB>::lanes);
  // wt[c][o][ky][kx] = w[o][c][kh-1-ky][kw-1-kx]
  const size_t k = kh * kw;
  std::vector<T> wt(o * c * k);
  for (size_t oc = 0; oc < o; oc++)
    for (size_t cc = 0; cc < c; cc++)
      for (size_t j = 0; j < k; j++) wt[(cc * o + oc) * k + j] = weight[(oc * c + cc) * k + (k - 1 - j)];
  directCorrelate<T, VB>(gr, i0, i1, o, g, wt.data(), c, kh, kw, nullptr, gx);
}

// ---------------------------------------------------------------------------------------------------------------
// Weight gradient

// OB output channels x TB taps, swept over nvec vectors of each of nimg images. gs: g of the block's first channel
// (channel stride ldg, image stride gstride); xs: the padded inputs (image stride xstride); off: the TB taps' offsets.
// The lane sums are added to gw[b * ldgw + k].
template <typename T, int VB, int OB, int TB>
VG_INLINE void wgTile(const T* gs, size_t ldg, size_t gstride, const T* xs, size_t xstride, size_t nimg,
                      const ptrdiff_t* off, size_t nvec, T* gw, size_t ldgw) {
  typedef typename Vec<T, VB>::type V;
  constexpr int L = Vec<T, VB>::lanes;
  V acc[OB][TB];
  VG_UNROLL
  for (int b = 0; b < OB; b++)
    VG_UNROLL
    for (int k = 0; k < TB; k++) acc[b][k] = V{};
  for (size_t img = 0; img < nimg; img++, gs += gstride, xs += xstride) {
    const T* xt[TB];
    VG_UNROLL
    for (int k = 0; k < TB; k++) xt[k] = xs + off[k];
    for (size_t v = 0; v < nvec; v++) {
      if constexpr (holdInputs(OB, TB)) {  // TB input vectors in registers, one g vector at a time
        V xv[TB];
        VG_UNROLL
        for (int k = 0; k < TB; k++) loadu<T, VB>(xv[k], xt[k] + v * L);
        VG_UNROLL
        for (int b = 0; b < OB; b++) {
          V gv;
          loadu<T, VB>(gv, gs + b * ldg + v * L);
          VG_UNROLL
          for (int k = 0; k < TB; k++) acc[b][k] += gv * xv[k];
        }
      } else {  // OB g vectors in registers, one input vector at a time
        V gv[OB];
        VG_UNROLL
        for (int b = 0; b < OB; b++) loadu<T, VB>(gv[b], gs + b * ldg + v * L);
        VG_UNROLL
        for (int k = 0; k < TB; k++) {
          V xv;
          loadu<T, VB>(xv, xt[k] + v * L);
          VG_UNROLL
          for (int b = 0; b < OB; b++) acc[b][k] += gv[b] * xv;
        }
      }
    }
  }
  VG_UNROLL
  for (int b = 0; b < OB; b++) {
    VG_UNROLL
    for (int k = 0; k < TB; k++) {
      T sum = 0;
      for (int l = 0; l < L; l++) sum += acc[b][k][l];
      gw[b * ldgw + k] += sum;
    }
  }
}

// Taps per weight-gradient tile for OB output channels (OB <= 4): 12 accumulators where possible.
constexpr int wgTaps(int ob) { return ob == 1 ? 6 : (ob == 2 ? 6 : (ob == 3 ? 4 : 3)); }

template <typename T, int VB, int OB>
VG_INLINE void wgBlock(const T* gs, size_t ldg, size_t gstride, const T* xb, size_t xstride, size_t nimg,
                       const ptrdiff_t* off, size_t ntaps, size_t nvec, T* gw) {
  constexpr int TB = wgTaps(OB);
  size_t t = 0;
  for (; t + TB <= ntaps; t += TB)
    wgTile<T, VB, OB, TB>(gs, ldg, gstride, xb, xstride, nimg, off + t, nvec, gw + t, ntaps);
  for (; t < ntaps; t++) wgTile<T, VB, OB, 1>(gs, ldg, gstride, xb, xstride, nimg, off + t, nvec, gw + t, ntaps);
}

constexpr size_t kMaxWgBlock = 4;
constexpr size_t kWgChunkBytes = 128 * 1024;  // padded x and g of a chunk of images: fits a 512 KiB L2

template <typename T, int VB>
VG_INLINE void weightGradImpl(const T* x, const T* gr, size_t i0, size_t i1, size_t c, size_t h, size_t w, size_t o,
                              size_t kh, size_t kw, size_t pad, T* gw, bool accumulate) {
  constexpr int L = Vec<T, VB>::lanes;
  const Geometry g(h, w, static_cast<ptrdiff_t>(pad), static_cast<ptrdiff_t>(pad), kh, kw, L);
  const size_t ntaps = c * kh * kw;
  std::vector<ptrdiff_t> off(ntaps);  // taps in [c][ky][kx] order, as gw
  for (size_t cc = 0, t = 0; cc < c; cc++)
    for (size_t ky = 0; ky < kh; ky++)
      for (size_t kx = 0; kx < kw; kx++, t++)
        off[t] = static_cast<ptrdiff_t>(cc) * g.plane + static_cast<ptrdiff_t>(ky) * g.wb + static_cast<ptrdiff_t>(kx);

  // Images go in chunks: the padded copies of a chunk are made first, then every (channel block, tap block) tile
  // sweeps the whole chunk with its accumulators in registers, and adds its lane sums to gw once per chunk.
  const size_t ldg = static_cast<size_t>(g.lenPadded);
  const size_t nvec = ldg / L;
  const size_t xstride = g.bufferSize(c) + 2 * L, gstride = o * ldg;
  // Chunk: what fits kWgChunkBytes, but at least ~64 vectors per sweep so that the lane sums stay cheap.
  const size_t byBytes = kWgChunkBytes / ((xstride + gstride) * sizeof(T));
  const size_t chunk = std::max<size_t>(1, std::min(i1 - i0, std::max(byBytes, (64 + nvec - 1) / nvec)));
  std::vector<T> buf(chunk * xstride, T(0));
  std::vector<T> gbuf(chunk * gstride, T(0));  // g in the flat layout: zeros at ox >= ow and past len
  if (!accumulate) std::fill(gw, gw + o * ntaps, T(0));
  const size_t nblocks = (o + kMaxWgBlock - 1) / kMaxWgBlock;
  const size_t bs = (o + nblocks - 1) / nblocks;
  const size_t inSize = c * h * w, outPlane = static_cast<size_t>(g.oh * g.ow);
  for (size_t ic = i0; ic < i1; ic += chunk) {
    const size_t nimg = std::min(chunk, i1 - ic);
    for (size_t k = 0; k < nimg; k++) {
      fillPadded(x + (ic + k) * inSize, c, g, buf.data() + k * xstride);
      const T* gi = gr + (ic + k) * o * outPlane;
      T* gb = gbuf.data() + k * gstride;
      for (size_t oc = 0; oc < o; oc++)
        for (ptrdiff_t y = 0; y < g.oh; y++)
          std::memcpy(gb + oc * ldg + y * g.wb, gi + oc * outPlane + y * g.ow, static_cast<size_t>(g.ow) * sizeof(T));
    }
    for (size_t o0 = 0; o0 < o; o0 += bs) {
      const size_t ob = std::min(bs, o - o0);
      const T* gs = gbuf.data() + o0 * ldg;
      T* gwb = gw + o0 * ntaps;
      switch (ob) {
        case 1: wgBlock<T, VB, 1>(gs, ldg, gstride, buf.data(), xstride, nimg, off.data(), ntaps, nvec, gwb); break;
        case 2: wgBlock<T, VB, 2>(gs, ldg, gstride, buf.data(), xstride, nimg, off.data(), ntaps, nvec, gwb); break;
        case 3: wgBlock<T, VB, 3>(gs, ldg, gstride, buf.data(), xstride, nimg, off.data(), ntaps, nvec, gwb); break;
        default: wgBlock<T, VB, 4>(gs, ldg, gstride, buf.data(), xstride, nimg, off.data(), ntaps, nvec, gwb); break;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Instruction-set dispatch

#if defined(__x86_64__)
#define VG_WIDE_VB 32
#define VG_WIDE __attribute__((target("avx2,fma")))
inline bool haveAvx2Fma() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

template <typename T>
VG_WIDE void forwardWide(const T* x, size_t i0, size_t i1, size_t c, size_t h, size_t w, const T* weight, size_t o,
                         size_t kh, size_t kw, size_t pad, const T* bias, T* out) {
  forwardImpl<T, 32>(x, i0, i1, c, h, w, weight, o, kh, kw, pad, bias, out);
}
template <typename T>
VG_WIDE void weightGradWide(const T* x, const T* g, size_t i0, size_t i1, size_t c, size_t h, size_t w, size_t o,
                            size_t kh, size_t kw, size_t pad, T* gw, bool accumulate) {
  weightGradImpl<T, 32>(x, g, i0, i1, c, h, w, o, kh, kw, pad, gw, accumulate);
}
template <typename T>
VG_WIDE void inputGradWide(const T* g, const T* weight, size_t i0, size_t i1, size_t c, size_t h, size_t w, size_t o,
                           size_t kh, size_t kw, size_t pad, T* gx) {
  inputGradImpl<T, 32>(g, weight, i0, i1, c, h, w, o, kh, kw, pad, gx);
}
#endif

}  // namespace

template <typename T>
void conv2dDirectForward(const T* x, size_t i0, size_t i1, size_t c, size_t h, size_t w, const T* weight, size_t o,
                         size_t kh, size_t kw, size_t pad, const T* bias, T* out) {
  if (i1 <= i0) return;
#if defined(__x86_64__)
  if (haveAvx2Fma()) return forwardWide<T>(x, i0, i1, c, h, w, weight, o, kh, kw, pad, bias, out);
#endif
  forwardImpl<T, 16>(x, i0, i1, c, h, w, weight, o, kh, kw, pad, bias, out);
}

template <typename T>
void conv2dDirectWeightGrad(const T* x, const T* g, size_t i0, size_t i1, size_t c, size_t h, size_t w, size_t o,
                            size_t kh, size_t kw, size_t pad, T* gw, bool accumulate) {
  if (i1 <= i0) {
    if (!accumulate) std::fill(gw, gw + o * c * kh * kw, T(0));
    return;
  }
#if defined(__x86_64__)
  if (haveAvx2Fma()) return weightGradWide<T>(x, g, i0, i1, c, h, w, o, kh, kw, pad, gw, accumulate);
#endif
  weightGradImpl<T, 16>(x, g, i0, i1, c, h, w, o, kh, kw, pad, gw, accumulate);
}

template <typename T>
void conv2dDirectInputGrad(const T* g, const T* weight, size_t i0, size_t i1, size_t c, size_t h, size_t w, size_t o,
                           size_t kh, size_t kw, size_t pad, T* gx) {
  if (i1 <= i0) return;
#if defined(__x86_64__)
  if (haveAvx2Fma()) return inputGradWide<T>(g, weight, i0, i1, c, h, w, o, kh, kw, pad, gx);
#endif
  inputGradImpl<T, 16>(g, weight, i0, i1, c, h, w, o, kh, kw, pad, gx);
}

bool conv2dDirectPreferred(size_t c, size_t o, size_t oh, size_t ow, size_t kh, size_t kw) {
#if defined(__x86_64__)
  if (!haveAvx2Fma()) return false;  // the SSE2 fallback is 1-2x slower than OpenBLAS's AVX2 kernels
#else
  return false;  // other CPUs (aarch64): compiled and correct, but never timed against im2col + gemm there
#endif
  // NOTE: an empty layer or output (no channels, no filters, no positions) never takes the direct path: its
  // tiling divides by the number of filter blocks (zero when o = 0: SIGFPE) and computes (oh - 1) * wb.
  if (c == 0 || o == 0 || oh == 0 || ow == 0) return false;
  if (kh * kw == 1) return false;                   // a 1x1 convolution is a plain gemm already
  if (c * o * kh * kw > 65536) return false;        // big layers: a large gemm is as fast and scales better
  // Fraction of the computed flat positions (8-float vectors, see the top of the file) that are real outputs.
  const size_t wb = ow + kw - 1, len = (oh - 1) * wb + ow, computed = (len + 7) / 8 * 8;
  return 2 * oh * ow >= computed;                   // at least half: wide enough outputs
}

template void conv2dDirectForward<float>(const float*, size_t, size_t, size_t, size_t, size_t, const float*, size_t,
                                         size_t, size_t, size_t, const float*, float*);
template void conv2dDirectForward<double>(const double*, size_t, size_t, size_t, size_t, size_t, const double*, size_t,
                                          size_t, size_t, size_t, const double*, double*);
template void conv2dDirectWeightGrad<float>(const float*, const float*, size_t, size_t, size_t, size_t, size_t, size_t,
                                            size_t, size_t, size_t, float*, bool);
template void conv2dDirectWeightGrad<double>(const double*, const double*, size_t, size_t, size_t, size_t, size_t,
                                             size_t, size_t, size_t, size_t, double*, bool);
template void conv2dDirectInputGrad<float>(const float*, const float*, size_t, size_t, size_t, size_t, size_t, size_t,
                                           size_t, size_t, size_t, float*);
template void conv2dDirectInputGrad<double>(const double*, const double*, size_t, size_t, size_t, size_t, size_t,
                                            size_t, size_t, size_t, size_t, double*);

}  // namespace vg
