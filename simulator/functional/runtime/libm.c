/* The libm the kernels call on bare metal. MLIR lowers math ops through
 * --convert-math-to-llvm (intrinsics; the RISC-V backend turns exp/log/pow/
 * sin/... into calls to expf, logf, ...) and --convert-math-to-libm for the
 * rest (erf, erfc, cbrt, log1p), so these symbols must exist here: there is no
 * libc to link.
 *
 * Design: every float function evaluates the double version and rounds once,
 * so float results are within ~0.5 ulp. The double versions use exact
 * argument reduction where it is cheap (Cody-Waite with split constants) and
 * Taylor series on the reduced interval, carried far enough that truncation
 * is below 1e-17; accuracy is a few ulp (pow: ~1e-14 relative for huge
 * results; sin/cos/tan lose accuracy for |x| > ~1e6, where the reduction by
 * pi/2 is no longer exact). Speed is secondary to correct values.
 * Built with -fno-builtin -fno-math-errno: __builtin_sqrt etc. become single
 * instructions and no body is turned back into a call to itself. */
#include <stdint.h>

double fmod(double x, double y);

#define INF __builtin_inf()
#define NAN_VALUE __builtin_nan("")

static inline uint64_t bits64(double x) {
  union { double d; uint64_t u; } v = {x};
  return v.u;
}
static inline double from_bits64(uint64_t u) {
  union { uint64_t u; double d; } v = {u};
  return v.d;
}
static inline uint32_t bits32(float x) {
  union { float f; uint32_t u; } v = {x};
  return v.u;
}
static inline float from_bits32(uint32_t u) {
  union { uint32_t u; float f; } v = {u};
  return v.f;
}
static inline int is_nan(double x) { return x != x; }
static inline int is_inf(double x) { return x == INF || x == -INF; }
static inline double abs_value(double x) { return __builtin_fabs(x); }
static inline double with_sign(double magnitude, double sign) { return __builtin_copysign(magnitude, sign); }

/* Nearest integer as a double (ties away from zero) by integer conversion,
 * so no rounding libcall is involved on any target. */
static inline double nearest(double x) {
  if (!(__builtin_fabs(x) < 0x1p52)) return x; /* already an integer (or NaN/inf) */
  return (double)(int64_t)(x + __builtin_copysign(0.5, x));
}

static const double LN2_HI = 6.93147180369123816490e-01; /* low 32 bits zero: k*LN2_HI exact */
static const double LN2_LO = 1.90821492927058770002e-10;
static const double INV_LN2 = 1.44269504088896338700e+00;
static const double PI = 3.14159265358979311600e+00;
static const double PI_LO = 1.22464679914735317720e-16;
static const double PI_2 = 1.57079632679489655800e+00;
static const double PI_2_LO = 6.12323399573676603587e-17;
static const double SQRT2 = 1.41421356237309514547e+00;

/* x * 2^n for any int n, including results in the subnormal range. */
static double scale_pow2(double x, int n) {
  while (n > 1023) {
    x *= 0x1p1023;
    n -= 1023;
    if (is_inf(x)) return x;
  }
  while (n < -1022) {
    x *= 0x1p-1022;
    n += 1022;
    if (x == 0) return x;
  }
  return x * from_bits64((uint64_t)(n + 1023) << 52);
}

/* ---------------------------------------------------------------- exp */

/* e^r - 1 for |r| <= ln2/2 + tiny: Taylor series to r^17 (remainder < 1e-24). */
static double expm1_reduced(double r) {
  double p = 1.0 / 355687428096000.0; /* 1/17! */
  static const double inverse_factorials[] = {
      1.0 / 20922789888000.0, 1.0 / 1307674368000.0, 1.0 / 87178291200.0, 1.0 / 6227020800.0,
      1.0 / 479001600.0,      1.0 / 39916800.0,      1.0 / 3628800.0,     1.0 / 362880.0,
      1.0 / 40320.0,          1.0 / 5040.0,          1.0 / 720.0,         1.0 / 120.0,
      1.0 / 24.0,             1.0 / 6.0,             1.0 / 2.0,           1.0};
  for (int i = 0; i < 16; i++) p = p * r + inverse_factorials[i];
  return p * r;
}

double exp(double x) {
  if (is_nan(x)) return x;
  if (x > 709.782712893384) return INF;
  if (x < -745.1332191019412) return 0.0;
  double k = nearest(x * INV_LN2);
  double r = (x - k * LN2_HI) - k * LN2_LO;
  return scale_pow2(1.0 + expm1_reduced(r), (int)k);
}

double expm1(double x) {
  if (is_nan(x)) return x;
  if (x > 709.782712893384) return INF;
  if (x < -40.0) return -1.0;
  if (abs_value(x) < 0.34657359027997264) return expm1_reduced(x);
  double k = nearest(x * INV_LN2);
  double r = (x - k * LN2_HI) - k * LN2_LO;
  double e = expm1_reduced(r);
  int n = (int)k;
  if (n > 56) return scale_pow2(1.0 + e, n) - 1.0;
  /* 2^n * (1 + e) - 1 = 2^n * e + (2^n - 1); 2^n - 1 is exact here. */
  double two_n = scale_pow2(1.0, n);
  return two_n * e + (two_n - 1.0);
}

double exp2(double x) {
  if (is_nan(x)) return x;
  if (x >= 1024.0) return INF;
  if (x < -1075.0) return 0.0;
  double k = nearest(x);
  double r = x - k; /* exact, |r| <= 1/2 */
  return scale_pow2(1.0 + expm1_reduced(r * 6.93147180559945286227e-01), (int)k);
}

/* ---------------------------------------------------------------- log */

/* Splits finite x > 0 into x = m * 2^e with m in [sqrt(1/2), sqrt(2)). Returns
 * log(m) and stores e. */
static double log_reduced(double x, int *exponent) {
  uint64_t u = bits64(x);
  int e = 0;
  if (u < 0x0010000000000000ULL) { /* subnormal */
    x *= 0x1p54;
    u = bits64(x);
    e = -54;
  }
  e += (int)((u >> 52) & 0x7ff) - 1023;
  double m = from_bits64((u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
  if (m > SQRT2) {
    m *= 0.5;
    e += 1;
  }
  *exponent = e;
  double f = m - 1.0; /* exact */
  double s = f / (2.0 + f);
  double z = s * s;
  /* log(1 + f) = 2 atanh(s) = f - (f^2/2 - s (f^2/2 + R)) with
   * R = 2 (z/3 + z^2/5 + ...); |s| < 0.172, z < 0.0295, so 12 terms. f is
   * exact and the correction small, which keeps the error near 1 ulp. */
  double series = 1.0 / 27.0;
  for (int k = 25; k >= 3; k -= 2) series = series * z + 1.0 / k;
  double R = 2.0 * z * series;
  double half_f_squared = 0.5 * f * f;
  return f - (half_f_squared - s * (half_f_squared + R));
}

double log(double x) {
  if (is_nan(x)) return x;
  if (x < 0) return NAN_VALUE;
  if (x == 0) return -INF;
  if (x == INF) return x;
  int e;
  double log_m = log_reduced(x, &e);
  return e * LN2_HI + (log_m + e * LN2_LO);
}

double log2(double x) {
  static const double INV_LN2_HI = 1.44269502162933349609e+00; /* 24 bits */
  static const double INV_LN2_LO = 1.92596299112661746887e-08;
  if (is_nan(x)) return x;
  if (x < 0) return NAN_VALUE;
  if (x == 0) return -INF;
  if (x == INF) return x;
  int e;
  double log_m = log_reduced(x, &e);
  return e + (log_m * INV_LN2_HI + log_m * INV_LN2_LO);
}

double log10(double x) {
  static const double LOG10_2_HI = 3.01029995663611771306e-01;
  static const double LOG10_2_LO = 3.69423907715893078616e-13;
  static const double INV_LN10 = 4.34294481903251816668e-01;
  if (is_nan(x)) return x;
  if (x < 0) return NAN_VALUE;
  if (x == 0) return -INF;
  if (x == INF) return x;
  int e;
  double log_m = log_reduced(x, &e);
  return e * LOG10_2_HI + (log_m * INV_LN10 + e * LOG10_2_LO);
}

double log1p(double x) {
  if (is_nan(x)) return x;
  if (x < -1.0) return NAN_VALUE;
  if (x == -1.0) return -INF;
  if (x == INF) return x;
  double u = 1.0 + x;
  if (u == 1.0) return x;
  /* log(u) * x / (u - 1) cancels the rounding error of 1 + x. */
  return log(u) * (x / (u - 1.0));
}

/* ---------------------------------------------------------------- pow */

static int is_integer(double y) { return abs_value(y) >= 0x1p52 || nearest(y) == y; }
static int is_odd_integer(double y) {
  if (abs_value(y) >= 0x1p53 || nearest(y) != y) return 0;
  int64_t n = (int64_t)y;
  return (n & 1) != 0;
}

double pow(double x, double y) {
  if (y == 0.0 || x == 1.0) return 1.0;
  if (is_nan(x) || is_nan(y)) return NAN_VALUE;
  if (is_inf(y)) {
    double ax = abs_value(x);
    if (ax == 1.0) return 1.0;
    return (ax < 1.0) == (y > 0) ? 0.0 : INF;
  }
  if (x == 0.0) {
    if (y < 0) return is_odd_integer(y) ? with_sign(INF, x) : INF;
    return is_odd_integer(y) ? x : 0.0;
  }
  if (is_inf(x)) {
    double magnitude = y > 0 ? INF : 0.0;
    return (x < 0 && is_odd_integer(y)) ? -magnitude : magnitude;
  }
  double sign = 1.0;
  if (x < 0) {
    if (!is_integer(y)) return NAN_VALUE;
    if (is_odd_integer(y)) sign = -1.0;
    x = -x;
  }
  /* Small integer powers by repeated squaring: exact-ish and common (x**2, x**3). */
  if (abs_value(y) <= 64 && nearest(y) == y) {
    int n = (int)abs_value(y);
    double result = 1.0, base = x;
    while (n) {
      if (n & 1) result *= base;
      base *= base;
      n >>= 1;
    }
    /* Past overflow (or underflow of 1/result) the exp/log path below is
     * the one that gets subnormal results right. */
    if (!is_inf(result) && result != 0.0) {
      double value = y < 0 ? 1.0 / result : result;
      if (value != 0.0 && !is_inf(value)) return sign * value;
    }
  }
  return sign * exp(y * log(x));
}

/* ---------------------------------------------------------------- sin, cos, tan */

/* Reduces x to r in [-pi/4, pi/4] with x = r + q*pi/2; returns q mod 4.
 * pi/2 = P1 + P2 + P3 with P1, P2 of 33 bits, so q*P1 and q*P2 are exact for
 * |q| < 2^20. */
static int reduce_half_pi(double x, double *r) {
  static const double P1 = 1.57079632673412561417e+00;
  static const double P2 = 6.07710050630396597660e-11;
  static const double P3 = 2.02226624871116645580e-21;
  static const double TWO_OVER_PI = 6.36619772367581382433e-01;
  double q = nearest(x * TWO_OVER_PI);
  *r = ((x - q * P1) - q * P2) - q * P3;
  /* Two's complement & 3 is q mod 4 for negative q too. */
  if (abs_value(q) < 0x1p62) return (int)((int64_t)q & 3);
  return (int)fmod(abs_value(q), 4.0) * (q < 0 ? 3 : 1) & 3; /* no accuracy left anyway */
}

static double sin_reduced(double r) { /* Taylor to r^19, |r| <= pi/4 */
  double z = r * r;
  double p = -1.0 / 121645100408832000.0;
  static const double c[] = {1.0 / 355687428096000.0, -1.0 / 1307674368000.0, 1.0 / 6227020800.0,
                             -1.0 / 39916800.0,       1.0 / 362880.0,         -1.0 / 5040.0,
                             1.0 / 120.0,             -1.0 / 6.0};
  for (int i = 0; i < 8; i++) p = p * z + c[i];
  return r + r * z * p;
}

static double cos_reduced(double r) { /* Taylor to r^20 */
  double z = r * r;
  double p = 1.0 / 2432902008176640000.0;
  static const double c[] = {-1.0 / 6402373705728000.0, 1.0 / 20922789888000.0, -1.0 / 87178291200.0,
                             1.0 / 479001600.0,         -1.0 / 3628800.0,       1.0 / 40320.0,
                             -1.0 / 720.0,              1.0 / 24.0};
  for (int i = 0; i < 8; i++) p = p * z + c[i];
  double half_z = 0.5 * z;
  double w = 1.0 - half_z;
  return w + (((1.0 - w) - half_z) + z * z * p);
}

double sin(double x) {
  if (is_nan(x) || is_inf(x)) return NAN_VALUE;
  if (abs_value(x) < 0x1p-27) return x;
  double r;
  switch (reduce_half_pi(x, &r)) {
    case 0: return sin_reduced(r);
    case 1: return cos_reduced(r);
    case 2: return -sin_reduced(r);
    default: return -cos_reduced(r);
  }
}

double cos(double x) {
  if (is_nan(x) || is_inf(x)) return NAN_VALUE;
  double r;
  switch (reduce_half_pi(x, &r)) {
    case 0: return cos_reduced(r);
    case 1: return -sin_reduced(r);
    case 2: return -cos_reduced(r);
    default: return sin_reduced(r);
  }
}

double tan(double x) {
  if (is_nan(x) || is_inf(x)) return NAN_VALUE;
  if (abs_value(x) < 0x1p-27) return x;
  double r;
  int quadrant = reduce_half_pi(x, &r);
  double s = sin_reduced(r), c = cos_reduced(r);
  return (quadrant & 1) ? -c / s : s / c;
}

/* ---------------------------------------------------------------- atan family */

/* atan(t) for |t| <= 7/16: Taylor series to t^49 (remainder < 1e-18 * |t|). */
static double atan_reduced(double t) {
  /* atan(t) = t - t z q, q = sum_j (-1)^j z^j / (2j + 3), j = 0..23. */
  double z = t * t;
  double q = -1.0 / 49.0;
  for (int j = 22; j >= 0; j--) q = q * z + ((j & 1) ? -1.0 : 1.0) / (2 * j + 3);
  return t - t * z * q;
}

double atan(double x) {
  /* atan(c) = HI + LO for the breakpoints c = 0.5, 1, 1.5, infinity. */
  static const double HI[] = {4.63647609000806093515e-01, 7.85398163397448278999e-01,
                              9.82793723247329054082e-01, 1.57079632679489655800e+00};
  static const double LO[] = {2.26987774529616870924e-17, 3.06161699786838301793e-17,
                              1.39033110312309984516e-17, 6.12323399573676603587e-17};
  if (is_nan(x)) return x;
  double a = abs_value(x);
  double result;
  if (a < 0.4375) {
    if (a < 0x1p-27) return x;
    result = atan_reduced(a);
  } else {
    int id;
    double t;
    if (a < 0.6875) {
      id = 0;
      t = (2.0 * a - 1.0) / (2.0 + a);
    } else if (a < 1.1875) {
      id = 1;
      t = (a - 1.0) / (a + 1.0);
    } else if (a < 2.4375) {
      id = 2;
      t = (a - 1.5) / (1.0 + 1.5 * a);
    } else {
      id = 3;
      t = -1.0 / a;
    }
    result = HI[id] + (LO[id] + atan_reduced(t));
  }
  return with_sign(result, x);
}

double atan2(double y, double x) {
  if (is_nan(x) || is_nan(y)) return NAN_VALUE;
  if (y == 0.0) {
    if (__builtin_signbit(x)) return with_sign(PI, y);
    return y;
  }
  if (x == 0.0) return with_sign(PI_2, y);
  if (is_inf(x)) {
    if (is_inf(y)) return with_sign(x > 0 ? PI / 4 : 3 * PI / 4, y);
    return x > 0 ? with_sign(0.0, y) : with_sign(PI, y);
  }
  if (is_inf(y)) return with_sign(PI_2, y);
  double z = atan(abs_value(y / x));
  if (x > 0) return with_sign(z, y);
  return with_sign(PI - (z - PI_LO), y);
}

/* asin for |x| <= 1/2 via atan(x / sqrt(1 - x^2)). */
static double asin_small(double x) { return atan(x / __builtin_sqrt((1.0 - x) * (1.0 + x))); }

double asin(double x) {
  if (is_nan(x)) return x;
  double a = abs_value(x);
  if (a > 1.0) return NAN_VALUE;
  if (a <= 0.5) return asin_small(x);
  /* asin(a) = pi/2 - 2 asin(sqrt((1 - a) / 2)); 1 - a is exact. */
  double result = PI_2 - (2.0 * asin_small(__builtin_sqrt((1.0 - a) * 0.5)) - PI_2_LO);
  return with_sign(result, x);
}

double acos(double x) {
  if (is_nan(x)) return x;
  if (abs_value(x) > 1.0) return NAN_VALUE;
  if (abs_value(x) <= 0.5) return PI_2 - (asin_small(x) - PI_2_LO);
  if (x > 0) return 2.0 * asin_small(__builtin_sqrt((1.0 - x) * 0.5));
  return PI - (2.0 * asin_small(__builtin_sqrt((1.0 + x) * 0.5)) - PI_LO);
}

/* ---------------------------------------------------------------- hyperbolic */

double sinh(double x) {
  if (is_nan(x) || is_inf(x)) return x;
  double a = abs_value(x), result;
  if (a < 1.0) {
    if (a < 0x1p-27) return x;
    double e = expm1(a);
    result = 0.5 * (e + e / (e + 1.0));
  } else if (a < 709.0) {
    double e = exp(a);
    result = 0.5 * (e - 1.0 / e);
  } else {
    double half = exp(0.5 * a); /* e^a overflows before sinh does */
    result = (0.5 * half) * half;
  }
  return with_sign(result, x);
}

double cosh(double x) {
  if (is_nan(x)) return x;
  double a = abs_value(x);
  if (a < 0.34657359027997264) {
    double e = expm1(a);
    return 1.0 + (e * e) / (2.0 * (1.0 + e));
  }
  if (a < 709.0) {
    double e = exp(a);
    return 0.5 * (e + 1.0 / e);
  }
  double half = exp(0.5 * a);
  return (0.5 * half) * half;
}

double tanh(double x) {
  if (is_nan(x)) return x;
  double a = abs_value(x), result;
  if (a > 22.0) {
    result = 1.0;
  } else if (a >= 1.0) {
    result = 1.0 - 2.0 / (expm1(2.0 * a) + 2.0);
  } else {
    if (a < 0x1p-27) return x;
    double e = expm1(-2.0 * a);
    result = -e / (e + 2.0);
  }
  return with_sign(result, x);
}

/* ---------------------------------------------------------------- erf, erfc */

/* e^(-x^2) with x^2 split into an exact high part and a small low part. */
static double exp_minus_square(double x) {
  double high = from_bits64(bits64(x) & 0xfffffffff8000000ULL); /* 26 significant bits */
  double low = x - high;
  return exp(-high * high) * exp(-low * (x + high));
}

/* erf(x) for 0 <= x < 2.5: 2/sqrt(pi) e^(-x^2) sum 2^n x^(2n+1) / (1*3*...*(2n+1)),
 * all terms positive, so no cancellation. */
static double erf_series(double x) {
  static const double TWO_OVER_SQRT_PI = 1.12837916709551255856e+00;
  double z = 2.0 * x * x;
  double term = x, sum = x;
  for (int n = 1; n < 200; n++) {
    term *= z / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * exp_minus_square(x) * sum;
}

/* erfc(x) for x >= 1 by its continued fraction, evaluated backwards:
 * erfc(x) = e^(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))).
 * It converges slower for smaller x; the term counts give < 1e-16. */
static double erfc_continued_fraction(double x) {
  static const double INV_SQRT_PI = 5.64189583547756279280e-01;
  int terms = x >= 2.0 ? 60 : x >= 1.5 ? 100 : 220;
  double tail = x;
  for (int k = terms; k >= 1; k--) tail = x + (0.5 * k) / tail;
  return INV_SQRT_PI * exp_minus_square(x) / tail;
}

double erf(double x) {
  if (is_nan(x)) return x;
  double a = abs_value(x), result;
  if (a < 0x1p-28) return x * 1.12837916709551255856e+00;
  if (a < 2.0) result = erf_series(a);
  else if (a < 6.0) result = 1.0 - erfc_continued_fraction(a);
  else result = 1.0;
  return with_sign(result, x);
}

double erfc(double x) {
  if (is_nan(x)) return x;
  if (x < 0.5) return 1.0 - erf(x);
  if (x < 1.0) return 1.0 - erf_series(x); /* erfc >= 0.157 here: no large cancellation */
  if (x > 27.3) return 0.0;
  return erfc_continued_fraction(x);
}

/* ---------------------------------------------------------------- cbrt, fmod */

double cbrt(double x) {
  if (is_nan(x) || is_inf(x) || x == 0.0) return x;
  /* |x| = m * 2^(3q) with m in [1, 8): cbrt(|x|) = cbrt(m) * 2^q. */
  int e;
  double a = abs_value(x);
  uint64_t u = bits64(a);
  int scale = 0;
  if (u < 0x0010000000000000ULL) { /* subnormal */
    a *= 0x1p54;
    u = bits64(a);
    scale = -54;
  }
  e = (int)(u >> 52) - 1023 + scale;
  int q = e >= 0 ? e / 3 : -((-e + 2) / 3);
  double m = from_bits64((u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL) * (double)(1 << (e - 3 * q));
  /* Start from a linear fit of cbrt on [1, 8) (error < 8%), then Halley
   * steps t <- t (t^3 + 2m) / (2t^3 + m), cubically convergent. */
  double t = 0.7 + 0.2 * m - 0.0085 * m * m;
  for (int i = 0; i < 4; i++) {
    double t3 = t * t * t;
    t = t * ((t3 + 2.0 * m) / (2.0 * t3 + m));
  }
  return with_sign(scale_pow2(t, q), x);
}

/* Exact remainder x - n*y with n = trunc(x/y), by long division of the
 * significands one exponent step at a time. */
double fmod(double x, double y) {
  uint64_t ux = bits64(x), uy = bits64(y);
  int ex = (int)((ux >> 52) & 0x7ff), ey = (int)((uy >> 52) & 0x7ff);
  uint64_t sign = ux & 0x8000000000000000ULL;
  if (is_nan(x) || is_nan(y) || is_inf(x) || y == 0.0) return NAN_VALUE;
  if (is_inf(y)) return x;
  ux &= 0x7fffffffffffffffULL;
  uy &= 0x7fffffffffffffffULL;
  if (ux < uy) return x;
  if (ux == uy) return from_bits64(sign); /* signed zero */
  /* Significands with the implicit bit; subnormals are normalised. */
  uint64_t mx, my;
  if (ex == 0) {
    mx = ux;
    ex = 1;
    while (!(mx >> 52)) { mx <<= 1; ex--; }
  } else {
    mx = (ux & 0x000fffffffffffffULL) | (1ULL << 52);
  }
  if (ey == 0) {
    my = uy;
    ey = 1;
    while (!(my >> 52)) { my <<= 1; ey--; }
  } else {
    my = (uy & 0x000fffffffffffffULL) | (1ULL << 52);
  }
  for (; ex > ey; ex--) {
    if (mx >= my) mx -= my;
    if (mx == 0) return from_bits64(sign);
    mx <<= 1;
  }
  if (mx >= my) mx -= my;
  if (mx == 0) return from_bits64(sign);
  while (!(mx >> 52)) { mx <<= 1; ex--; }
  uint64_t result;
  if (ex > 0) result = (mx & 0x000fffffffffffffULL) | ((uint64_t)ex << 52);
  else result = mx >> (1 - ex); /* subnormal: exact, the bits shifted out are zero */
  return from_bits64(result | sign);
}

/* ---------------------------------------------------------------- float versions */

#define FLOAT_FROM_DOUBLE_1(name) \
  float name##f(float x) { return (float)name((double)x); }
#define FLOAT_FROM_DOUBLE_2(name) \
  float name##f(float x, float y) { return (float)name((double)x, (double)y); }

FLOAT_FROM_DOUBLE_1(exp)
FLOAT_FROM_DOUBLE_1(expm1)
FLOAT_FROM_DOUBLE_1(exp2)
FLOAT_FROM_DOUBLE_1(log)
FLOAT_FROM_DOUBLE_1(log2)
FLOAT_FROM_DOUBLE_1(log10)
FLOAT_FROM_DOUBLE_1(log1p)
FLOAT_FROM_DOUBLE_1(sin)
FLOAT_FROM_DOUBLE_1(cos)
FLOAT_FROM_DOUBLE_1(tan)
FLOAT_FROM_DOUBLE_1(asin)
FLOAT_FROM_DOUBLE_1(acos)
FLOAT_FROM_DOUBLE_1(atan)
FLOAT_FROM_DOUBLE_1(sinh)
FLOAT_FROM_DOUBLE_1(cosh)
FLOAT_FROM_DOUBLE_1(tanh)
FLOAT_FROM_DOUBLE_1(erf)
FLOAT_FROM_DOUBLE_1(erfc)
FLOAT_FROM_DOUBLE_1(cbrt)
FLOAT_FROM_DOUBLE_2(pow)
FLOAT_FROM_DOUBLE_2(atan2)
FLOAT_FROM_DOUBLE_2(fmod) /* exact: the remainder of two floats is a float */

/* Rounding and friends: single instructions (or short fcvt sequences) on
 * rv64gc, defined in case the backend ever emits the library call. */
double sqrt(double x) { return __builtin_sqrt(x); }
float sqrtf(float x) { return __builtin_sqrtf(x); }
double fabs(double x) { return __builtin_fabs(x); }
float fabsf(float x) { return __builtin_fabsf(x); }
double fma(double x, double y, double z) { return __builtin_fma(x, y, z); }
float fmaf(float x, float y, float z) { return __builtin_fmaf(x, y, z); }
double floor(double x) { return __builtin_floor(x); }
float floorf(float x) { return __builtin_floorf(x); }
double ceil(double x) { return __builtin_ceil(x); }
float ceilf(float x) { return __builtin_ceilf(x); }
double trunc(double x) { return __builtin_trunc(x); }
float truncf(float x) { return __builtin_truncf(x); }
double round(double x) { return __builtin_round(x); }
float roundf(float x) { return __builtin_roundf(x); }
double roundeven(double x) { return __builtin_roundeven(x); }
float roundevenf(float x) { return __builtin_roundevenf(x); }
double rint(double x) { return __builtin_rint(x); }
float rintf(float x) { return __builtin_rintf(x); }
/* nearbyint is rint without the inexact flag; the backend makes it a
 * libcall, so restore fflags around rint here. */
#if defined(__riscv)
double nearbyint(double x) {
  unsigned long flags;
  __asm__ volatile("frflags %0" : "=r"(flags));
  double result = __builtin_rint(x);
  __asm__ volatile("fsflags %0" : : "r"(flags));
  return result;
}
#else /* host build of the accuracy test */
double nearbyint(double x) { return __builtin_rint(x); }
#endif
float nearbyintf(float x) { return (float)nearbyint((double)x); }
double copysign(double x, double y) { return __builtin_copysign(x, y); }
float copysignf(float x, float y) { return __builtin_copysignf(x, y); }
double fmin(double x, double y) { return __builtin_fmin(x, y); }
float fminf(float x, float y) { return __builtin_fminf(x, y); }
double fmax(double x, double y) { return __builtin_fmax(x, y); }
float fmaxf(float x, float y) { return __builtin_fmaxf(x, y); }

/* ---------------------------------------------------------------- half / bfloat16 */
/* rv64gcv has no Zfh: LLVM calls these compiler-rt helpers for f16/bf16
 * conversions. Round to nearest even, NaN stays NaN, overflow gives inf. */

static uint16_t float_to_half_bits(float value) {
  uint32_t u = bits32(value);
  uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
  uint32_t magnitude = u & 0x7fffffff;
  if (magnitude > 0x7f800000) return (uint16_t)(sign | 0x7e00); /* NaN */
  if (magnitude >= 0x477ff000) return (uint16_t)(sign | 0x7c00); /* rounds to inf */
  if (magnitude < 0x38800000) { /* half subnormal or zero: add 0.5 to align, round by the FPU */
    float shifted = from_bits32(magnitude) + 0.5f;
    return (uint16_t)(sign | (bits32(shifted) - 0x3f000000));
  }
  uint32_t mantissa_odd = (magnitude >> 13) & 1;
  magnitude += 0xc8000fff + mantissa_odd; /* rebias exponent (-112 << 23) and round to even */
  return (uint16_t)(sign | (magnitude >> 13));
}

static float half_bits_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  if (exponent == 0x1f) return from_bits32(sign | 0x7f800000 | (mantissa << 13));
  if (exponent == 0) { /* zero or subnormal: mantissa * 2^-24, exact in float */
    float magnitude = (float)mantissa * 0x1p-24f;
    return from_bits32(sign | bits32(magnitude));
  }
  return from_bits32(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

static uint16_t float_to_bfloat_bits(float value) {
  uint32_t u = bits32(value);
  if ((u & 0x7fffffff) > 0x7f800000) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
  u += 0x7fff + ((u >> 16) & 1);
  return (uint16_t)(u >> 16);
}

/* Half and bfloat16 values travel in the low bits of a float register. */
typedef _Float16 half_t;
typedef __bf16 bfloat_t;

static half_t half_from_bits(uint16_t b) {
  union { uint16_t u; half_t h; } v = {b};
  return v.h;
}
static uint16_t half_to_bits(half_t h) {
  union { half_t h; uint16_t u; } v = {h};
  return v.u;
}
static bfloat_t bfloat_from_bits(uint16_t b) {
  union { uint16_t u; bfloat_t h; } v = {b};
  return v.h;
}
static uint16_t bfloat_to_bits(bfloat_t h) {
  union { bfloat_t h; uint16_t u; } v = {h};
  return v.u;
}

/* double -> float rounded to odd, so the second rounding (to half or
 * bfloat16) gives the correctly rounded result: truncate, then set the last
 * bit when anything was dropped. */
static float round_to_odd_float(double d) {
  float f = (float)d;
  double back = (double)f;
  if (f != f || back == d) return f;
  uint32_t u = bits32(f);
  if (abs_value(back) > abs_value(d)) u -= 1; /* went up in magnitude: step back */
  return from_bits32(u | 1);
}

float __extendhfsf2(half_t h) { return half_bits_to_float(half_to_bits(h)); }
half_t __truncsfhf2(float f) { return half_from_bits(float_to_half_bits(f)); }
half_t __truncdfhf2(double d) { return half_from_bits(float_to_half_bits(round_to_odd_float(d))); }
float __extendbfsf2(bfloat_t b) { return from_bits32((uint32_t)bfloat_to_bits(b) << 16); }
bfloat_t __truncsfbf2(float f) { return bfloat_from_bits(float_to_bfloat_bits(f)); }
bfloat_t __truncdfbf2(double d) { return bfloat_from_bits(float_to_bfloat_bits(round_to_odd_float(d))); }
