// Numbers as the page writes them, defined once: a true minus sign (−, not the hyphen), a
// fixed number of decimals, and very large or small numbers as powers of ten a student can
// compare ("1.706 × 10⁹"), never JavaScript's "1.706e+9". Text only: no page, no engine.

const MINUS = "−";
const SUPERSCRIPT = {"0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶",
  "7": "⁷", "8": "⁸", "9": "⁹", "−": "⁻"};
// Values from 10^PLAIN_FROM up to 10^PLAIN_BELOW are written plainly ("0.004034", "1235").
const PLAIN_FROM = -3, PLAIN_BELOW = 4;

const withMinus = (text) => text.replace("-", MINUS);

/** What a value that is not a finite number is written as. */
function notFinite(v) {
  if (Number.isNaN(v)) return "not a number";
  return v > 0 ? "∞" : `${MINUS}∞`;
}

/** `v` with `digits` decimals and a true minus sign: fixed(-0.5) -> "−0.500". A value that
 * rounds to zero has no sign. */
export function fixed(v, digits = 3) {
  if (!Number.isFinite(v)) return notFinite(v);
  if (Math.abs(v) >= 1e21) return powerText(v);    // toFixed would write "1e+21"
  const text = Math.abs(v).toFixed(digits);
  return v < 0 && Number(text) !== 0 ? MINUS + text : text;
}

/** `v` with its sign always written: "+1.23", "−1.23" (a logit, a weight on its own). */
export function signed(v, digits = 3) {
  const text = fixed(v, digits);
  return text.startsWith(MINUS) ? text : `+${text}`;
}

/** `v` as the next term of a sum: "+ 1.234", "− 1.234" (the sign as an operator, spaced). */
export function term(v, digits = 3) {
  const text = fixed(v, digits);
  return text.startsWith(MINUS) ? `${MINUS} ${text.slice(1)}` : `+ ${text}`;
}

/** A probability as a percentage: percent(0.8742) -> "87.4 %". */
export function percent(p, digits = 1) {
  return `${fixed(100 * p, digits)} %`;
}

/** A range's end beside a picture: two decimals, none from 100 on ("−3.25", "118"). */
export function brief(v) {
  return fixed(v, Math.abs(v) >= 100 ? 0 : 2);
}

/** `v` to `digits` significant digits as {mantissa, exponent}: v ≈ mantissa × 10^exponent.
 * Values from 10^-3 up to 10^4 come back plain, with exponent 0: powerOfTen(1.706e9) ->
 * {mantissa: "1.706", exponent: 9}; powerOfTen(0.04034) -> {mantissa: "0.04034", exponent: 0}. */
export function powerOfTen(v, digits = 4) {
  if (v === 0) return {mantissa: "0", exponent: 0};
  const [m, e] = v.toExponential(digits - 1).split("e"), exponent = Number(e);
  if (exponent >= PLAIN_FROM && exponent < PLAIN_BELOW) {
    return {mantissa: fixed(v, Math.max(0, digits - 1 - exponent)), exponent: 0};
  }
  return {mantissa: withMinus(m), exponent};
}

/** `v` for HTML: "1.706 × 10<sup>9</sup>", or plainly "12.50" (see powerOfTen). */
export function powerHtml(v, digits = 4) {
  if (!Number.isFinite(v)) return notFinite(v);
  const {mantissa, exponent} = powerOfTen(v, digits);
  return exponent ? `${mantissa} × 10<sup>${withMinus(String(exponent))}</sup>` : mantissa;
}

/** `v` inside MathML: <mn>1.706</mn><mo>×</mo><msup><mn>10</mn><mn>9</mn></msup>. */
export function powerMathML(v, digits = 4) {
  if (!Number.isFinite(v)) return `<mi>${notFinite(v)}</mi>`;
  const {mantissa, exponent} = powerOfTen(v, digits);
  if (!exponent) return `<mn>${mantissa}</mn>`;
  return `<mrow><mn>${mantissa}</mn><mo>×</mo><msup><mn>10</mn><mn>${withMinus(String(exponent))}</mn></msup></mrow>`;
}

/** `v` as plain text, where no markup can go (a label, a canvas): "1.706 × 10⁹". */
export function powerText(v, digits = 4) {
  if (!Number.isFinite(v)) return notFinite(v);
  const {mantissa, exponent} = powerOfTen(v, digits);
  if (!exponent) return mantissa;
  const raised = [...withMinus(String(exponent))].map((c) => SUPERSCRIPT[c]).join("");
  return `${mantissa} × 10${raised}`;
}
