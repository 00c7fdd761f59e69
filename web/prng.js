// The project's own seeded random numbers, the same arithmetic as lenet/inside/prng.py, so
// that a seed gives the same random filters, noise and gallery shuffle in Python and here.
// mulberry32 (a counter stepped by an odd constant, mixed by multiplications and shifts);
// normal numbers by Box-Muller, in pairs.

const STEP = 0x6d2b79f5;

export class Draws {
  constructor(seed = 0) {
    this.state = Number(BigInt.asUintN(32, BigInt(seed)));
  }

  nextUint32() {
    this.state = (this.state + STEP) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1) >>> 0;
    t = (t ^ (t + Math.imul(t ^ (t >>> 7), t | 61))) >>> 0;
    return (t ^ (t >>> 14)) >>> 0;
  }

  // ``n`` numbers in [0, 1), as a Float64Array.
  uniform(n) {
    return Float64Array.from({ length: n }, () => this.nextUint32() / 2 ** 32);
  }

  // ``n`` numbers from N(0, 1); an odd ``n`` drops the last pair's second number.
  normal(n) {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i += 2) {
      const u1 = 1 - this.nextUint32() / 2 ** 32, u2 = this.nextUint32() / 2 ** 32;
      const radius = Math.sqrt(-2 * Math.log(u1)), angle = 2 * Math.PI * u2;
      out[i] = radius * Math.cos(angle);
      if (i + 1 < n) out[i + 1] = radius * Math.sin(angle);
    }
    return out;
  }

  // 0..n-1 in a random order (Fisher-Yates from the end, one draw per place).
  shuffled(n) {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i -= 1) {
      const j = this.nextUint32() % (i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  }
}
