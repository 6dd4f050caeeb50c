/**
 * The cost model file `deno task calibrate` writes: the ns per iteration and per
 * descriptor of lib/sweep/costmodel.ts measured on one machine, with their spread, the
 * number of samples, where they come from and how each stage of the recording matched the
 * model. JSON with a strict schema: every object holds exactly its keys (an unknown or
 * misspelled one is an error naming the nearest valid key, lib/util/keys.ts), every value
 * its type and range. {@linkcode parseCostModelFile} reads and checks one, and
 * {@linkcode costModelOf} turns it into the sweep's {@linkcode CostModel}; a bad file is a
 * {@linkcode CostModelFileError} whose one-line message names the file and the field.
 *
 *     {
 *       "format": "s2lab-cost-model", "version": 1,
 *       "machine": "host, Linux 6.16.0 aarch64, Neoverse-V2",
 *       "nsPerIteration":  { "mean": 21.3, "sd": 1.2, "min": 19.9, "max": 23.0 },
 *       "nsPerDescriptor": { "mean": 2.13, "sd": 0.12, "min": 1.99, "max": 2.3 },
 *       "descriptorRatio": 0.1, "samples": 12, "softLockupNs": 20000000000,
 *       "source": { "recording": ..., "recordingSha256": ..., "tracer": "function_graph",
 *                   "trace": ..., "traceSha256": ..., "program": ..., "shows": ...,
 *                   "strategy": "full-walk" },
 *       "stages": [{ "stage": 1, "event": 4, "op": "migrate", "iterations": 2048,
 *                    "descriptors": 2052, "walks": 2, "calls": 3, "samples": 3,
 *                    "ns": { "mean": ..., "sd": ..., "min": ..., "max": ... } }]
 *     }
 *
 * `descriptorRatio` is nsPerDescriptor / nsPerIteration as the fit assumed it
 * (lib/calibrate/fit.ts says why); `softLockupNs` is 2 x watchdog_thresh of the machine.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { CostModelFileError, costModelOf, parseCostModelFile } from "./model_file.ts";
 * const spread = (m: number) => ({ mean: m, sd: 0, min: m, max: m });
 * const file = {
 *   format: "s2lab-cost-model", version: 1, machine: "box", nsPerIteration: spread(25),
 *   nsPerDescriptor: spread(2.5), descriptorRatio: 0.1, samples: 1, softLockupNs: 2e10,
 *   source: { recording: "r.txt", recordingSha256: "a".repeat(64), tracer: "bpftrace",
 *     trace: "t.json", traceSha256: "b".repeat(64), program: "t", shows: "maple-v2",
 *     strategy: "full-walk" },
 *   stages: [{ stage: 1, event: 4, op: "migrate", iterations: 1024, descriptors: 1024,
 *     walks: 1, calls: 1, samples: 1, ns: spread(28160) }],
 * };
 * assertEquals(costModelOf(parseCostModelFile(JSON.stringify(file), "m.json")).nsPerIteration, 25);
 * assertThrows(
 *   () => parseCostModelFile(JSON.stringify({ ...file, nsPerIteraton: 1 }), "m.json"),
 *   CostModelFileError,
 *   'm.json: unknown key "nsPerIteraton" (did you mean "nsPerIteration"?)',
 * );
 * ```
 * @module
 */

import { type CostModel, defaultCostModel } from "../sweep/costmodel.ts";
import { COST_FLAGS, type CostBase } from "../sweep/spec.ts";
import { unknownKeys } from "../util/keys.ts";
import { type Tracer, TRACERS } from "./recording.ts";

/** The `format` value of a cost model file. */
export const COST_MODEL_FORMAT = "s2lab-cost-model";

/** The file format's version. */
export const COST_MODEL_VERSION = 1;

/** A measured quantity over the samples. */
export interface Spread {
  /** Arithmetic mean. */
  mean: number;
  /** Sample standard deviation (0 for one sample). */
  sd: number;
  /** Smallest sample. */
  min: number;
  /** Largest sample. */
  max: number;
}

/** Where the model comes from. */
export interface CostModelSource {
  /** The recording as named on the command line. */
  recording: string;
  /** Its SHA-256. */
  recordingSha256: string;
  /** The tool it came from. */
  tracer: Tracer;
  /** The trace the program was generated from. */
  trace: string;
  /** Its SHA-256. */
  traceSha256: string;
  /** The program. */
  program: string;
  /** The strategy the program was generated to show. */
  shows: string;
  /** The design the recorded kernel runs, whose counts the durations were matched to. */
  strategy: string;
}

/** The model's work for one host stage of the program. */
export interface StageModel {
  /** The program's stage. */
  stage: number;
  /** Its trace event. */
  event: number;
  /** Its host operation. */
  op: string;
  /** Iterations of the event's kvm_nested_s2_unmap(). */
  iterations: number;
  /** Descriptors its walks visited. */
  descriptors: number;
  /** kvm_stage2_unmap_range() calls it made (shadow MMUs walked). */
  walks: number;
}

/** One stage of the recording, matched to the model. */
export interface StageFit extends StageModel {
  /** kvm_nested_s2_unmap() calls recorded in the stage. */
  calls: number;
  /** Of them, the samples (the others are named in calibrate's notes). */
  samples: number;
  /** Their durations in ns (over the samples; zeros without samples). */
  ns: Spread;
}

/** A cost model file. */
export interface CostModelFile {
  /** {@linkcode COST_MODEL_FORMAT}. */
  format: typeof COST_MODEL_FORMAT;
  /** {@linkcode COST_MODEL_VERSION}. */
  version: typeof COST_MODEL_VERSION;
  /** Where it was measured. */
  machine: string;
  /** ns per iteration. */
  nsPerIteration: Spread;
  /** ns per descriptor. */
  nsPerDescriptor: Spread;
  /** nsPerDescriptor / nsPerIteration as the fit assumed it. */
  descriptorRatio: number;
  /** Calls the model was fitted to. */
  samples: number;
  /** Soft-lockup threshold there: 2 x watchdog_thresh, ns. */
  softLockupNs: number;
  /** Provenance. */
  source: CostModelSource;
  /** The recording's stages. */
  stages: StageFit[];
}

/** A cost model file that cannot be used: `FILE: field: problem`, one line. */
export class CostModelFileError extends Error {
  /** The one-line message. */
  constructor(message: string) {
    super(message);
    this.name = "CostModelFileError";
  }
}

type Obj = Record<string, unknown>;

const SPREAD_KEYS = ["mean", "sd", "min", "max"];
const SOURCE_KEYS = [
  "recording",
  "recordingSha256",
  "tracer",
  "trace",
  "traceSha256",
  "program",
  "shows",
  "strategy",
];
/**
 * The fields of one stage of a cost model file, in the file's order.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { STAGE_FIELDS } from "./model_file.ts";
 * assertEquals(STAGE_FIELDS.at(-1), "ns");
 * ```
 */
export const STAGE_FIELDS = [
  "stage",
  "event",
  "op",
  "iterations",
  "descriptors",
  "walks",
  "calls",
  "samples",
  "ns",
] as const satisfies readonly (keyof StageFit)[];
const FILE_KEYS = [
  "format",
  "version",
  "machine",
  "nsPerIteration",
  "nsPerDescriptor",
  "descriptorRatio",
  "samples",
  "softLockupNs",
  "source",
  "stages",
];

/** Read a cost model file's text (`label` names it in errors) and check it whole. */
export function parseCostModelFile(text: string, label: string): CostModelFile {
  const bad = (path: string, why: string): never => {
    throw new CostModelFileError(`${label}: ${path ? `${path}: ` : ""}${why}`);
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    bad("", `not JSON: ${(e as Error).message}`);
  }
  const obj = (v: unknown, path: string, keys: readonly string[]): Obj => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) bad(path, "expected an object");
    const o = v as Obj;
    const unknown = unknownKeys(o, keys);
    if (unknown.length > 0) bad(path, unknown[0].problem);
    for (const k of keys) if (!(k in o)) bad(path, `missing key "${k}"`);
    return o;
  };
  const at = (path: string, k: string) => (path ? `${path}.${k}` : k);
  const num = (o: Obj, path: string, k: string, min = 0, integer = false): number => {
    const v = o[k];
    if (
      typeof v !== "number" || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))
    ) {
      bad(
        at(path, k),
        `expected ${integer ? "a whole number" : "a number"} >= ${min}, got ${JSON.stringify(v)}`,
      );
    }
    return v as number;
  };
  const str = (o: Obj, path: string, k: string, re?: RegExp): string => {
    const v = o[k];
    if (typeof v !== "string" || v === "" || (re && !re.test(v))) {
      bad(
        at(path, k),
        `expected ${re ? `a string matching ${re}` : "a non-empty string"}, got ${
          JSON.stringify(v)
        }`,
      );
    }
    return v as string;
  };
  const spread = (v: unknown, path: string): Spread => {
    const o = obj(v, path, SPREAD_KEYS);
    const s = {
      mean: num(o, path, "mean"),
      sd: num(o, path, "sd"),
      min: num(o, path, "min"),
      max: num(o, path, "max"),
    };
    if (!(s.min <= s.mean && s.mean <= s.max)) bad(path, "expected min <= mean <= max");
    return s;
  };
  const hex64 = /^[0-9a-f]{64}$/;
  const top = obj(json, "", FILE_KEYS);
  if (top.format !== COST_MODEL_FORMAT) {
    bad("format", `expected "${COST_MODEL_FORMAT}", got ${JSON.stringify(top.format)}`);
  }
  if (top.version !== COST_MODEL_VERSION) {
    bad("version", `expected ${COST_MODEL_VERSION}, got ${JSON.stringify(top.version)}`);
  }
  const src = obj(top.source, "source", SOURCE_KEYS);
  const tracer = str(src, "source", "tracer");
  if (!(TRACERS as readonly string[]).includes(tracer)) {
    bad("source.tracer", `expected one of ${TRACERS.join(", ")}, got "${tracer}"`);
  }
  if (!Array.isArray(top.stages) || top.stages.length === 0) {
    bad("stages", "expected a non-empty array");
  }
  const file: CostModelFile = {
    format: COST_MODEL_FORMAT,
    version: COST_MODEL_VERSION,
    machine: str(top, "", "machine"),
    nsPerIteration: spread(top.nsPerIteration, "nsPerIteration"),
    nsPerDescriptor: spread(top.nsPerDescriptor, "nsPerDescriptor"),
    descriptorRatio: num(top, "", "descriptorRatio"),
    samples: num(top, "", "samples", 1, true),
    softLockupNs: num(top, "", "softLockupNs", 1),
    source: {
      recording: str(src, "source", "recording"),
      recordingSha256: str(src, "source", "recordingSha256", hex64),
      tracer: tracer as Tracer,
      trace: str(src, "source", "trace"),
      traceSha256: str(src, "source", "traceSha256", hex64),
      program: str(src, "source", "program"),
      shows: str(src, "source", "shows"),
      strategy: str(src, "source", "strategy"),
    },
    stages: (top.stages as unknown[]).map((v, i) => {
      const p = `stages[${i}]`;
      const o = obj(v, p, STAGE_FIELDS);
      return {
        stage: num(o, p, "stage", 1, true),
        event: num(o, p, "event", 0, true),
        op: str(o, p, "op"),
        iterations: num(o, p, "iterations", 0, true),
        descriptors: num(o, p, "descriptors", 0, true),
        walks: num(o, p, "walks", 0, true),
        calls: num(o, p, "calls", 0, true),
        samples: num(o, p, "samples", 0, true),
        ns: spread(o.ns, `${p}.ns`),
      };
    }),
  };
  if (file.nsPerIteration.mean <= 0) bad("nsPerIteration.mean", "expected a number > 0");
  const sum = file.stages.reduce((n, s) => n + s.samples, 0);
  if (sum !== file.samples) bad("samples", `${file.samples}, but the stages hold ${sum}`);
  // The sweep takes the model's fields in the ranges its cost flags accept, and the
  // threshold as a whole ns (as --watchdog-thresh gives it).
  for (const m of COST_MODEL_FILE_FIELDS) {
    const v = m.of(file);
    const f = COST_FLAGS.find((f) => f.field === m.field)!;
    const [lo, hi] = f.range.map(f.toModel);
    if (v < lo || v > hi) {
      bad(m.path, `${v} is out of range (${lo}..${hi}, as --${f.flag} ${f.range.join("..")})`);
    }
  }
  if (!Number.isInteger(file.softLockupNs)) {
    bad("softLockupNs", `expected a whole number, got ${file.softLockupNs}`);
  }
  return file;
}

/** A cost-model field a cost model file sets: the field, where the file holds it, its value. */
export interface CostModelFileField {
  /** The sweep's cost-model field. */
  readonly field: keyof CostModel;
  /** Its place in the file, as error messages name it. */
  readonly path: string;
  /** Its value in a file. */
  readonly of: (file: CostModelFile) => number;
}

/**
 * The cost-model fields a file sets: the means per iteration and per descriptor and the
 * soft-lockup threshold. The ns per shadow fault is not measured by a recording and keeps
 * {@linkcode defaultCostModel}'s.
 */
export const COST_MODEL_FILE_FIELDS: readonly CostModelFileField[] = [
  { field: "nsPerIteration", path: "nsPerIteration.mean", of: (f) => f.nsPerIteration.mean },
  { field: "nsPerDescriptor", path: "nsPerDescriptor.mean", of: (f) => f.nsPerDescriptor.mean },
  { field: "softLockupNs", path: "softLockupNs", of: (f) => f.softLockupNs },
];

/** The sweep's cost model from a file: {@linkcode COST_MODEL_FILE_FIELDS} over the default. */
export function costModelOf(file: CostModelFile): CostModel {
  const model = defaultCostModel();
  for (const m of COST_MODEL_FILE_FIELDS) model[m.field] = m.of(file);
  return model;
}

/** A file's cost model in one line, for figures and tables: what, where, how many samples. */
export function describeCostModel(file: CostModelFile): string {
  const f = (x: number) => Number(x.toPrecision(3)).toString();
  return `measured on ${file.machine}: ${f(file.nsPerIteration.mean)} ns/iteration (sd ${
    f(file.nsPerIteration.sd)
  }, ${file.samples} sample${file.samples === 1 ? "" : "s"}), ${
    f(file.nsPerDescriptor.mean)
  } ns/descriptor, ${file.source.tracer} recording ${file.source.recording}`;
}

/**
 * Read and check a cost model file: its {@linkcode CostModelFile}, the sweep's
 * {@linkcode CostModel} and its origin (`PATH: ` and {@linkcode describeCostModel}), the
 * {@linkcode CostBase} of `--cost-model PATH`. An unreadable file is a
 * {@linkcode CostModelFileError} too.
 */
export async function readCostModelFile(
  path: string,
): Promise<CostBase & { file: CostModelFile }> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "no such file or directory"
      : e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable
      ? "permission denied"
      : e instanceof Deno.errors.IsADirectory
      ? "is a directory"
      : e instanceof TypeError
      ? "not UTF-8 text"
      : (e as Error).message.split("\n")[0];
    throw new CostModelFileError(`${path}: cannot read: ${why}`);
  }
  const file = parseCostModelFile(text, path);
  return { file, model: costModelOf(file), origin: `${path}: ${describeCostModel(file)}` };
}
