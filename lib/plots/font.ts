/**
 * The metrics of the figures' font, DejaVu Sans (the first of {@linkcode FONT}'s family in
 * ./style.ts): advance widths per character, regular and bold, and the ascent and descent,
 * so that a figure wraps its text to the width it has and a test can measure where text
 * lands (./textbox.ts).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { textWidth } from "./font.ts";
 * assertEquals(textWidth("10", 10), 12.72);
 * ```
 * @module
 */

/**
 * Advance widths of DejaVu Sans Book, in em, read from the font's `hmtx` table
 * (/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf, DejaVu fonts 2.37): printable ASCII
 * and the symbols the figures use. A character not listed counts 0.636 em (a digit).
 */
const SANS: Readonly<Record<string, number>> = widths(
  " 0.318 ! 0.401 \" 0.46 # 0.838 $ 0.636 % 0.95 & 0.78 ' 0.275 ( 0.39 ) 0.39 * 0.5 + 0.838 " +
    ", 0.318 - 0.361 . 0.318 / 0.337 0 0.636 1 0.636 2 0.636 3 0.636 4 0.636 5 0.636 6 0.636 " +
    "7 0.636 8 0.636 9 0.636 : 0.337 ; 0.337 < 0.838 = 0.838 > 0.838 ? 0.531 @ 1 A 0.684 " +
    "B 0.686 C 0.698 D 0.77 E 0.632 F 0.575 G 0.775 H 0.752 I 0.295 J 0.295 K 0.656 L 0.557 " +
    "M 0.863 N 0.748 O 0.787 P 0.603 Q 0.787 R 0.695 S 0.635 T 0.611 U 0.732 V 0.684 W 0.989 " +
    "X 0.685 Y 0.611 Z 0.685 [ 0.39 \\ 0.337 ] 0.39 ^ 0.838 _ 0.5 ` 0.5 a 0.613 b 0.635 " +
    "c 0.55 d 0.635 e 0.615 f 0.352 g 0.635 h 0.634 i 0.278 j 0.278 k 0.579 l 0.278 m 0.974 " +
    "n 0.634 o 0.612 p 0.635 q 0.635 r 0.411 s 0.521 t 0.392 u 0.634 v 0.592 w 0.818 x 0.592 " +
    "y 0.592 z 0.525 { 0.636 | 0.337 } 0.636 ~ 0.838 × 0.838 ⁰ 0.401 ¹ 0.401 ² 0.401 " +
    "³ 0.401 ⁴ 0.401 ⁵ 0.401 ⁶ 0.401 ⁷ 0.401 ⁸ 0.401 ⁹ 0.401 ⁻ 0.528 → 0.838 ← 0.838 " +
    "↑ 0.838 ↓ 0.838 ≈ 0.838 – 0.5 — 1 µ 0.636 · 0.318 ÷ 0.838 ≤ 0.838 ≥ 0.838 … 1 ₂ 0.401 " +
    "’ 0.318 ‘ 0.318",
);

/** DejaVu Sans Bold's advance widths (the titles), from DejaVuSans-Bold.ttf likewise. */
const BOLD: Readonly<Record<string, number>> = widths(
  " 0.348 ! 0.456 \" 0.521 # 0.838 $ 0.696 % 1.002 & 0.872 ' 0.306 ( 0.457 ) 0.457 * 0.523 " +
    "+ 0.838 , 0.38 - 0.415 . 0.38 / 0.365 0 0.696 1 0.696 2 0.696 3 0.696 4 0.696 5 0.696 " +
    "6 0.696 7 0.696 8 0.696 9 0.696 : 0.4 ; 0.4 < 0.838 = 0.838 > 0.838 ? 0.58 @ 1 A 0.774 " +
    "B 0.762 C 0.734 D 0.83 E 0.683 F 0.683 G 0.821 H 0.837 I 0.372 J 0.372 K 0.775 L 0.637 " +
    "M 0.995 N 0.837 O 0.85 P 0.733 Q 0.85 R 0.77 S 0.72 T 0.682 U 0.812 V 0.774 W 1.103 " +
    "X 0.771 Y 0.724 Z 0.725 [ 0.457 \\ 0.365 ] 0.457 ^ 0.838 _ 0.5 ` 0.5 a 0.675 b 0.716 " +
    "c 0.593 d 0.716 e 0.678 f 0.435 g 0.716 h 0.712 i 0.343 j 0.343 k 0.665 l 0.343 m 1.042 " +
    "n 0.712 o 0.687 p 0.716 q 0.716 r 0.493 s 0.595 t 0.478 u 0.712 v 0.652 w 0.924 x 0.645 " +
    "y 0.652 z 0.582 { 0.712 | 0.365 } 0.712 ~ 0.838 × 0.838 ⁰ 0.438 ¹ 0.438 ² 0.438 " +
    "³ 0.438 ⁴ 0.438 ⁵ 0.438 ⁶ 0.438 ⁷ 0.438 ⁸ 0.438 ⁹ 0.438 ⁻ 0.528 → 0.838 ← 0.838 " +
    "↑ 0.838 ↓ 0.838 ≈ 0.838 – 0.5 — 1 µ 0.736 · 0.38 ÷ 0.838 ≤ 0.838 ≥ 0.838 … 1 ₂ 0.438 " +
    "’ 0.38 ‘ 0.38",
);

/** "c w c w ..." as a table; the first entry is the space, given as a leading " w". */
function widths(spec: string): Record<string, number> {
  const out: Record<string, number> = { " ": Number(spec.trim().split(" ")[0]) };
  const rest = spec.trim().split(" ").slice(1);
  for (let i = 0; i + 1 < rest.length; i += 2) out[rest[i]] = Number(rest[i + 1]);
  return out;
}

/** DejaVu Sans's ascent (hhea), in em: how far a line reaches above its baseline. */
export const ASCENT = 0.76;
/** Descent, in em. */
export const DESCENT = 0.24;

/** Width in px of `text` at `size` px, bold or not. */
export function textWidth(text: string, size: number, bold = false): number {
  const table = bold ? BOLD : SANS;
  let em = 0;
  for (const c of text) em += table[c] ?? 0.636;
  return em * size;
}
