/**
 * Progress a person can trust, for every task that can run longer than a few seconds
 * (sweep, fuzz, mutate, cases): driven by the work done (events replayed, traces, test
 * runs), redrawn on a timer so that elapsed time and ETA move between updates. On a
 * terminal one line redrawn in place every second; elsewhere one plain line on stderr every
 * few seconds; nothing with `quiet`. A caller whose work runs synchronously still gets its
 * lines: an update draws when a line is due.
 *
 * The ETA is elapsed × (work left / work done): the caller measures work in a unit whose
 * cost per unit is steady (events, not grid points of very different sizes).
 *
 * @module
 */

/** A running progress display. */
export interface Progress {
  /** Work done so far (in the unit given), and an optional note (what runs now). */
  update(done: number, note?: string): void;
  /** The total changed (e.g. learned once the work is generated). */
  setTotal(total: number): void;
  /** Stop redrawing; the last state stays on screen (or is printed once more). */
  stop(): Promise<void>;
}

/** Options of {@linkcode startProgress}. */
export interface ProgressOptions {
  /** What runs, e.g. `sweep`. */
  label: string;
  /** Total work, in `unit` (0 when unknown yet). */
  total: number;
  /** The unit of work, e.g. `events`; `%` shows the fraction done only (any scale). */
  unit: string;
  /** No output at all. */
  quiet?: boolean;
  /** Seconds between plain lines when stderr is not a terminal (default 5). */
  everySeconds?: number;
}

/** Seconds as `1h02m`, `3m05s` or `42s`. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  const t = Math.round(s);
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  return m > 0 ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}

/** A count with thousands separators. */
function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** The ETA in seconds from elapsed seconds and the fraction done (Infinity before any work). */
export function eta(elapsedS: number, done: number, total: number): number {
  if (done <= 0 || total <= 0) return Infinity;
  return elapsedS * Math.max(0, total - done) / done;
}

/** Start a progress display (see the module doc). */
export function startProgress(opts: ProgressOptions): Progress {
  let done = 0, total = opts.total, note = "";
  const t0 = performance.now();
  const percentOnly = opts.unit === "%";
  const line = (elapsedS: number) => {
    const p = total > 0 ? Math.min(100, Math.floor((100 * done) / total)) : 0;
    const counts = percentOnly
      ? `${p}% of the work`
      : `${fmt(done)}${total > 0 ? `/${fmt(total)}` : ""} ${opts.unit}${
        total > 0 ? ` (${p}%)` : ""
      }`;
    return `${opts.label}: ${counts}, ` +
      `${formatDuration(elapsedS)} elapsed, ETA ${formatDuration(eta(elapsedS, done, total))}` +
      (note ? `; ${note}` : "");
  };
  if (opts.quiet) {
    return {
      update: (d, n) => (done = d, note = n ?? note),
      setTotal: (t) => (total = t),
      stop: () => Promise.resolve(),
    };
  }
  // Drawn on a timer (elapsed time moves while no work is reported) and from update() when a
  // draw is due: a check that runs synchronously (a replay loop) starves the timer.
  const terminal = Deno.stderr.isTerminal();
  const every = (opts.everySeconds ?? (terminal ? 1 : 5)) * 1000;
  const encoder = new TextEncoder();
  const draw = terminal
    ? (text: string) => Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${text}`))
    : (text: string) => console.error(text);
  let last = performance.now();
  const tick = () => {
    last = performance.now();
    draw(line((last - t0) / 1000));
  };
  const id = setInterval(tick, every);
  return {
    update: (d, n) => {
      done = d;
      note = n ?? note;
      if (performance.now() - last >= every) tick();
    },
    setTotal: (t) => (total = t),
    stop: () => {
      clearInterval(id);
      tick();
      if (terminal) console.error();
      return Promise.resolve();
    },
  };
}
