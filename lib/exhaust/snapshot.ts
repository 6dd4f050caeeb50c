/**
 * An in-place snapshot of an object graph (a VM with its design attached): taking it
 * records every object reachable from the roots (own enumerable properties, array
 * elements, Map and Set entries, the bytes of every ArrayBuffer, resizable ones with their
 * length); restoring it writes all of that back into the same objects, so that the graph
 * is as it was, whatever ran since. The objects keep their identity, so the closures the
 * engine and the designs hold (the shadow tables' removal hooks, the design's `ShadowOps`)
 * stay bound to the right objects: nothing is cloned.
 *
 * The exhaustive checker takes one per state it expands and restores it before each
 * successor: far cheaper than building the VM again and replaying the state's events
 * (each VM build allocates dozens of typed arrays). What a snapshot cannot see: state held
 * only in a closure's variables, in `#private` fields, in a WeakMap, or in module
 * variables. The built-in engine and designs keep none (a test re-executes states from
 * the root and compares); a WeakMap, WeakSet or WeakRef in the graph is refused.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { GraphSnapshot } from "./snapshot.ts";
 * const vm = { n: 1, list: [1, 2], bytes: new Uint8Array(4), m: new Map([["a", 1]]) };
 * const snap = new GraphSnapshot();
 * snap.take([vm]);
 * vm.n = 2;
 * vm.list.push(3);
 * vm.bytes[0] = 9;
 * vm.m.set("b", 2);
 * (vm as Record<string, unknown>).extra = true;
 * snap.restore();
 * assertEquals(vm, { n: 1, list: [1, 2], bytes: new Uint8Array(4), m: new Map([["a", 1]]) });
 * ```
 * @module
 */

type Obj = Record<string, unknown>;

/** Writes recorded values back into an object of one shape (its keys, in order). */
type Restorer = (o: Obj, vs: unknown[]) => void;

/**
 * Restorers compiled per shape: property names as constants, so that each property access
 * is a named one (a string per key is far slower). For a plain object the restorer also
 * deletes properties added since; a class instance has every field its class declares from
 * construction (class fields are defined, not assigned), so none is ever added.
 */
const restorers = new Map<string, Restorer>();

function restorerFor(ks: string[], plain: boolean): Restorer {
  const sig = (plain ? "p" : "c") + ks.join("\u0000");
  let r = restorers.get(sig);
  if (!r) {
    const body = ks.map((k, j) => {
      const key = JSON.stringify(k);
      return `if (o[${key}] !== v[${j}]) o[${key}] = v[${j}];`;
    });
    if (plain) {
      body.push(
        `let n = 0; for (const k in o) if (Object.hasOwn(o, k)) n++;`,
        `if (n !== ${ks.length}) { const known = new Set(${JSON.stringify(ks)});`,
        `for (const k of Object.keys(o)) if (!known.has(k)) delete o[k]; }`,
      );
    }
    r = new Function("o", "v", body.join("\n")) as Restorer;
    restorers.set(sig, r);
  }
  return r;
}

const isObject = (v: unknown): v is object =>
  v !== null && (typeof v === "object" || typeof v === "function");

/** A reusable in-place snapshot of everything reachable from some roots. */
export class GraphSnapshot {
  private objs: Obj[] = [];
  private fns: Restorer[] = [];
  private vals: unknown[][] = [];
  private arrs: unknown[][] = [];
  private arrVals: unknown[][] = [];
  private maps: Map<unknown, unknown>[] = [];
  private mapVals: unknown[][] = [];
  private sets: Set<unknown>[] = [];
  private setVals: unknown[][] = [];
  private bufs: ArrayBuffer[] = [];
  /** Per buffer: a byte view of it (length-tracking when it is resizable), and its copy. */
  private bufViews: Uint8Array[] = [];
  private bufData: Uint8Array[] = [];
  private nObjs = 0;
  private nArrs = 0;
  private nMaps = 0;
  private nSets = 0;
  private nBufs = 0;

  /** Bytes of ArrayBuffers the last {@linkcode take} copied. */
  get bytes(): number {
    let b = 0;
    for (let i = 0; i < this.nBufs; i++) b += this.bufData[i].length;
    return b;
  }

  /** Objects, arrays, maps, sets and buffers the last {@linkcode take} recorded. */
  get size(): number {
    return this.nObjs + this.nArrs + this.nMaps + this.nSets + this.nBufs;
  }

  /**
   * Record everything reachable from `roots` (reusing this snapshot's storage). Functions
   * are recorded as values and not entered: their captured variables are not seen.
   */
  take(roots: readonly object[]): void {
    this.nObjs =
      this.nArrs =
      this.nMaps =
      this.nSets =
      this.nBufs =
        0;
    const seen = new Set<object>(roots);
    const stack: object[] = [...roots];
    const visit = (v: unknown) => {
      if (isObject(v) && typeof v !== "function" && !seen.has(v)) {
        seen.add(v);
        stack.push(v);
      }
    };
    while (stack.length > 0) {
      const o = stack.pop()!;
      if (ArrayBuffer.isView(o)) visit(o.buffer);
      else if (o instanceof ArrayBuffer) this.recordBuffer(o);
      else if (Array.isArray(o)) {
        const i = this.nArrs++;
        this.arrs[i] = o;
        this.arrVals[i] = o.slice();
        for (const x of o) visit(x);
      } else if (o instanceof Map) {
        const flat: unknown[] = [];
        for (const [k, x] of o) {
          flat.push(k, x);
          visit(k);
          visit(x);
        }
        const i = this.nMaps++;
        this.maps[i] = o;
        this.mapVals[i] = flat;
      } else if (o instanceof Set) {
        const flat = [...o];
        for (const x of flat) visit(x);
        const i = this.nSets++;
        this.sets[i] = o;
        this.setVals[i] = flat;
      } else if (
        o instanceof WeakMap || o instanceof WeakSet || o instanceof WeakRef ||
        o instanceof SharedArrayBuffer || o instanceof Promise
      ) {
        throw new TypeError(
          `cannot snapshot a ${o.constructor.name}: its contents are not reachable`,
        );
      } else {
        const ks = Object.keys(o);
        const vs = new Array(ks.length);
        for (let j = 0; j < ks.length; j++) {
          const x = (o as Obj)[ks[j]];
          vs[j] = x;
          visit(x);
        }
        const i = this.nObjs++;
        this.objs[i] = o as Obj;
        const proto = Object.getPrototypeOf(o);
        this.fns[i] = restorerFor(ks, proto === Object.prototype || proto === null);
        this.vals[i] = vs;
      }
    }
  }

  private recordBuffer(b: ArrayBuffer): void {
    const i = this.nBufs++;
    const old = this.bufData[i];
    if (this.bufs[i] !== b) {
      this.bufs[i] = b;
      this.bufViews[i] = new Uint8Array(b);
    }
    if (old && old.length === b.byteLength) old.set(this.bufViews[i]);
    else this.bufData[i] = this.bufViews[i].slice();
  }

  /** Write the recorded state back into the recorded objects. */
  restore(): void {
    for (let i = 0; i < this.nObjs; i++) this.fns[i](this.objs[i], this.vals[i]);
    for (let i = 0; i < this.nArrs; i++) {
      const a = this.arrs[i], v = this.arrVals[i];
      if (a.length !== v.length) a.length = v.length;
      for (let j = 0; j < v.length; j++) if (a[j] !== v[j]) a[j] = v[j];
    }
    for (let i = 0; i < this.nMaps; i++) {
      const m = this.maps[i], flat = this.mapVals[i];
      m.clear();
      for (let j = 0; j < flat.length; j += 2) m.set(flat[j], flat[j + 1]);
    }
    for (let i = 0; i < this.nSets; i++) {
      const s = this.sets[i];
      s.clear();
      for (const x of this.setVals[i]) s.add(x);
    }
    for (let i = 0; i < this.nBufs; i++) {
      const v = this.bufViews[i], d = this.bufData[i];
      if (v.length !== d.length) this.bufs[i].resize(d.length);
      v.set(d);
    }
  }
}
