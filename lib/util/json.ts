/**
 * JSON input that fails to parse is reported as one line saying where and what was
 * expected (`line 2, column 20: expected a property name in double quotes, found "}"`),
 * rather than the engine's message, which may quote the input across lines or give no
 * position at all.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { JsonSyntaxError, parseJson } from "./json.ts";
 * assertEquals(parseJson('{"a": [1, 2]}'), { a: [1, 2] });
 * const e = assertThrows(() => parseJson('{"a": 1,\n "b": }'), JsonSyntaxError);
 * assertEquals(e.message, 'line 2, column 7: expected a value, found "}"');
 * assertEquals([e.line, e.column], [2, 7]);
 * assertThrows(() => parseJson("hello\nworld"), JsonSyntaxError, "line 1, column 1: expected a value, found \"h\"");
 * ```
 * @module
 */

/** Text that is not JSON: where (1-based line and column) and what was expected there. */
export class JsonSyntaxError extends SyntaxError {
  /** 1-based line of the first character that is not JSON. */
  readonly line: number;
  /** 1-based column (UTF-16 code units) on that line. */
  readonly column: number;
  /** `line L, column C: expected …, found …`. */
  constructor(line: number, column: number, problem: string) {
    super(`line ${line}, column ${column}: ${problem}`);
    this.line = line;
    this.column = column;
    this.name = "JsonSyntaxError";
  }
}

/** `JSON.parse(text)`, or a {@linkcode JsonSyntaxError} naming where and what was expected. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    throw locateJsonError(text) ?? new JsonSyntaxError(1, 1, e.message.split("\n")[0]);
  }
}

/** Thrown inside the scanner at the offending offset. */
class Stop {
  constructor(readonly at: number, readonly expected: string) {}
}

/**
 * Where `text` stops being JSON (RFC 8259) and what was expected there, or null when it is
 * JSON.
 */
export function locateJsonError(text: string): JsonSyntaxError | null {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const expect = (c: string, what: string) => {
    if (text[i] !== c) throw new Stop(i, what);
    i++;
  };
  const digits = (what: string) => {
    if (!/[0-9]/.test(text[i] ?? "")) throw new Stop(i, what);
    while (/[0-9]/.test(text[i] ?? "")) i++;
  };
  const string = () => {
    i++; // the opening quote
    for (;;) {
      if (i >= text.length) throw new Stop(i, 'a closing " of the string');
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) throw new Stop(i, "a character of the string (escape control characters)");
      if (c === 0x5c) {
        i++;
        if (text[i] === "u") {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) {
              throw new Stop(i + k, "four hex digits after \\u");
            }
          }
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? "x")) {
          throw new Stop(i, 'an escape (one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)');
        }
      }
      i++;
    }
    i++;
  };
  /** The comma-separated items of an object or array, from its opening to `close`. */
  const items = (close: string, item: () => void, after: string) => {
    i++;
    ws();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      item();
      ws();
      if (text[i] === close) break;
      expect(",", `"," or "${close}" after ${after}`);
    }
    i++;
  };
  const member = () => {
    ws();
    if (text[i] !== '"') throw new Stop(i, "a property name in double quotes");
    string();
    ws();
    expect(":", '":" after the property name');
    value();
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") items("}", member, "the property value");
    else if (c === "[") items("]", value, "the array element");
    else if (c === '"') string();
    else if (c === "-" || /[0-9]/.test(c ?? "")) {
      if (c === "-") i++;
      if (text[i] === "0") i++;
      else digits("a digit");
      if (text[i] === ".") {
        i++;
        digits("a digit after the decimal point");
      }
      if (text[i] === "e" || text[i] === "E") {
        i++;
        if (text[i] === "+" || text[i] === "-") i++;
        digits("a digit of the exponent");
      }
    } else {
      for (const word of ["true", "false", "null"]) {
        if (text.startsWith(word, i)) {
          i += word.length;
          return;
        }
      }
      throw new Stop(i, "a value");
    }
  };
  try {
    value();
    ws();
    if (i < text.length) throw new Stop(i, "the end of the input after the JSON value");
    return null;
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    const before = text.slice(0, e.at);
    const line = before.split("\n").length;
    const column = e.at - (before.lastIndexOf("\n") + 1) + 1;
    return new JsonSyntaxError(line, column, `expected ${e.expected}, found ${found(text, e.at)}`);
  }
}

/** The character at `at`, as a message shows it. */
function found(text: string, at: number): string {
  if (at >= text.length) return "the end of the input";
  const cp = text.codePointAt(at)!;
  if (cp === 0xfeff) return "a byte-order mark (U+FEFF)";
  if (cp > 0x20 && cp < 0x7f) return JSON.stringify(String.fromCodePoint(cp));
  return `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
}
